"""A live call as the floor follows it (pure, mutable; only :class:`~dialer.floor.model.Floor` changes it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dialer.agents.desktop import ScreenPop
from dialer.calls.refs import AttemptRef
from dialer.floor.campaigns import CampaignInfo


@dataclass(eq=False, slots=True)
class FloorCall:
    ref: AttemptRef
    campaign: CampaignInfo
    number: str  # E.164 with '+'
    pop: ScreenPop | None  # built when the lead was claimed (stamped with the routing time); None: adopted
    preview: bool
    owner_id: int | None = None  # owned callback: the agent it belongs to
    agent_id: int | None = None  # agent reserved for / connected to it
    channel: str | None = None  # customer channel (the one Redirect moves)
    originated: bool = False
    answered: bool = False
    connected: bool = False
    amd_machine: bool = False
    amd: bool = False  # originated into cobra-amd: routed only after a person verdict
    amd_pending: bool = False  # answered, AMD still listening
    dialled_at: float = 0.0  # loop time of the originate
    answered_at: float | None = None  # loop time of the answer
    routable_at: float | None = None  # loop time a person was known to be on the line
    ended_at: float | None = None
    talk_s: float = 0.0  # PBX seconds connected (set when it ends)
    adopted: bool = False  # left by a process that stopped: followed to its end and stored, never routed
    recorded_at: float | None = None  # loop time MixMonitor was asked for (None: not recorded)
    muted_step: str | None = None  # the sensitive script step its recording is muted for
    ringing_at: datetime | None = None  # when the customer's phone started ringing (stored with the end, for QA)
    hangup_by: str | None = None  # "agent" (Desligar) or "system" when the dialer hung the customer up
    # no agent will be given to it any more (its agent was freed: a refused Redirect, the connect guard, a lost
    # leg past the window); it only waits for its end, which the tracker judges (abandoned or not) from its Hangup
    given_up: bool = False

    @property
    def id(self) -> str:
        return self.ref.attempt_id

    @property
    def waiting(self) -> bool:
        """Counts as "in progress" for pacing: ringing or answered with no agent yet."""
        return (
            not self.preview and self.agent_id is None and self.owner_id is None and not self.connected
            and not self.given_up
        )
