"""A campaign as the floor dials it: status, mode, dial template and pacing limits (pure)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from dialer.pacing.live import PacingSettings
from dialer.pacing.pacer import PacingMode


class DialMode(str, enum.Enum):
    """Same values as ``storage.models.CampaignMode`` (storage imports nothing of ours)."""

    MANUAL = "manual"
    PREVIEW = "preview"
    PROGRESSIVE = "progressive"
    PREDICTIVE = "predictive"


RUNNING = "active"  # the stored status of a campaign that dials


@dataclass(frozen=True, slots=True)
class CampaignInfo:
    """One campaign's dialing settings; the floor replaces the whole value on every change."""

    id: int
    name: str
    mode: DialMode
    dial_template: str
    caller_id: str | None
    status: str  # "active", "paused", "stopped"
    max_dial_level: float = 3.0
    abandon_cap: float = 0.03
    amd_enabled: bool = False
    script_key: str | None = None  # the published script its calls run (None: the default)
    record: bool = True  # MixMonitor on every connected call (SPEC §3)

    @property
    def running(self) -> bool:
        return self.status == RUNNING

    @property
    def dials(self) -> bool:
        """Whether the dialer places this campaign's calls (running, progressive or predictive)."""
        return self.running and self.mode in (DialMode.PROGRESSIVE, DialMode.PREDICTIVE)

    def pacing_settings(self) -> PacingSettings:
        return PacingSettings(PacingMode(self.mode.value), self.max_dial_level, self.abandon_cap, self.amd_enabled)

    def dialing_differs(self, other: CampaignInfo) -> bool:
        """Whether ``other`` changes how this campaign dials (worth a log line and a re-plan)."""
        return (
            self.status,
            self.mode,
            self.max_dial_level,
            self.abandon_cap,
            self.amd_enabled,
            self.dial_template,
        ) != (
            other.status,
            other.mode,
            other.max_dial_level,
            other.abandon_cap,
            other.amd_enabled,
            other.dial_template,
        )
