"""Cobra's database schema: SQLAlchemy 2 typed models (SPEC §4, §6, §7, §8).

Conventions that hold for every table:

- datetimes are ``UtcDateTime``: aware datetimes in, aware UTC datetimes out, on SQLite and
  PostgreSQL alike; a naive datetime is refused rather than guessed;
- money is ``Numeric(14, 2)`` and comes back as ``Decimal``;
- closed vocabularies are ``StrEnum`` stored as VARCHAR plus a CHECK constraint (no native
  PostgreSQL enum types, so adding a value is a plain migration on both databases);
- relationships are ``lazy="raise"``: under asyncio a lazy load cannot run, so code that
  needs related rows loads them explicitly (``selectinload``) and forgetting to fails loudly;
- constraint and index names come from ``NAMING_CONVENTION`` so they are identical on both
  databases and Alembic can compare them.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Dialect,
    Double,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Money = Numeric(14, 2, asdecimal=True)


def utcnow() -> datetime:
    """The current time as an aware UTC datetime (the only kind the models accept)."""
    return datetime.now(timezone.utc)


def new_attempt_id() -> str:
    """A fresh call-attempt id: 32 hex digits, safe as an AMI ActionID and in file names."""
    return uuid.uuid4().hex


class UtcDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and returns them aware (UTC) on every database.

    SQLite has no time-zone type and gives back naive values, so the UTC offset is
    stripped on the way in and put back on the way out; PostgreSQL uses ``timestamptz``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}: {value!r}")
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            raise ValueError(f"naive datetime {value.isoformat()} refused: give it a time zone (UTC)")
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def _str_enum(enum_cls: type[enum.StrEnum], name: str) -> Enum:
    """VARCHAR + CHECK storing the enum's values (not its member names)."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls),
        values_callable=lambda cls: [m.value for m in cls],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    """Declarative base carrying the shared metadata and naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UtcDateTime(), Decimal: Money, dict[str, Any]: JSON}


# ---------------------------------------------------------------- vocabularies


class Role(enum.StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    QA = "qa"
    ADMIN = "admin"


class AgentState(enum.StrEnum):
    """Agent states of SPEC §6."""

    OFFLINE = "offline"
    CONNECTING = "connecting"  # "Disponível" pressed, the agent's phone is being called in
    READY = "ready"
    RESERVED = "reserved"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    PAUSED = "paused"


class PhoneKind(enum.StrEnum):
    OWN = "own"
    REFERENCE = "reference"  # a third party's phone given by the debtor: never called in RJ


class PhoneStatus(enum.StrEnum):
    OK = "ok"
    WRONG = "wrong"
    BLOCKED = "blocked"


class DebtStatus(enum.StrEnum):
    OPEN = "open"
    IN_AGREEMENT = "in_agreement"
    SETTLED = "settled"
    CANCELLED = "cancelled"


class CampaignMode(enum.StrEnum):
    MANUAL = "manual"
    PREVIEW = "preview"
    PROGRESSIVE = "progressive"
    PREDICTIVE = "predictive"


class CampaignStatus(enum.StrEnum):
    """Whether the dialer works a campaign.

    ``paused`` is temporary: no new calls, calls in progress finish. ``stopped`` takes the
    campaign off the floor until someone starts it again.
    """

    ACTIVE = "active"
    PAUSED = "paused"
    STOPPED = "stopped"


class LeadState(enum.StrEnum):
    NEW = "new"
    DIALABLE = "dialable"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    STOPPED = "stopped"


class CallResult(enum.StrEnum):
    """System results of a call attempt (the agent's disposition is an ``Outcome``)."""

    BUSY = "busy"
    NO_ANSWER = "no_answer"
    CONGESTION = "congestion"
    FAILED = "failed"
    MACHINE = "machine"
    ABANDONED = "abandoned"
    ANSWERED = "answered"
    CONNECTED = "connected"
    CANCELLED = "cancelled"


class HoldKind(enum.StrEnum):
    """Why collection of a customer is suspended (SPEC §4 holds)."""

    DECEASED = "deceased"
    DISPUTE = "dispute"  # dispute under review
    LAWYER = "lawyer"  # represented by a lawyer: talk to the lawyer, not the debtor
    INSOLVENCY = "insolvency"  # bankruptcy or judicial recovery


class DncKind(enum.StrEnum):
    PHONE = "phone"
    CPF = "cpf"


class OutcomeCode(enum.StrEnum):
    """The default outcome catalogue of SPEC §7."""

    ACORDO = "ACORDO"
    PROMESSA = "PROMESSA"
    RECUSA = "RECUSA"
    SEM_CONDICOES = "SEM_CONDICOES"
    CONTESTA = "CONTESTA"
    JA_PAGO = "JA_PAGO"
    RETORNAR = "RETORNAR"
    RECADO = "RECADO"
    TELEFONE_ERRADO = "TELEFONE_ERRADO"
    FALECIDO = "FALECIDO"


# ---------------------------------------------------------------- people


class User(Base):
    """Someone who logs in: agent, supervisor, QA reviewer or admin.

    Agents need an ``extension`` (their conference, SPEC §3) and an ``endpoint`` (the phone
    dial string Cobra originates to, e.g. ``PJSIP/7001``). ``discount_limit_pct`` is the
    authority level (alçada): the largest discount, in percent, this user may grant.
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(_str_enum(Role, "role"))
    full_name: Mapped[str] = mapped_column(String(120))
    extension: Mapped[str | None] = mapped_column(String(20), unique=True)
    endpoint: Mapped[str | None] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    discount_limit_pct: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebSession(Base):
    """A logged-in browser (SPEC §11); kept in the database so several processes share it.

    The cookie carries a random token; only its SHA-256 (``token_hash``) is stored, so a
    copy of this table does not let anyone log in. ``csrf_token`` is the per-session token
    forms and ``X-CSRF-Token`` headers must echo.
    """

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(255))


class AgentStateChange(Base):
    """One agent state transition, stored with its time (SPEC §6); ``reason`` is the pause code."""

    __tablename__ = "agent_state_changes"
    __table_args__ = (Index("ix_agent_state_changes_user_at", "user_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    from_state: Mapped[AgentState] = mapped_column(_str_enum(AgentState, "from_state"))
    to_state: Mapped[AgentState] = mapped_column(_str_enum(AgentState, "to_state"))
    reason: Mapped[str | None] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(default=utcnow)


# ---------------------------------------------------------------- portfolio


class Customer(Base):
    """A debtor, keyed by the creditor's ``external_id`` (re-imports update, never duplicate).

    ``cpf`` holds the 11 digits only. Holds: ``deceased`` and ``dispute_pending`` stop
    dialling; ``hold_until`` pauses collection until that instant (``hold_reason`` says why).
    """

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    cpf: Mapped[str] = mapped_column(String(11), index=True)
    birth_date: Mapped[date | None] = mapped_column(Date)
    email: Mapped[str | None] = mapped_column(String(254))
    uf: Mapped[str | None] = mapped_column(String(2))
    score: Mapped[int | None] = mapped_column(Integer)
    deceased: Mapped[bool] = mapped_column(Boolean, default=False)
    dispute_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    hold_until: Mapped[datetime | None] = mapped_column()
    hold_reason: Mapped[str | None] = mapped_column(String(200))
    # Kept by the importer so segments and the hopper filter without summing debts per pick
    oldest_due_date: Mapped[date | None] = mapped_column(Date)
    balance_total: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    call_window: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """When the customer said they may be called (``WeeklyWindow.parse`` mapping), or None."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    phones: Mapped[list[Phone]] = relationship(
        back_populates="customer", lazy="raise", cascade="all, delete-orphan", passive_deletes=True
    )
    debts: Mapped[list[Debt]] = relationship(
        back_populates="customer", lazy="raise", cascade="all, delete-orphan", passive_deletes=True
    )
    tags: Mapped[list[CustomerTag]] = relationship(
        back_populates="customer", lazy="raise", cascade="all, delete-orphan", passive_deletes=True
    )


class CustomerTag(Base):
    """A free-form label on a customer (portfolio tags; segments filter on them)."""

    __tablename__ = "customer_tags"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(60), primary_key=True, index=True)

    customer: Mapped[Customer] = relationship(back_populates="tags", lazy="raise")


class Phone(Base):
    """A customer's phone in E.164 (``+5511987654321``); ``ddd`` is the two-digit area code."""

    __tablename__ = "phones"
    __table_args__ = (UniqueConstraint("customer_id", "e164"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    e164: Mapped[str] = mapped_column(String(16), index=True)
    ddd: Mapped[str] = mapped_column(String(2))
    kind: Mapped[PhoneKind] = mapped_column(_str_enum(PhoneKind, "kind"), default=PhoneKind.OWN)
    status: Mapped[PhoneStatus] = mapped_column(_str_enum(PhoneStatus, "status"), default=PhoneStatus.OK)
    last_attempt_at: Mapped[datetime | None] = mapped_column()
    last_result: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="phones", lazy="raise")


class Debt(Base):
    """One contract a customer owes; ``due_date`` is the oldest unpaid due date (aging)."""

    __tablename__ = "debts"
    __table_args__ = (UniqueConstraint("customer_id", "contract"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    contract: Mapped[str] = mapped_column(String(64))
    creditor: Mapped[str] = mapped_column(String(120))
    product: Mapped[str | None] = mapped_column(String(120))
    original_amount: Mapped[Decimal] = mapped_column()
    balance: Mapped[Decimal] = mapped_column()
    due_date: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[DebtStatus] = mapped_column(_str_enum(DebtStatus, "status"), default=DebtStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="debts", lazy="raise")


# ---------------------------------------------------------------- dialing


class Campaign(Base):
    """A dialing campaign: its pacing mode, how to dial, and its limits.

    ``dial_template`` contains ``{number}`` (e.g. ``PJSIP/{number}@trunk``); ``pbx_name``
    names the ``[[pbx]]`` entry of the configuration; ``abandon_cap`` is a fraction
    (0.03 = 3 %); ``window_override`` narrows the calling windows (SPEC §4);
    ``policy`` is the negotiation policy document (or a reference to one) read by scripting.
    """

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    mode: Mapped[CampaignMode] = mapped_column(_str_enum(CampaignMode, "mode"), default=CampaignMode.PROGRESSIVE)
    status: Mapped[CampaignStatus] = mapped_column(
        _str_enum(CampaignStatus, "status"), default=CampaignStatus.PAUSED
    )
    dial_template: Mapped[str] = mapped_column(String(200))
    caller_id: Mapped[str] = mapped_column(String(32))
    pbx_name: Mapped[str] = mapped_column(String(60))
    ring_timeout_s: Mapped[float] = mapped_column(Double, default=25.0)
    max_dial_level: Mapped[float] = mapped_column(Double, default=3.0)
    abandon_cap: Mapped[float] = mapped_column(Double, default=0.03)
    # Answering-machine detection: customers are originated into ``cobra-amd`` first (SPEC §5)
    amd_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    window_override: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    policy: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The negotiation script its calls run: the latest published version of this key (None: the default)
    script_key: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Lead(Base):
    """A customer in a campaign's dialing list.

    The pick index ``ix_leads_pick`` is (campaign_id, state, priority, next_attempt_at):
    "next dialable lead of campaign X ordered by priority, then next_attempt_at" reads it in
    order (lower ``priority`` first; the hopper keeps ``priority`` as the effective rank
    from segment weights and ``boost``). ``claimed_by``/``claim_expires_at`` are the lease
    of a process that took the lead (SPEC §9 scale-out).
    """

    __tablename__ = "leads"
    __table_args__ = (
        UniqueConstraint("campaign_id", "customer_id"),
        Index("ix_leads_campaign_state_next", "campaign_id", "state", "next_attempt_at"),
        Index("ix_leads_pick", "campaign_id", "state", "priority", "next_attempt_at"),
        # The hopper's index: one seek per priority level; done/stopped leads have no next_attempt_at.
        # It ends with id to match the pick's ORDER BY next_attempt_at, id (PostgreSQL orders ties by heap position)
        Index("ix_leads_hopper", "campaign_id", "priority", "next_attempt_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    boost: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[LeadState] = mapped_column(_str_enum(LeadState, "state"), default=LeadState.NEW)
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    last_result: Mapped[str | None] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claim_expires_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CallAttempt(Base):
    """One outbound call, from originate to wrap-up (SPEC §3).

    ``id`` is also the AMI ActionID and the ``COBRA_CALL`` channel variable, and it appears
    in the recording's file name. ``originate_reason`` is OriginateResponse's ``Reason``;
    ``hangup_cause`` the customer channel's Q.850 ``Cause``. ``short_call`` is the Anatel
    ≤ 6 s completed call; ``caller_id`` is kept because short-call ratios are per caller id.
    """

    __tablename__ = "call_attempts"
    __table_args__ = (
        Index("ix_call_attempts_campaign_created", "campaign_id", "created_at"),
        Index("ix_call_attempts_agent_created", "agent_id", "created_at"),
        Index("ix_call_attempts_customer_created", "customer_id", "created_at"),
        Index("ix_call_attempts_phone_created", "phone_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_attempt_id)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id", ondelete="SET NULL"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    phone_id: Mapped[int | None] = mapped_column(ForeignKey("phones.id", ondelete="SET NULL"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    mode: Mapped[CampaignMode] = mapped_column(_str_enum(CampaignMode, "mode"))
    number: Mapped[str] = mapped_column(String(20))
    caller_id: Mapped[str | None] = mapped_column(String(32))
    pbx_name: Mapped[str | None] = mapped_column(String(60))

    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    originated_at: Mapped[datetime | None] = mapped_column()
    answered_at: Mapped[datetime | None] = mapped_column()
    connected_at: Mapped[datetime | None] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()
    wrapup_ended_at: Mapped[datetime | None] = mapped_column()

    result: Mapped[CallResult | None] = mapped_column(_str_enum(CallResult, "result"))
    originate_reason: Mapped[int | None] = mapped_column(Integer)
    hangup_cause: Mapped[int | None] = mapped_column(Integer)
    amd_status: Mapped[str | None] = mapped_column(String(20))
    amd_cause: Mapped[str | None] = mapped_column(String(80))
    customer_channel: Mapped[str | None] = mapped_column(String(120))
    customer_uniqueid: Mapped[str | None] = mapped_column(String(40), index=True)
    agent_channel: Mapped[str | None] = mapped_column(String(120))
    recording_path: Mapped[str | None] = mapped_column(String(500))
    abandoned: Mapped[bool] = mapped_column(Boolean, default=False)
    short_call: Mapped[bool] = mapped_column(Boolean, default=False)


class Outcome(Base):
    """The agent's disposition of a call (one per attempt).

    ``client_key`` is the idempotency key the agent's screen sends with ``dispose``: the
    same key twice from the same agent is one outcome (SPEC §6, §11). It is unique per
    agent, not globally: another agent sending the same key must not get this one's ack.
    """

    __tablename__ = "outcomes"
    __table_args__ = (
        UniqueConstraint("agent_id", "client_key"),
        Index("ix_outcomes_agent_created", "agent_id", "created_at"),
        Index("ix_outcomes_code_created", "code", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[str] = mapped_column(ForeignKey("call_attempts.id"), unique=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    code: Mapped[OutcomeCode] = mapped_column(_str_enum(OutcomeCode, "code"))
    promise_amount: Mapped[Decimal | None] = mapped_column()
    promise_date: Mapped[date | None] = mapped_column(Date)
    callback_at: Mapped[datetime | None] = mapped_column()
    notes: Mapped[str | None] = mapped_column(Text)
    client_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Callback(Base):
    """A scheduled call back; ``owner_agent_id`` set means only that agent gets it."""

    __tablename__ = "callbacks"
    __table_args__ = (
        Index("ix_callbacks_campaign_due", "campaign_id", "done_at", "due_at"),
        Index("ix_callbacks_customer_done", "customer_id", "done_at"),
        Index("ix_callbacks_owner_due", "owner_agent_id", "done_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    phone_id: Mapped[int | None] = mapped_column(ForeignKey("phones.id", ondelete="SET NULL"))
    due_at: Mapped[datetime] = mapped_column()
    owner_agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    done_at: Mapped[datetime | None] = mapped_column()
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Segment(Base):
    """One filter of a campaign's ordered, weighted priority list (SPEC §4 "Priority").

    A lead belongs to the first segment (by ``position``) whose ``filters`` match; its rank
    is the segment's ``weight`` plus the lead's ``boost`` (higher first). ``filters`` is the
    validated mapping of ``dialer.leads.segments.SegmentFilter``.
    """

    __tablename__ = "segments"
    __table_args__ = (UniqueConstraint("campaign_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(80))
    weight: Mapped[int] = mapped_column(Integer)
    filters: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CustomerHold(Base):
    """A suspension of collection set by a supervisor or an outcome; active while ``released_at`` is None
    and ``until`` (if any) is in the future."""

    __tablename__ = "customer_holds"
    __table_args__ = (Index("ix_customer_holds_customer_released", "customer_id", "released_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    kind: Mapped[HoldKind] = mapped_column(_str_enum(HoldKind, "kind"))
    reason: Mapped[str] = mapped_column(String(200))
    until: Mapped[datetime | None] = mapped_column()
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    set_at: Mapped[datetime] = mapped_column(default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column()
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class DncEntry(Base):
    """A do-not-call entry by phone (E.164) or CPF (11 digits): permanent, or until (and including) a date."""

    __tablename__ = "dnc_entries"
    __table_args__ = (UniqueConstraint("kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[DncKind] = mapped_column(_str_enum(DncKind, "kind"))
    value: Mapped[str] = mapped_column(String(16))
    until: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(60), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditLog(Base):
    """Who changed what, with the values before and after (SPEC §8, §11); user is None for the system."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(60))
    entity: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


# ---------------------------------------------------------------- negotiation (SPEC §7, §9)


class AgreementKind(enum.StrEnum):
    """Same values as ``scripting.offers.OfferKind`` (storage imports nothing of ours)."""

    CASH = "a_vista"
    INSTALLMENTS = "parcelado"


class AgreementStatus(enum.StrEnum):
    ACTIVE = "active"  # installments still open
    PAID = "paid"  # every installment paid
    CANCELLED = "cancelled"


class InstallmentStatus(enum.StrEnum):
    OPEN = "open"
    PAID = "paid"


class PromiseStatus(enum.StrEnum):
    PENDING = "pending"  # the date has not passed and it is not paid yet
    KEPT = "kept"  # paid (in full) by its date
    BROKEN = "broken"  # its date passed without full payment


class ApprovalStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"
    EXPIRED = "expired"


class Agreement(Base):
    """An ``ACORDO``: the offer the customer accepted, with the calculation that priced it.

    ``calculation`` is the JSON record of the quote (every contract's itemised breakdown,
    the policy bucket, the authority limits and the accepted offer) so the amounts can be
    reproduced later; ``approval_id`` is the supervisor's approval when the discount was
    above the agent's limit. One agreement per call attempt.
    """

    __tablename__ = "agreements"
    __table_args__ = (Index("ix_agreements_customer_created", "customer_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    attempt_id: Mapped[str | None] = mapped_column(ForeignKey("call_attempts.id"), unique=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approval_id: Mapped[int | None] = mapped_column(ForeignKey("approval_requests.id"))
    kind: Mapped[AgreementKind] = mapped_column(_str_enum(AgreementKind, "kind"))
    discount_pct: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    discount_amount: Mapped[Decimal] = mapped_column()
    debt_total: Mapped[Decimal] = mapped_column()
    total: Mapped[Decimal] = mapped_column()
    calculation: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[AgreementStatus] = mapped_column(
        _str_enum(AgreementStatus, "status"), default=AgreementStatus.ACTIVE
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    installments: Mapped[list[AgreementInstallment]] = relationship(
        back_populates="agreement",
        lazy="raise",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="AgreementInstallment.number",
    )
    debts: Mapped[list[AgreementDebt]] = relationship(
        back_populates="agreement", lazy="raise", cascade="all, delete-orphan", passive_deletes=True
    )


class AgreementDebt(Base):
    """Which contracts an agreement settles, with each one's updated amount when it was made."""

    __tablename__ = "agreement_debts"

    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"), primary_key=True)
    debt_id: Mapped[int] = mapped_column(ForeignKey("debts.id", ondelete="CASCADE"), primary_key=True, index=True)
    updated_amount: Mapped[Decimal] = mapped_column()

    agreement: Mapped[Agreement] = relationship(back_populates="debts", lazy="raise")


class AgreementInstallment(Base):
    """One payment of an agreement; number 0 is the down payment ("entrada")."""

    __tablename__ = "agreement_installments"
    __table_args__ = (
        UniqueConstraint("agreement_id", "number"),
        Index("ix_agreement_installments_status_due", "status", "due_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column()
    paid_amount: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    status: Mapped[InstallmentStatus] = mapped_column(
        _str_enum(InstallmentStatus, "status"), default=InstallmentStatus.OPEN
    )
    paid_on: Mapped[date | None] = mapped_column(Date)

    agreement: Mapped[Agreement] = relationship(back_populates="installments", lazy="raise")


class Promise(Base):
    """A ``PROMESSA``: the customer promised ``amount`` by ``due_date``; the payments import settles it."""

    __tablename__ = "promises"
    __table_args__ = (
        Index("ix_promises_customer_created", "customer_id", "created_at"),
        Index("ix_promises_status_due", "status", "due_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    attempt_id: Mapped[str | None] = mapped_column(ForeignKey("call_attempts.id"), unique=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    amount: Mapped[Decimal] = mapped_column()
    due_date: Mapped[date] = mapped_column(Date)
    paid_amount: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    status: Mapped[PromiseStatus] = mapped_column(_str_enum(PromiseStatus, "status"), default=PromiseStatus.PENDING)
    resolved_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApprovalRequest(Base):
    """An agent's request for a discount above their limit (alçada), decided live by a supervisor.

    The limits in force when it was asked are kept with it, and ``offer`` is the priced
    proposal the supervisor saw.
    """

    __tablename__ = "approval_requests"
    __table_args__ = (Index("ix_approval_requests_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[str | None] = mapped_column(ForeignKey("call_attempts.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_pct: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    agent_limit_pct: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    supervisor_limit_pct: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    offer: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[ApprovalStatus] = mapped_column(
        _str_enum(ApprovalStatus, "status"), default=ApprovalStatus.PENDING
    )
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column()
    reason: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ScriptRunRecord(Base):
    """The script run of one call (SPEC §7): script id and version, steps with times and captures."""

    __tablename__ = "script_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[str] = mapped_column(ForeignKey("call_attempts.id"), unique=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    script_id: Mapped[str] = mapped_column(String(80))
    script_version: Mapped[int] = mapped_column(Integer)
    identity_confirmed_at: Mapped[datetime | None] = mapped_column()
    outcome: Mapped[str | None] = mapped_column(String(40))
    finished_at: Mapped[datetime | None] = mapped_column()
    steps: Mapped[list[Any]] = mapped_column(JSON)
    captures: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ScriptVersion(Base):
    """One published version of a negotiation script (SPEC §7); rows are only ever inserted."""

    __tablename__ = "script_versions"
    __table_args__ = (UniqueConstraint("script_key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    script_key: Mapped[str] = mapped_column(String(80))
    version: Mapped[int] = mapped_column(Integer)
    yaml_text: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Payment(Base):
    """A payment from the creditor's payment file; ``source_key`` makes re-imports idempotent."""

    __tablename__ = "payments"
    __table_args__ = (Index("ix_payments_customer_paid", "customer_id", "paid_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_key: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    debt_id: Mapped[int | None] = mapped_column(ForeignKey("debts.id", ondelete="SET NULL"))
    amount: Mapped[Decimal] = mapped_column()
    paid_on: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(200), default="")
    applied: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """What the payment settled: ``{"installments": [ids], "promises": [ids]}``."""
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
