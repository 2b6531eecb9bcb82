"""How the dialer dials: timeouts, windows, recording (``web/`` builds it from ``[dialer]``)."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

from dialer.floor.identity import DEFAULT_OTHER_QUESTION, OtherQuestion


def _default_claimer() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


@dataclass(frozen=True, slots=True)
class DialerSettings:
    """How the runtime dials; ``web/`` builds it from ``[dialer]`` in the configuration."""

    # PBX seconds an answered person waits for an agent before the dialplan drops them (an abandon):
    # sent to the PBX as COBRA_CONNECT_WINDOW; the floor's own timers use connect_window_loop_s
    connect_window_s: float = 2.0
    ring_timeout_s: float = 25.0
    tick_s: float = 0.5  # a campaign change is in force within a tick; the pacer decides every tick
    wrapup_max_s: float | None = None  # None: wrap-up lasts until the agent disposes
    recordings_dir: Path | None = None
    recording: bool = True
    pbx_name: str = "default"
    claimer: str = field(default_factory=_default_claimer)  # lead lease owner (SPEC §9)
    lead_lease_s: float = 900.0
    agent_ring_timeout_s: float = 30.0
    stop_timeout_s: float = 5.0
    # QA: a right-party outcome on a call shorter than this is flagged (dialer.qa.flags; [qa] short_call_s)
    qa_short_call_s: int = 30
    # loop seconds per call second for those QA rules (None: clock_scale); the demo sets its --speed here
    qa_time_scale: float | None = None
    reprioritise_timeout_s: float = 120.0  # one campaign's re-ranking (start-up and after each midnight)
    # Loop seconds per PBX second: 1 against Asterisk; the simulator's time_scale in tests,
    # so pacing (which measures ring, talk and wrap times) works in the PBX's seconds.
    # ring_timeout_s (the Originate's Timeout) and connect_window_s (COBRA_CONNECT_WINDOW) are
    # in PBX seconds; tick_s, wrapup_max_s and the other timeouts are in loop seconds.
    clock_scale: float = 1.0
    # the identity check's third question and the stored field it checks ([identity])
    identity_question: OtherQuestion = DEFAULT_OTHER_QUESTION

    def __post_init__(self) -> None:
        if not 0 < self.tick_s <= 1.0:
            raise ValueError(f"tick_s: must be > 0 and <= 1 s, got {self.tick_s!r}")
        if not self.connect_window_s > 0:
            raise ValueError(f"connect_window_s: must be > 0, got {self.connect_window_s!r}")
        if not self.ring_timeout_s > 0:
            raise ValueError(f"ring_timeout_s: must be > 0, got {self.ring_timeout_s!r}")
        if self.wrapup_max_s is not None and not self.wrapup_max_s > 0:
            raise ValueError(f"wrapup_max_s: must be > 0 or None, got {self.wrapup_max_s!r}")
        if self.recording and self.recordings_dir is None:
            raise ValueError("recordings_dir: needed when recording is on")
        if not self.reprioritise_timeout_s > 0:
            raise ValueError(f"reprioritise_timeout_s: must be > 0, got {self.reprioritise_timeout_s!r}")
        if not self.clock_scale > 0:
            raise ValueError(f"clock_scale: must be > 0, got {self.clock_scale!r}")
        if self.qa_time_scale is not None and not self.qa_time_scale > 0:
            raise ValueError(f"qa_time_scale: must be > 0 or None, got {self.qa_time_scale!r}")

    @property
    def connect_window_loop_s(self) -> float:
        """The connect window in loop seconds (the one conversion: AMI events and the floor's timers run on the loop)."""
        return self.connect_window_s * self.clock_scale


FloorSettings = DialerSettings
