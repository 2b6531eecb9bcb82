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


# Q.850 causes that settle an ambiguous Reason 0 (SPEC §3). Reason 0 is also what real
# networks give for a far end that stops ringing by itself (no_answer_far_end.ami), so the
# cause, not the Reason, tells a no-answer from a busy line or a dead number. 1/3/28 (invalid
# number) stay FAILED: the cause is kept so the number can be judged wrong later.
_CAUSE_REASONS: dict[int, FailReason] = {
    1: FailReason.FAILED,  # unallocated number
    3: FailReason.FAILED,  # no route to destination
    17: FailReason.BUSY,  # user busy
    19: FailReason.NO_ANSWER,  # no answer from user (user alerted)
    28: FailReason.FAILED,  # invalid number format
    34: FailReason.CONGESTION,  # no circuit/channel available
    38: FailReason.CONGESTION,  # network out of order
}


def fail_reason(originate_reason: int, cause: int | None = None) -> FailReason:
    """The failure an ``OriginateResponse: Failure`` stands for.

    ``cause`` (the Q.850 cause seen on the call's channels) only matters for Reason 0, the
    one Reason that does not say what happened; any other Reason is mapped as it is.
    """
    if originate_reason == 0 and cause is not None:
        return _CAUSE_REASONS.get(cause, FailReason.FAILED)
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
    """The originate never reached an answer (terminal: no CallEnded follows).

    ``cause`` is the Q.850 hang-up cause seen on the call's channels by the time the
    failure was settled (``None`` when Asterisk showed none, or only cause 0).
    """

    attempt_id: str
    reason: FailReason
    originate_reason: int
    at: float
    cause: int | None = None


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
