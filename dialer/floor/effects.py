"""What the floor model asks the outside world to do (pure values; :mod:`dialer.executor` carries them out)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeAlias

from dialer.agents.desktop import CallPhase, Disposition, ScreenPop
from dialer.agents.state import AgentStatus
from dialer.ami.actions import Hangup, MixMonitor, MixMonitorMute, Originate, Redirect
from dialer.calls.refs import AttemptRef

# ---------------------------------------------------------------- AMI


@dataclass(frozen=True, slots=True)
class SendOriginate:
    """Place ``action``; if Asterisk refuses it, feed the floor ``originate_refused``."""

    action: Originate
    what: str  # "call" or "leg": names the task in logs


@dataclass(frozen=True, slots=True)
class SendRedirect:
    """Move the customer into the agent's conference; if Asterisk refuses it, feed the floor ``redirect_failed``."""

    action: Redirect
    call_id: str
    user_id: int  # the agent reserved for it


@dataclass(frozen=True, slots=True)
class SendHangup:
    action: Hangup
    why: str


@dataclass(frozen=True, slots=True)
class SendRecord:
    action: MixMonitor
    call_id: str


@dataclass(frozen=True, slots=True)
class SendRecordMute:
    """Mute or unmute a call's recording (a sensitive script step began or ended)."""

    action: MixMonitorMute
    call_id: str


# ---------------------------------------------------------------- agent desk


@dataclass(frozen=True, slots=True)
class NotifyState:
    user_id: int
    status: AgentStatus
    at: datetime


@dataclass(frozen=True, slots=True)
class NotifyPop:
    user_id: int
    pop: ScreenPop


@dataclass(frozen=True, slots=True)
class NotifyPhase:
    user_id: int
    call_id: str
    phase: CallPhase
    at: datetime


@dataclass(frozen=True, slots=True)
class NotifyEnded:
    user_id: int
    call_id: str
    result: str
    cause: int | None
    at: datetime


@dataclass(frozen=True, slots=True)
class NotifyError:
    user_id: int
    code: str
    message: str


# ---------------------------------------------------------------- storage (in the order emitted)


@dataclass(frozen=True, slots=True)
class StoreStateChange:
    user_id: int
    from_state: str
    to_state: str
    at: datetime
    reason: str | None


@dataclass(frozen=True, slots=True)
class StoreOriginated:
    """A preview's "Ligar": the attempt's originate time."""

    call_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class StoreAnswered:
    call_id: str
    at: datetime
    channel: str
    uniqueid: str
    agent_id: int | None


@dataclass(frozen=True, slots=True)
class StoreConnected:
    call_id: str
    at: datetime
    agent_id: int
    agent_channel: str | None
    recording_path: str | None


@dataclass(frozen=True, slots=True)
class StoreAmd:
    call_id: str
    status: str
    cause: str | None


@dataclass(frozen=True, slots=True)
class StoreEnded:
    ref: AttemptRef
    at: datetime
    cause: int
    connected: bool
    abandoned: bool
    duration_s: float
    amd_machine: bool
    ringing_at: datetime | None = None
    side: str | None = None  # who hung up: agent, customer, system (QA timeline)


@dataclass(frozen=True, slots=True)
class StoreFailed:
    ref: AttemptRef
    result: str
    originate_reason: int
    cause: int | None
    at: datetime
    ringing_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class StoreCancelled:
    """A claimed lead that was never dialled: due again at once, its callback reopened."""

    ref: AttemptRef
    at: datetime


@dataclass(frozen=True, slots=True)
class StoreRecordingGap:
    """A muted stretch of the recording opens (``muted``) or ends at ``offset_s`` seconds in."""

    call_id: str
    offset_s: float
    muted: bool
    step_id: str | None


@dataclass(frozen=True, slots=True)
class StoreWrapupTimeout:
    call_id: str
    at: datetime


# ---------------------------------------------------------------- timers


@dataclass(frozen=True, slots=True)
class StartWrapupTimer:
    """Call ``Floor.wrapup_expired(user_id, call_id)`` after ``delay_s`` loop seconds."""

    user_id: int
    call_id: str
    delay_s: float


@dataclass(frozen=True, slots=True)
class CancelWrapupTimer:
    user_id: int


@dataclass(frozen=True, slots=True)
class StartConnectTimer:
    """Call ``Floor.connect_expired(user_id, call_id)`` after ``delay_s`` loop seconds (a guard, cancelled on connect)."""

    user_id: int
    call_id: str
    delay_s: float


@dataclass(frozen=True, slots=True)
class CancelConnectTimer:
    call_id: str


# ---------------------------------------------------------------- what the scheduler should claim


@dataclass(frozen=True, slots=True)
class ClaimRequest:
    """Claim up to ``count`` leads of ``campaign_id`` (``preview_for``: a preview for that agent)."""

    campaign_id: int
    count: int
    owners: tuple[int, ...] = ()  # ready agents whose owned callbacks these claims may take
    preview_for: int | None = None


@dataclass(frozen=True, slots=True)
class DisposeTicket:
    """A disposition the floor accepted to store: everything the one transaction needs."""

    user_id: int
    ref: AttemptRef
    disposition: Disposition
    at: datetime


@dataclass(frozen=True, slots=True)
class StoreAudit:
    """An audit entry for a floor change nobody's request stores (a monitoring session's start and end)."""

    user_id: int | None
    action: str
    entity: str
    entity_id: str
    after: dict[str, Any]
    at: datetime


Store: TypeAlias = (
    StoreAudit
    | StoreStateChange
    | StoreOriginated
    | StoreAnswered
    | StoreConnected
    | StoreAmd
    | StoreEnded
    | StoreFailed
    | StoreCancelled
    | StoreWrapupTimeout
    | StoreRecordingGap
)
Notify: TypeAlias = NotifyState | NotifyPop | NotifyPhase | NotifyEnded | NotifyError
Effect: TypeAlias = (
    SendOriginate
    | SendRedirect
    | SendHangup
    | SendRecord
    | SendRecordMute
    | Notify
    | Store
    | StartWrapupTimer
    | CancelWrapupTimer
    | StartConnectTimer
    | CancelConnectTimer
)
