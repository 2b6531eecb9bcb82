"""The contract between the dialer and the agent desktop (SPEC §6).

The dialer decides; the desktop (``web/``) shows. The dialer calls an :class:`AgentNotifier`
that ``web/`` implements on top of each agent's websocket outbox. Notifier methods are
plain (non-async) and must return at once: they only enqueue, so a slow browser can never
stall the dialer. Payloads are frozen dataclasses; ``web/`` turns them into JSON frames.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from dialer.agents.state import AgentStatus, PauseReason
from dialer.floor.identity import IdentityKey


class CallPhase(str, enum.Enum):
    """What the agent sees of the call in progress (``call_state`` messages)."""

    PREVIEW = "preview"  # pop shown, the agent decides to dial ("Ligar")
    DIALING = "dialing"  # preview/manual call ringing the customer
    CONNECTING = "connecting"  # customer answered, being bridged to the agent
    CONNECTED = "connected"  # customer is in the agent's conference
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class PopDebt:
    contract: str
    creditor: str
    product: str | None
    original_amount: Decimal
    balance: Decimal
    due_date: date
    days_past_due: int


@dataclass(frozen=True, slots=True)
class PopAttempt:
    at: datetime
    result: str | None
    agent_name: str | None
    outcome_code: str | None
    notes: str | None


@dataclass(frozen=True, slots=True)
class PopPromise:
    created_at: datetime
    amount: Decimal | None
    due: date | None
    kept: bool | None  # None while the date has not passed


@dataclass(frozen=True, slots=True)
class PopCustomer:
    id: int
    name: str
    first_name: str
    masked_cpf: str  # ***.456.789-**, never the full CPF
    uf: str | None
    tags: tuple[str, ...] = ()
    # what the identity check compares answers with; the web layer never sends it to a page
    identity: IdentityKey | None = None


@dataclass(frozen=True, slots=True)
class PopWindow:
    """The customer's calling window as the pop shows it, for one minute (``minute``, UTC).

    Worked out when the lead is claimed, so the pop sent when the customer answers only reuses
    it (the calendar and windows lookup took ~3 ms of the loop per pop on a loaded machine);
    a pop shown in another minute works it out again (issue 10)."""

    minute: datetime
    local_time: str | None  # "HH:MM" at the callee
    allowed: bool | None  # None: a number or UF the tables do not know
    message: str | None


@dataclass(frozen=True, slots=True)
class ScreenPop:
    """Everything the agent's screen shows when a call reaches them."""

    call_id: str
    campaign_id: int
    campaign_name: str
    mode: str
    customer: PopCustomer
    phone_e164: str
    phone_masked: str
    debts: tuple[PopDebt, ...]
    total_balance: Decimal
    attempts: tuple[PopAttempt, ...]
    promises: tuple[PopPromise, ...]
    attempts_today: int
    attempts_7d: int
    created_at: datetime
    extras: dict[str, object] = field(default_factory=dict)
    window: PopWindow | None = None


class AgentNotifier(Protocol):
    """Implemented by the web layer; every method only enqueues and returns."""

    def agent_state(self, user_id: int, status: AgentStatus, at: datetime) -> None: ...

    def screen_pop(self, user_id: int, pop: ScreenPop) -> None: ...

    def call_state(self, user_id: int, call_id: str, phase: CallPhase, at: datetime) -> None: ...

    def call_ended(self, user_id: int, call_id: str, result: str, cause: int | None, at: datetime) -> None: ...

    def error(self, user_id: int, code: str, message: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Disposition:
    """What the agent's disposition form sends (``dispose``)."""

    call_id: str
    code: str  # OutcomeCode value: ACORDO, PROMESSA, RECUSA, ...
    client_key: str  # idempotency key chosen by the browser
    promise_amount: Decimal | None = None
    promise_date: date | None = None
    callback_at: datetime | None = None
    callback_own: bool = True
    notes: str | None = None
    pause_after: PauseReason | None = None
