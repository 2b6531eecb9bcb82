"""Channels as Asterisk 22 names and describes them in AMI events (pure data, no I/O)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dialer.simulator.timers import TimerHandle

DOWN, RING, RINGING, UP, BUSY = 0, 4, 5, 6, 7
STATE_DESC = {DOWN: "Down", RING: "Ring", RINGING: "Ringing", UP: "Up", BUSY: "Busy"}

# Q.850 cause texts, as Asterisk's ast_cause2str() words them
CAUSE_TXT = {
    0: "Unknown",
    1: "Unallocated (unassigned) number",
    16: "Normal Clearing",
    17: "User busy",
    18: "No user responding",
    19: "User alerting, no answer",
    21: "Call Rejected",
    34: "Circuit/channel congestion",
}

UNKNOWN = "<unknown>"


def cause_text(cause: int) -> str:
    return CAUSE_TXT.get(cause, "Unknown")


class IdAllocator:
    """Uniqueids (``<epoch>.<n>``, epoch read at each allocation, as Asterisk does) and
    the 8-hex-digit sequence in channel names (``Local/x@ctx-0000000a;1``)."""

    def __init__(self, wall_clock: Callable[[], float] = time.time) -> None:
        self._wall = wall_clock
        self._unique = 0
        self._chan_seq = 0

    def uniqueid(self) -> str:
        n = self._unique
        self._unique += 1
        return f"{int(self._wall())}.{n}"

    def channel_seq(self) -> str:
        n = self._chan_seq
        self._chan_seq += 1
        return f"{n:08x}"


@dataclass(eq=False)
class Channel:
    """One channel (for a Local channel, one of its two halves)."""

    name: str
    uniqueid: str
    linkedid: str
    context: str
    exten: str
    created_at: float
    state: int = DOWN
    priority: int = 1
    caller_num: str = UNKNOWN
    caller_name: str = UNKNOWN
    connected_num: str = UNKNOWN
    connected_name: str = UNKNOWN
    variables: dict[str, str] = field(default_factory=dict)
    peer: Channel | None = None  # the other half of a Local channel
    alive: bool = True
    hangup_cause: int = 0
    # what the channel runs now: dialplan position or an originated application
    app: str = ""
    app_data: str = ""
    in_dialplan: bool = False
    timer: TimerHandle | None = None
    conference: Any = None  # the Conference it is in
    on_hangup: list[Callable[[], None]] = field(default_factory=list)  # run before it goes
    dial: Any = None  # the pending originate, while this ;1 half is being dialled
    plan: Any = None  # the customer's behaviour, on a customer ;2 half
    spying_on: Channel | None = None
    spied_by: list[Channel] = field(default_factory=list)
    answered_at: float | None = None
    recording: Any = None  # the SimRecording MixMonitor runs on it

    @property
    def device(self) -> str:
        """The device name (``Local/5511...@cust-sim``) used by DeviceStateChange."""
        return self.name.rsplit("-", 1)[0]

    def snapshot(self, prefix: str = "") -> list[tuple[str, str]]:
        """The channel block Asterisk repeats in every channel event, in its order."""
        return [
            (prefix + "Channel", self.name),
            (prefix + "ChannelState", str(self.state)),
            (prefix + "ChannelStateDesc", STATE_DESC.get(self.state, "Unknown")),
            (prefix + "CallerIDNum", self.caller_num),
            (prefix + "CallerIDName", self.caller_name),
            (prefix + "ConnectedLineNum", self.connected_num),
            (prefix + "ConnectedLineName", self.connected_name),
            (prefix + "Language", "en"),
            (prefix + "AccountCode", ""),
            (prefix + "Context", self.context),
            (prefix + "Exten", self.exten),
            (prefix + "Priority", str(self.priority)),
            (prefix + "Uniqueid", self.uniqueid),
            (prefix + "Linkedid", self.linkedid),
        ]

    def cancel_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


def parse_caller_id(value: str) -> tuple[str, str]:
    """``'Cobra <551130000000>'`` → (name, number), like ast_callerid_parse (``<unknown>`` if absent)."""
    value = value.strip()
    if "<" in value and value.endswith(">"):
        name, _, num = value[:-1].partition("<")
        name = name.strip().strip('"')
        return (name or UNKNOWN, num.strip() or UNKNOWN)
    if value and all(c.isdigit() or c in "+*#" for c in value):
        return (UNKNOWN, value)
    return (value or UNKNOWN, UNKNOWN)
