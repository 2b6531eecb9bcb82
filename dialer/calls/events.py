"""Domain events the call tracker emits: what happened to a call attempt or an agent leg.

Pure values (frozen dataclasses): no I/O, no asyncio. Each event carries ``at``, the
time the AMI event that caused it was read (whatever clock the caller feeds the
tracker with; seconds as a float).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TypeAlias


class FailReason(StrEnum):
    """Why an originate did not reach an answered customer."""

    BUSY = "busy"
    NO_ANSWER = "no_answer"
    CONGESTION = "congestion"
    FAILED = "failed"  # no such extension, channel unavailable, anything else
    LOST = "lost"  # no outcome seen: the attempt vanished while the AMI link was down


# OriginateResponse "Reason" codes (Asterisk's AST_CONTROL_* values), see SPEC §3
_ORIGINATE_REASONS: dict[int, FailReason] = {
    0: FailReason.FAILED,
    1: FailReason.NO_ANSWER,  # hung up before answer
    3: FailReason.NO_ANSWER,  # ring timeout
    5: FailReason.BUSY,
    8: FailReason.CONGESTION,
}

# originate_reason of a CallFailed(LOST): Asterisk never told us
REASON_UNKNOWN = -1


def fail_reason(originate_reason: int) -> FailReason:
    """The failure an ``OriginateResponse: Failure`` Reason code stands for."""
    return _ORIGINATE_REASONS.get(originate_reason, FailReason.FAILED)


@dataclass(frozen=True, slots=True)
class CallRinging:
    attempt_id: str
    at: float


@dataclass(frozen=True, slots=True)
class CallAnswered:
    """The customer answered; ``channel`` is the one to ``Redirect`` to an agent."""

    attempt_id: str
    channel: str
    uniqueid: str
    at: float


@dataclass(frozen=True, slots=True)
class CallFailed:
    """The originate never reached an answer (terminal: no CallEnded follows)."""

    attempt_id: str
    reason: FailReason
    originate_reason: int
    at: float


AMD_MACHINE = "MACHINE"


@dataclass(frozen=True, slots=True)
class AmdDetected:
    """The verdict of Asterisk's ``AMD()``: AMDSTATUS (HUMAN, MACHINE, NOTSURE, HANGUP) and AMDCAUSE."""

    attempt_id: str
    status: str
    cause: str
    at: float

    @property
    def is_machine(self) -> bool:
        return self.status == AMD_MACHINE


@dataclass(frozen=True, slots=True)
class CallConnected:
    """The customer joined the agent's conference ``agent<ext>``; ``wait_s`` is since the answer."""

    attempt_id: str
    agent_extension: str
    conference: str
    at: float
    wait_s: float


@dataclass(frozen=True, slots=True)
class CallAbandoned:
    """A live-answered customer the dialer did not connect within the connect window."""

    attempt_id: str
    at: float
    waited_s: float


@dataclass(frozen=True, slots=True)
class CallEnded:
    """An answered call ended. ``duration_s`` counts from the answer, ``talk_s`` from the connect."""

    attempt_id: str
    cause: int
    cause_txt: str
    at: float
    answered: bool
    connected: bool
    abandoned: bool
    duration_s: float
    talk_s: float


@dataclass(frozen=True, slots=True)
class RecordingStarted:
    attempt_id: str
    at: float
    path: str | None


@dataclass(frozen=True, slots=True)
class AgentLegUp:
    """The agent's phone channel joined its ``agent<ext>`` conference: the session is live."""

    extension: str
    channel: str
    at: float


@dataclass(frozen=True, slots=True)
class AgentLegDown:
    """The agent's phone channel hung up (may come without AgentLegUp if it never joined)."""

    extension: str
    at: float
    cause: int
    cause_txt: str = ""


@dataclass(frozen=True, slots=True)
class AgentLegFailed:
    """The originate to the agent's phone failed."""

    extension: str
    reason: FailReason
    originate_reason: int
    at: float


DomainEvent: TypeAlias = (
    CallRinging
    | CallAnswered
    | CallFailed
    | AmdDetected
    | CallConnected
    | CallAbandoned
    | CallEnded
    | RecordingStarted
    | AgentLegUp
    | AgentLegDown
    | AgentLegFailed
)
