"""The agent websocket's messages (SPEC §6), as pydantic models.

Client → server: :data:`ClientMessage` (discriminated by ``type``), parsed by
:func:`parse_client_message`, which turns any malformed input into a :class:`BadMessage`
naming the field. Server → client: the ``*Frame`` bodies; the hub numbers them (``seq``).

A client may put a ``ref`` (its own request id) on any message; the ``ack``/``error`` frame
answering it carries the same ``ref``.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from dialer.agents.state import PauseReason
from dialer.floor.identity import IdentityMethod
from storage.models import OutcomeCode

MAX_MESSAGE_BYTES = 16 * 1024


class _Msg(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    ref: str | None = Field(default=None, max_length=64)


class Hello(_Msg):
    """First message after (re)connecting: the last ``seq`` seen and the ``epoch`` it belongs to."""

    type: Literal["hello"]
    last_seq: int | None = Field(default=None, ge=0)
    epoch: str | None = Field(default=None, max_length=64)


class SetState(_Msg):
    """"Disponível" (ready) or "Pausa" with a reason."""

    type: Literal["set_state"]
    state: Literal["ready", "pause"]
    reason: PauseReason | None = None

    @model_validator(mode="after")
    def _reason_for_pause(self) -> SetState:
        if self.state == "pause" and self.reason is None:
            raise ValueError("reason: informe o motivo da pausa")
        return self


class VerifyIdentity(_Msg):
    """What the person on the line answered to one identity question; the server says match or not."""

    type: Literal["verify_identity"]
    call_id: str = Field(min_length=1, max_length=32)
    method: IdentityMethod
    answer: str = Field(min_length=1, max_length=254)


class OverrideIdentity(_Msg):
    """Release the call without a match (the data can't serve): audited, and shown to supervisors."""

    type: Literal["override_identity"]
    call_id: str = Field(min_length=1, max_length=32)
    reason: str = Field(min_length=1, max_length=500)


class AgreementTerms(BaseModel):
    """The offer an ``ACORDO`` closes: the server prices it again from these inputs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["a_vista", "parcelado"]
    installments: int | None = Field(default=None, ge=1, le=120)
    discount_pct: Decimal | None = Field(default=None, ge=0, le=100, max_digits=5, decimal_places=2)
    down_payment: Decimal | None = Field(default=None, gt=0, max_digits=14, decimal_places=2)
    first_due: date | None = None
    approval_id: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _plan_has_count(self) -> AgreementTerms:
        if self.kind == "parcelado" and self.installments is None:
            raise ValueError("installments: informe o número de parcelas")
        return self


class Dispose(_Msg):
    type: Literal["dispose"]
    call_id: str = Field(min_length=1, max_length=32)
    code: OutcomeCode
    client_key: str = Field(min_length=8, max_length=64)
    promise_amount: Decimal | None = Field(default=None, gt=0, max_digits=14, decimal_places=2)
    promise_date: date | None = None
    callback_at: datetime | None = None
    callback_own: bool = True
    notes: str | None = Field(default=None, max_length=4000)
    pause_after: PauseReason | None = None
    agreement: AgreementTerms | None = None

    @model_validator(mode="after")
    def _agreement_for_acordo(self) -> Dispose:
        if self.code is OutcomeCode.ACORDO and self.agreement is None:
            raise ValueError("agreement: escolha a oferta do acordo na aba Ofertas (Shift+número)")
        return self

    @field_validator("callback_at")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is not None and (v.tzinfo is None or v.utcoffset() is None):
            raise ValueError("informe a data e a hora com fuso horário")
        return v


class Hangup(_Msg):
    """"Desligar": hang up the customer of the current call."""

    type: Literal["hangup"]
    call_id: str = Field(min_length=1, max_length=32)


class Dial(_Msg):
    """"Ligar" on a preview."""

    type: Literal["dial"]
    call_id: str = Field(min_length=1, max_length=32)


class ScheduleCallback(_Msg):
    type: Literal["schedule_callback"]
    customer_id: int = Field(gt=0)
    due_at: datetime
    own: bool = True
    notes: str | None = Field(default=None, max_length=4000)

    @field_validator("due_at")
    @classmethod
    def _aware(cls, v: datetime) -> datetime:
        if v.tzinfo is None or v.utcoffset() is None:
            raise ValueError("informe a data e a hora com fuso horário")
        return v


class ScriptStep(_Msg):
    """A choice on the current step of the call's script (with its capture, when the choice asks one)."""

    type: Literal["script_step"]
    call_id: str = Field(min_length=1, max_length=32)
    choice: str = Field(min_length=1, max_length=64)
    capture: str | None = Field(default=None, max_length=500)


class SimulateOffer(_Msg):
    """Price the offers for the customer on the line (after the identity is confirmed)."""

    type: Literal["simulate_offer"]
    call_id: str = Field(min_length=1, max_length=32)
    discount_pct: Decimal | None = Field(default=None, ge=0, le=100, max_digits=5, decimal_places=2)  # None: own limit
    installments: int | None = Field(default=None, ge=1, le=120)  # the plan chosen (None: cash); all are priced
    down_payment: Decimal | None = Field(default=None, gt=0, max_digits=14, decimal_places=2)
    first_due: date | None = None


class RequestApproval(_Msg):
    """Ask a supervisor for a discount above the agent's own limit (alçada)."""

    type: Literal["request_approval"]
    call_id: str = Field(min_length=1, max_length=32)
    discount_pct: Decimal = Field(gt=0, le=100, max_digits=5, decimal_places=2)
    kind: Literal["a_vista", "parcelado"] = "a_vista"
    installments: int | None = Field(default=None, ge=1, le=120)


class PixCode(_Msg):
    """A Pix "copia e cola" for ``amount`` (a promise's amount; an offer's down payment comes with ``offers``)."""

    type: Literal["pix_code"]
    call_id: str = Field(min_length=1, max_length=32)
    amount: Decimal = Field(gt=0, max_digits=12, decimal_places=2)


class Logout(_Msg):
    """Leave the dialer (hangs the agent's phone leg up); the web session stays."""

    type: Literal["logout"]


ClientMessage = Annotated[
    Hello
    | SetState
    | VerifyIdentity
    | OverrideIdentity
    | Dispose
    | Hangup
    | Dial
    | ScheduleCallback
    | Logout
    | ScriptStep
    | SimulateOffer
    | RequestApproval
    | PixCode,
    Field(discriminator="type"),
]
_CLIENT = TypeAdapter(ClientMessage)
CLIENT_TYPES = (
    "hello",
    "set_state",
    "verify_identity",
    "override_identity",
    "dispose",
    "hangup",
    "dial",
    "schedule_callback",
    "logout",
    "script_step",
    "simulate_offer",
    "request_approval",
    "pix_code",
)


class BadMessage(ValueError):
    """A client message we cannot act on; ``field`` names what is wrong (``None``: the whole message)."""

    def __init__(self, field: str | None, message: str, ref: str | None = None) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message
        self.ref = ref


def _field_of(loc: tuple[int | str, ...]) -> str | None:
    # the first element of a discriminated union's location is the tag ("dispose"); drop it
    parts = [str(p) for p in loc[1:]] if loc and loc[0] in CLIENT_TYPES else [str(p) for p in loc]
    return ".".join(parts) or None


def parse_client_message(raw: str | bytes) -> ClientMessage:
    """The typed message in ``raw`` (JSON text); raises :class:`BadMessage` naming the field."""
    if len(raw) > MAX_MESSAGE_BYTES:
        raise BadMessage(None, f"mensagem grande demais (máx. {MAX_MESSAGE_BYTES} bytes)")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadMessage(None, "a mensagem não é um JSON válido") from None
    if not isinstance(data, dict):
        raise BadMessage(None, "a mensagem deve ser um objeto JSON")
    ref = data.get("ref") if isinstance(data.get("ref"), str) else None
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in CLIENT_TYPES:
        raise BadMessage("type", f"tipo de mensagem desconhecido {kind!r}; use um de: {', '.join(CLIENT_TYPES)}", ref)
    try:
        return _CLIENT.validate_python(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = _field_of(err["loc"])
        msg = str(err["msg"])
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
            # model-level checks name their field themselves ("reason: ...")
            head, sep, rest = msg.partition(": ")
            if sep and head.isidentifier():
                field, msg = (head if field is None else f"{field}.{head}"), rest
        raise BadMessage(field or None, msg, ref) from None


# --------------------------------------------------------------------- server → client bodies


class _Body(BaseModel):
    model_config = ConfigDict(frozen=True)

    def body(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"type"})


class HelloFrame(_Body):
    type: Literal["hello"] = "hello"
    epoch: str
    user_id: int
    name: str
    extension: str | None
    resumed: bool  # True: what follows is a replay of what was missed; False: a fresh snapshot
    server_time: datetime


class AgentStateFrame(_Body):
    type: Literal["agent_state"] = "agent_state"
    state: str
    label: str
    pause_reason: str | None
    pause_requested: str | None
    since: datetime


class PopSummary(_Body):
    """What the agent may see before the identity is confirmed (SPEC §6)."""

    greeting_name: str  # first name and last-name initial: "Maria S."
    phone_masked: str
    local_time: str | None  # "14:32" at the callee
    window_open: bool | None
    window_message: str | None
    attempts_today: int
    attempts_7d: int
    flags: list[str]


class PopDebtView(_Body):
    contract: str
    creditor: str
    product: str | None
    original_amount: str  # "R$ 1.234,56"
    balance: str
    due_date: str  # "dd/mm/aaaa"
    days_past_due: int


class PopAttemptView(_Body):
    at: str  # "dd/mm/aaaa HH:MM" Brasília
    result: str | None
    agent_name: str | None
    outcome: str | None
    notes: str | None


class PopPromiseView(_Body):
    created_at: str
    amount: str | None
    due: str | None
    kept: str  # "cumprida", "quebrada", "em aberto"


class PopDetails(_Body):
    """Shown only once the identity is confirmed."""

    customer_id: int
    full_name: str
    masked_cpf: str
    uf: str | None
    total_balance: str
    debts: list[PopDebtView]
    attempts: list[PopAttemptView]
    promises: list[PopPromiseView]
    tags: list[str]


class IdentityView(_Body):
    """Where the identity check of a call stands: which questions exist (never their answers)."""

    status: str  # pendente, verificada, bloqueada, liberada_sem_verificacao
    label: str
    methods: list[list[str]]  # [code, label] of the questions the customer's data can check
    attempts_left: int
    message: str | None = None  # the answer to the last attempt, in pt-BR


class IdentityFrame(_Body):
    type: Literal["identity"] = "identity"
    call_id: str
    identity: IdentityView


class DayCallbackView(_Body):
    at: str  # "dd/mm/aaaa HH:MM" Brasília
    customer: str  # "Maria S.": the agent's own list, shown outside any call
    notes: str | None
    overdue: bool


class MyDayFrame(_Body):
    """The agent's own day, next to the state bar: callbacks owed, and today's figures."""

    type: Literal["my_day"] = "my_day"
    line: str  # the one-line summary on the bar
    callbacks: list[DayCallbackView]
    figures: list[list[str]]  # [label, value]


class ScreenPopFrame(_Body):
    type: Literal["screen_pop"] = "screen_pop"
    call_id: str
    campaign_id: int
    campaign_name: str
    mode: str
    created_at: datetime
    summary: PopSummary
    identity_confirmed_at: datetime | None = None
    details: PopDetails | None = None


class CallStateFrame(_Body):
    type: Literal["call_state"] = "call_state"
    call_id: str
    phase: str
    label: str
    at: datetime


class CallEndedFrame(_Body):
    type: Literal["call_ended"] = "call_ended"
    call_id: str
    result: str
    label: str
    cause: int | None
    at: datetime


class ErrorFrame(_Body):
    type: Literal["error"] = "error"
    code: str
    message: str
    field: str | None = None
    ref: str | None = None


class AckFrame(_Body):
    """A client request was carried out; ``detail`` says what it produced (ids, duplicate...)."""

    type: Literal["ack"] = "ack"
    ref: str | None
    of: str
    detail: dict[str, Any] = {}



class ScriptChoiceView(_Body):
    id: str
    label: str
    capture_key: str | None  # the choice records a value (from ``options`` when there are any)
    options: list[list[str]]  # [code, label]
    dispose: str | None  # the outcome this choice ends the script with


class ScriptFrame(_Body):
    """The call's script: the current step rendered for this call (``step_id`` None once finished)."""

    type: Literal["script"] = "script"
    call_id: str
    step_id: str | None
    title: str
    text: str  # already escaped by the sandboxed renderer
    choices: list[ScriptChoiceView]
    actions: list[str]  # e.g. "open_offer_calculator"
    identity_confirmed: bool
    outcome: str | None


class OffersFrame(_Body):
    """The offer calculator: ``quote`` is ``NegotiationQuote.view()`` (updated balance itemised, options)."""

    type: Literal["offers"] = "offers"
    call_id: str
    quote: dict[str, Any]
    pix: PixView | None = None


class PixView(_Body):
    """A Pix "copia e cola" and its QR code (SVG) for an amount."""

    amount: str  # "R$ 1.234,56"
    payload: str
    svg: str


class PixFrame(_Body):
    type: Literal["pix"] = "pix"
    call_id: str
    pix: PixView


class ApprovalResultFrame(_Body):
    """What became of a discount request: granted, pending, approved, refused or expired."""

    type: Literal["approval_result"] = "approval_result"
    call_id: str | None
    request_id: int
    status: str
    allowed: bool
    discount_pct: str
    message: str
    decided_by_name: str | None = None


OffersFrame.model_rebuild()
