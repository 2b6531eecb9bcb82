"""The hopper's SQL: pre-filter and claim the next lead atomically, then load its facts.

A pick walks the campaign's priority levels in order (``ix_leads_hopper`` =
campaign, priority, next_attempt_at): :func:`next_priority_level` is one index seek, and
:func:`claim_in_level` is ONE statement, ``UPDATE leads ... WHERE id = (SELECT ... LIMIT 1)``,
that takes the oldest due lead of the level that passes the pre-filters. On SQLite the
writer lock makes that statement atomic; on PostgreSQL the sub-select takes
``FOR UPDATE SKIP LOCKED`` so concurrent pickers never take the same lead and never wait.

Pre-filters (the cheap, indexed part of SPEC §4; the pure ``check_eligibility`` decides
the rest on the facts :func:`load_facts` returns): lead new/dialable and due; customer
not deceased, not disputing, not on hold; no CPF do-not-call entry in force; at least one
phone ``ok`` and not on the do-not-call list. Leads with no ``next_attempt_at`` are not
scheduled and never picked; done and stopped leads should have none (see ``finish_lead``).

A whole pick runs as ONE transaction through :func:`run_pick` on a synchronous connection
(:class:`PickQueries`): on SQLite inside aiosqlite's worker thread, so the statements, the
pure rules in between and the commit cost one hop to that thread instead of about four per
statement; on PostgreSQL through ``run_sync``. The ``async`` functions below run the same
queries on a session, for callers that already hold one.

DNC expiry dates are calendar dates at the called person's local time, which is at most
five hours behind UTC: the pre-filter keeps an entry in force until the UTC date is past
``until`` + 1 day, so it may hold a lead back a few hours longer, never let one through.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol, TypeVar, cast

from sqlalchemy import (
    Connection,
    Date,
    Dialect,
    Table,
    and_,
    bindparam,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from storage.models import (
    CallAttempt,
    Callback,
    Campaign,
    CampaignMode,
    Customer,
    CustomerHold,
    Debt,
    DebtStatus,
    DncEntry,
    DncKind,
    Lead,
    LeadState,
    Outcome,
    Phone,
    PhoneStatus,
    UtcDateTime,
)
from storage.repositories.prepared import PreparedSqlite

T = TypeVar("T")
PICKABLE = (LeadState.NEW, LeadState.DIALABLE)
ATTEMPT_WINDOW = timedelta(days=7)
"""Attempts counted for the caps (rolling 7 days, all campaigns)."""
TALK_LOOKBACK = timedelta(days=90)
"""How far back the last conversation (promise, callback request, refusal) is looked for."""


@dataclass(frozen=True, slots=True)
class ClaimRow:
    lead_id: int
    customer_id: int
    priority: int
    boost: int
    attempts: int


@dataclass(frozen=True, slots=True)
class CustomerRow:
    id: int
    external_id: str
    name: str
    cpf: str
    uf: str | None
    deceased: bool
    dispute_pending: bool
    hold_until: datetime | None
    call_window: dict[str, Any] | None
    hold_kinds: frozenset[str]


@dataclass(frozen=True, slots=True)
class PhoneRow:
    id: int
    e164: str
    kind: str
    status: str


@dataclass(frozen=True, slots=True)
class AttemptRow:
    at: datetime
    phone_e164: str
    result: str | None
    """The agent's outcome code when there is one, else the system result."""
    promise_date: date | None
    callback_at: datetime | None


@dataclass(frozen=True, slots=True)
class DncRow:
    kind: str
    value: str
    until: date | None
    source: str


@dataclass(frozen=True, slots=True)
class FactRows:
    """Everything stored that the eligibility rules look at for one customer.

    ``open_due_dates`` holds the oldest and the newest due date of the open debts (all the
    rules need: aging, and "every debt prescribed"); empty when nothing is open.
    ``open_callback`` is the customer's earliest open callback in the campaign (due, owner).
    """

    customer: CustomerRow
    phones: tuple[PhoneRow, ...]
    open_due_dates: tuple[date, ...]
    attempts: tuple[AttemptRow, ...]
    dnc: tuple[DncRow, ...]
    open_callback: tuple[datetime, int | None] | None = None


@dataclass(frozen=True, slots=True)
class CallbackRow:
    id: int
    customer_id: int
    phone_id: int | None
    owner_agent_id: int | None
    due_at: datetime


def _dnc_floor(now: datetime) -> date:
    return now.date() - timedelta(days=1)


# The hot statements are built once, on Core tables with bound parameters: building them per
# pick (ORM aliases, adaptation) cost more than running them.
_LEADS = cast(Table, Lead.__table__)
_CUSTOMERS = cast(Table, Customer.__table__)
_HOLDS = cast(Table, CustomerHold.__table__)
_DNC = cast(Table, DncEntry.__table__)
_PHONES = cast(Table, Phone.__table__)
_CALLBACKS = cast(Table, Callback.__table__)
_NOW = bindparam("now", type_=UtcDateTime())
_FLOOR = bindparam("dnc_floor", type_=Date())


def _pickable(state: Any) -> Any:
    # state = 'new' OR state = 'dialable': the same test as IN (...), without the per-execution
    # expansion of an IN list, so the statement compiles once to fixed SQL (see .prepared)
    return or_(*(state == s.value for s in PICKABLE))


def _prefilters(lead: Any) -> list[Any]:
    cust, hold, phone = _CUSTOMERS.alias("pf_c"), _HOLDS.alias("pf_h"), _PHONES.alias("pf_p")
    dnc_cpf, dnc_phone = _DNC.alias("pf_dc"), _DNC.alias("pf_dp")
    customer_ok = exists().where(
        cust.c.id == lead.c.customer_id,
        cust.c.deceased.is_(False),
        cust.c.dispute_pending.is_(False),
        or_(cust.c.hold_until.is_(None), cust.c.hold_until <= _NOW),
        ~exists().where(
            dnc_cpf.c.kind == DncKind.CPF.value,
            dnc_cpf.c.value == cust.c.cpf,
            or_(dnc_cpf.c.until.is_(None), dnc_cpf.c.until >= _FLOOR),
        ),
    )
    no_hold = ~exists().where(
        hold.c.customer_id == lead.c.customer_id,
        hold.c.released_at.is_(None),
        or_(hold.c.until.is_(None), hold.c.until > _NOW),
    )
    phone_ok = exists().where(
        phone.c.customer_id == lead.c.customer_id,
        phone.c.status == PhoneStatus.OK.value,
        ~exists().where(
            dnc_phone.c.kind == DncKind.PHONE.value,
            dnc_phone.c.value == phone.c.e164,
            or_(dnc_phone.c.until.is_(None), dnc_phone.c.until >= _FLOOR),
        ),
    )
    return [customer_ok, no_hold, phone_ok]


def _level_statement(after: bool) -> Any:
    level = select(func.min(_LEADS.c.priority)).where(_LEADS.c.campaign_id == bindparam("campaign_id"))
    if after:
        level = level.where(_LEADS.c.priority > bindparam("after"))
    return level


_FIRST_LEVEL = _level_statement(False)
_NEXT_LEVEL = _level_statement(True)
_CAMPAIGN_AND_LEVEL = select(
    _FIRST_LEVEL.scalar_subquery(), Campaign.__table__.c.window_override, Campaign.__table__.c.policy
).where(Campaign.__table__.c.id == bindparam("campaign_id"))


@dataclass(frozen=True, slots=True)
class CampaignRules:
    window_override: dict[str, Any] | None
    policy: dict[str, Any] | None
    first_level: int | None


_LEASE_END = bindparam("lease_end", type_=UtcDateTime())


def _claim_statement() -> Any:
    lead = _LEADS.alias("cand")
    pick = (
        select(lead.c.id)
        .where(
            lead.c.campaign_id == bindparam("b_campaign"),
            lead.c.priority == bindparam("b_priority"),
            lead.c.next_attempt_at <= _NOW,
            _pickable(lead.c.state),
            *_prefilters(lead),
        )
        .order_by(lead.c.next_attempt_at, lead.c.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    return (
        update(_LEADS)
        .where(_LEADS.c.id == pick, _pickable(_LEADS.c.state))
        .values(
            state=LeadState.IN_PROGRESS.value,
            claimed_by=bindparam("b_claimer"),
            claim_expires_at=bindparam("lease_end", type_=UtcDateTime()),
            # claimed leads leave the due range of the index (or every pick would step over them),
            # and a lead whose process died is due again when its lease ends
            next_attempt_at=bindparam("lease_end", type_=UtcDateTime()),
            updated_at=_NOW,
        )
        .returning(_LEADS.c.id, _LEADS.c.customer_id, _LEADS.c.priority, _LEADS.c.boost, _LEADS.c.attempts)
    )


_CLAIM = _claim_statement()


def _take_callback_statement() -> Any:
    cb = _CALLBACKS.alias("due_cb")
    owner_ok = or_(cb.c.owner_agent_id.is_(None), cb.c.owner_agent_id == bindparam("agent"))
    pick = (
        select(cb.c.id)
        .where(cb.c.campaign_id == bindparam("b_campaign"), cb.c.done_at.is_(None), cb.c.due_at <= _NOW, owner_ok)
        .order_by(cb.c.due_at, cb.c.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    return (
        update(_CALLBACKS)
        .where(_CALLBACKS.c.id == pick, _CALLBACKS.c.done_at.is_(None))
        .values(done_at=_NOW)
        .returning(
            _CALLBACKS.c.id, _CALLBACKS.c.customer_id, _CALLBACKS.c.phone_id, _CALLBACKS.c.owner_agent_id,
            _CALLBACKS.c.due_at,
        )
    )


_TAKE_CALLBACK = _take_callback_statement()


def _facts_statement() -> Any:
    c, p, d = _CUSTOMERS.alias("f_c"), _PHONES.alias("f_p"), Debt.__table__.alias("f_d")
    dc, dp, cb = _DNC.alias("f_dc"), _DNC.alias("f_dp"), _CALLBACKS.alias("f_cb")
    open_debt = and_(d.c.customer_id == c.c.id, d.c.status == DebtStatus.OPEN.value)
    cpf_entry = and_(dc.c.kind == DncKind.CPF.value, dc.c.value == c.c.cpf)
    phone_entry = and_(dp.c.kind == DncKind.PHONE.value, dp.c.value == p.c.e164)
    callback = and_(cb.c.customer_id == c.c.id, cb.c.campaign_id == bindparam("campaign"), cb.c.done_at.is_(None))
    return (
        select(
            c.c.id, c.c.external_id, c.c.name, c.c.cpf, c.c.uf, c.c.deceased, c.c.dispute_pending, c.c.hold_until,
            c.c.call_window,
            select(func.min(d.c.due_date)).where(open_debt).scalar_subquery(),
            select(func.max(d.c.due_date)).where(open_debt).scalar_subquery(),
            select(dc.c.source).where(cpf_entry).scalar_subquery(),
            select(dc.c.until).where(cpf_entry).scalar_subquery(),
            select(cb.c.due_at).where(callback).order_by(cb.c.due_at).limit(1).scalar_subquery(),
            select(cb.c.owner_agent_id).where(callback).order_by(cb.c.due_at).limit(1).scalar_subquery(),
            p.c.id, p.c.e164, p.c.kind, p.c.status,
            select(dp.c.source).where(phone_entry).scalar_subquery(),
            select(dp.c.until).where(phone_entry).scalar_subquery(),
        )
        .select_from(c.outerjoin(p, p.c.customer_id == c.c.id))
        .where(c.c.id == bindparam("customer"))
        .order_by(p.c.last_attempt_at.asc().nulls_first(), p.c.id)
    )


_FACTS = _facts_statement()
_ATTEMPTS_TABLE, _OUTCOMES_TABLE = cast(Table, CallAttempt.__table__), cast(Table, Outcome.__table__)
_ATTEMPTS = (
    select(
        _ATTEMPTS_TABLE.c.created_at, _ATTEMPTS_TABLE.c.number, _ATTEMPTS_TABLE.c.result, _OUTCOMES_TABLE.c.code,
        _OUTCOMES_TABLE.c.promise_date, _OUTCOMES_TABLE.c.callback_at,
    )
    .select_from(_ATTEMPTS_TABLE.outerjoin(_OUTCOMES_TABLE, _OUTCOMES_TABLE.c.attempt_id == _ATTEMPTS_TABLE.c.id))
    .where(
        _ATTEMPTS_TABLE.c.customer_id == bindparam("customer"),
        _ATTEMPTS_TABLE.c.created_at > bindparam("talk_since", type_=UtcDateTime()),
        or_(
            _ATTEMPTS_TABLE.c.created_at > bindparam("attempts_since", type_=UtcDateTime()),
            _OUTCOMES_TABLE.c.id.is_not(None),
        ),
    )
    .order_by(_ATTEMPTS_TABLE.c.created_at)
)
_HOLD_KINDS = select(_HOLDS.c.kind).where(
    _HOLDS.c.customer_id == bindparam("customer"),
    _HOLDS.c.released_at.is_(None),
    or_(_HOLDS.c.until.is_(None), _HOLDS.c.until > _NOW),
)


_CLAIM_CUSTOMER = (
    update(_LEADS)
    .where(
        _LEADS.c.campaign_id == bindparam("b_campaign"),
        _LEADS.c.customer_id == bindparam("b_customer"),
        _pickable(_LEADS.c.state),
    )
    .values(
        state=LeadState.IN_PROGRESS.value,
        claimed_by=bindparam("b_claimer"),
        claim_expires_at=_LEASE_END,
        next_attempt_at=_LEASE_END,
        updated_at=_NOW,
    )
    .returning(_LEADS.c.id, _LEADS.c.customer_id, _LEADS.c.priority, _LEADS.c.boost, _LEADS.c.attempts)
)
_REOPEN_CALLBACK = (
    update(_CALLBACKS)
    .where(_CALLBACKS.c.id == bindparam("b_id"))
    .values(done_at=None, due_at=bindparam("b_due", type_=UtcDateTime()))
)
_PUT_BACK = (
    update(_LEADS)
    .where(_LEADS.c.id == bindparam("b_id"))
    .values(
        state=LeadState.DIALABLE.value,
        next_attempt_at=bindparam("b_next", type_=UtcDateTime()),
        claimed_by=None,
        claim_expires_at=None,
        updated_at=_NOW,
    )
)


# a new call attempt, stored in the claim's own transaction (claim and attempt commit together)
_INSERT_ATTEMPT = insert(_ATTEMPTS_TABLE).values(
    id=bindparam("a_id"),
    campaign_id=bindparam("a_campaign"),
    lead_id=bindparam("a_lead"),
    customer_id=bindparam("a_customer"),
    phone_id=bindparam("a_phone"),
    agent_id=bindparam("a_agent"),
    mode=bindparam("a_mode"),
    number=bindparam("a_number"),
    caller_id=bindparam("a_caller_id"),
    pbx_name=bindparam("a_pbx"),
    created_at=bindparam("a_created"),
    originated_at=bindparam("a_originated"),
    abandoned=False,
    short_call=False,
)


@dataclass(frozen=True, slots=True)
class NewAttempt:
    """A call attempt to store with its lead's claim (``originated_at`` None: a preview, not dialled yet)."""

    id: str
    campaign_id: int
    lead_id: int | None
    customer_id: int | None
    phone_id: int | None
    agent_id: int | None
    mode: CampaignMode
    number: str
    caller_id: str | None
    pbx_name: str | None
    created_at: datetime
    originated_at: datetime | None


class _Runner(Protocol):
    def __call__(self, statement: Any, values: dict[str, Any]) -> Sequence[Sequence[Any]]: ...


class PickQueries:
    """The hopper's statements on one synchronous connection, inside the caller's transaction.

    Synchronous so that a whole pick can run where the connection lives: on SQLite in the
    driver's worker thread (:func:`run_pick`), on PostgreSQL in SQLAlchemy's greenlet. Built
    on a SQLAlchemy ``Connection``, or with :meth:`on_sqlite` on the raw sqlite3 connection
    (the statements prepared once, see :mod:`storage.repositories.prepared`).
    """

    def __init__(self, conn: Connection | None = None, *, runner: _Runner | None = None) -> None:
        if runner is None:
            if conn is None:
                raise TypeError("PickQueries needs a connection or a runner")

            def runner(statement: Any, values: dict[str, Any]) -> Sequence[Sequence[Any]]:
                result = conn.execute(statement, values)
                return result.all() if result.returns_rows else ()

        self._rows = runner

    @classmethod
    def on_sqlite(cls, raw: Any, prepared: dict[Any, PreparedSqlite], dialect: Dialect) -> PickQueries:
        """Queries straight on a sqlite3 connection (``prepared`` caches the compiled statements)."""

        def run(statement: Any, values: dict[str, Any]) -> Sequence[Sequence[Any]]:
            ready = prepared.get(statement)
            if ready is None:
                ready = prepared[statement] = PreparedSqlite(statement, dialect)
            return ready.rows(raw, values)

        return cls(runner=run)

    def _first(self, statement: Any, values: dict[str, Any]) -> Sequence[Any] | None:
        rows = self._rows(statement, values)
        return rows[0] if rows else None

    def campaign_rules(self, campaign_id: int) -> CampaignRules | None:
        row = self._first(_CAMPAIGN_AND_LEVEL, {"campaign_id": campaign_id})
        return None if row is None else CampaignRules(row[1], row[2], row[0])

    def next_priority_level(self, campaign_id: int, after: int | None) -> int | None:
        if after is None:
            row = self._first(_FIRST_LEVEL, {"campaign_id": campaign_id})
        else:
            row = self._first(_NEXT_LEVEL, {"campaign_id": campaign_id, "after": after})
        return None if row is None else row[0]

    def claim_in_level(
        self, campaign_id: int, priority: int, *, now: datetime, claimer: str, lease: timedelta
    ) -> ClaimRow | None:
        row = self._first(
            _CLAIM,
            {
                "b_campaign": campaign_id,
                "b_priority": priority,
                "now": now,
                "dnc_floor": _dnc_floor(now),
                "b_claimer": claimer,
                "lease_end": now + lease,
            },
        )
        return None if row is None else ClaimRow(*row)

    def claim_lead(
        self, campaign_id: int, customer_id: int, *, now: datetime, claimer: str, lease: timedelta
    ) -> ClaimRow | None:
        row = self._first(
            _CLAIM_CUSTOMER,
            {"b_campaign": campaign_id, "b_customer": customer_id, "b_claimer": claimer, "lease_end": now + lease,
             "now": now},
        )
        return None if row is None else ClaimRow(*row)

    def take_due_callback(self, campaign_id: int, *, now: datetime, agent_id: int | None) -> CallbackRow | None:
        row = self._first(_TAKE_CALLBACK, {"b_campaign": campaign_id, "now": now, "agent": agent_id})
        return None if row is None else CallbackRow(*row)

    def reopen_callback(self, callback_id: int, *, due_at: datetime) -> None:
        self._rows(_REOPEN_CALLBACK, {"b_id": callback_id, "b_due": due_at})

    def put_back(self, lead_id: int, *, now: datetime, next_attempt_at: datetime) -> None:
        """End a claim untouched: the lead is dialable again at ``next_attempt_at``."""
        self._rows(_PUT_BACK, {"b_id": lead_id, "b_next": next_attempt_at, "now": now})

    def insert_attempt(self, a: NewAttempt) -> None:
        """Store ``a`` in this transaction (the claim of its lead commits with it)."""
        self._rows(
            _INSERT_ATTEMPT,
            {"a_id": a.id, "a_campaign": a.campaign_id, "a_lead": a.lead_id, "a_customer": a.customer_id,
             "a_phone": a.phone_id, "a_agent": a.agent_id, "a_mode": a.mode, "a_number": a.number,
             "a_caller_id": a.caller_id, "a_pbx": a.pbx_name, "a_created": a.created_at,
             "a_originated": a.originated_at},
        )

    def load_facts(
        self, customer_id: int, *, campaign_id: int, now: datetime, with_holds: bool = True
    ) -> FactRows | None:
        rows = self._rows(_FACTS, {"customer": customer_id, "campaign": campaign_id})
        if not rows:
            return None
        first = rows[0]
        kinds: frozenset[str] = frozenset()
        if with_holds:
            found = self._rows(_HOLD_KINDS, {"customer": customer_id, "now": now})
            kinds = frozenset(str(k[0]) for k in found)
        customer = CustomerRow(
            first[0], first[1], first[2], first[3], first[4], first[5], first[6], first[7], first[8], kinds
        )
        oldest, newest, cpf_source, cpf_until, callback_due, callback_owner = first[9:15]
        dnc = [DncRow(DncKind.CPF.value, customer.cpf, cpf_until, cpf_source)] if cpf_source is not None else []
        phones = []
        for row in rows:
            phone_id, e164, kind, status, phone_source, phone_until = row[15:]
            if phone_id is None:
                continue
            phones.append(PhoneRow(phone_id, e164, kind, status))
            if phone_source is not None:
                dnc.append(DncRow(DncKind.PHONE.value, e164, phone_until, phone_source))
        attempts = tuple(
            AttemptRow(at, number, code or result, promise_date, callback_at)
            for at, number, result, code, promise_date, callback_at in self._rows(
                _ATTEMPTS,
                {"customer": customer_id, "talk_since": now - TALK_LOOKBACK, "attempts_since": now - ATTEMPT_WINDOW},
            )
        )
        return FactRows(
            customer,
            tuple(phones),
            () if oldest is None else (oldest, newest),
            attempts,
            tuple(dnc),
            None if callback_due is None else (callback_due, callback_owner),
        )


# ---------------------------------------------------------------- running a pick

# A pick on SQLite runs in the thread aiosqlite gives each connection, straight on its
# sqlite3 connection: one hop to the thread for the whole pick instead of one per statement,
# and the statements prepared once (PreparedSqlite) with SQLAlchemy's type processing.
PICK_CACHE_KIB = 32 * 1024
GENERIC_PLANS = "SET LOCAL plan_cache_mode = force_generic_plan"
"""PostgreSQL: the pick's transaction runs its prepared statements on their generic plans."""
_SET_UP: weakref.WeakSet[Any] = weakref.WeakSet()
_PREPARED: dict[Any, PreparedSqlite] = {}
"""The hot statements compiled for SQLite (the dialect's processors don't depend on the connection)."""


def _sqlite_raw(driver_connection: Any) -> Any:
    raw = driver_connection._conn  # the sqlite3.Connection, already set up by storage.engine
    if driver_connection not in _SET_UP:
        # A pick touches a few pages of several tables scattered over a large file: SQLite's
        # default 2 MB page cache makes most of them OS reads (measured: ~40% of a pick at 1M leads)
        raw.execute(f"PRAGMA cache_size=-{PICK_CACHE_KIB}")
        _SET_UP.add(driver_connection)
    return raw


def _in_sqlite_thread(raw: Any, dialect: Dialect, work: Callable[[PickQueries], T]) -> T:
    # the connection is in autocommit mode (storage.engine): BEGIN IMMEDIATE takes the writer
    # lock first, as the async engine's write sessions do, and waits out busy_timeout; a read
    # session may have left query_only on this pooled connection (storage.engine._on_sqlite_begin;
    # setting it expires every prepared statement, so only when it is on)
    if raw.execute("PRAGMA query_only").fetchone()[0]:
        raw.execute("PRAGMA query_only=OFF")
    raw.execute("BEGIN IMMEDIATE")
    try:
        result = work(PickQueries.on_sqlite(raw, _PREPARED, dialect))
    except BaseException:
        raw.execute("ROLLBACK")
        raise
    raw.execute("COMMIT")
    return result


async def run_pick(engine: AsyncEngine, work: Callable[[PickQueries], T]) -> T:
    """Run ``work`` in one transaction and commit; roll back if it raises.

    SQLite: in aiosqlite's worker thread, in one hop (the pool's connection is taken and
    given back without a statement of its own). PostgreSQL: through ``run_sync``, each
    statement one round trip on asyncpg (prepared by the driver's statement cache) on its
    generic plan (:data:`GENERIC_PLANS`).
    """
    if engine.dialect.name == "sqlite":
        async with engine.connect() as async_conn:
            raw = await async_conn.get_raw_connection()
            driver = raw.driver_connection
            result: T = await driver._execute(  # type: ignore[union-attr]
                _in_sqlite_thread, _sqlite_raw(driver), engine.dialect, work
            )
            return result
    async with engine.begin() as async_conn:
        # The driver prepares each statement once, but PostgreSQL re-plans a prepared statement
        # for its values ("custom plans") while it thinks that pays: the claim's custom plans took
        # ~8 ms a pick at 1M leads against 0.3 ms for its generic plan (the same index walk)
        await async_conn.exec_driver_sql(GENERIC_PLANS)
        return await async_conn.run_sync(lambda conn: work(PickQueries(conn)))


# ---------------------------------------------------------------- the same, on a session


async def campaign_rules(session: AsyncSession, campaign_id: int) -> CampaignRules | None:
    """The campaign's window and policy, and its first priority level, in one round trip (None: no campaign)."""
    conn = await session.connection()
    return await conn.run_sync(lambda c: PickQueries(c).campaign_rules(campaign_id))


async def next_priority_level(session: AsyncSession, campaign_id: int, after: int | None) -> int | None:
    """The smallest lead priority of the campaign above ``after`` (one index seek), None past the last."""
    conn = await session.connection()
    return await conn.run_sync(lambda c: PickQueries(c).next_priority_level(campaign_id, after))


async def claim_in_level(
    session: AsyncSession, campaign_id: int, priority: int, *, now: datetime, claimer: str, lease: timedelta
) -> ClaimRow | None:
    """Take the oldest due, pre-filtered lead of one priority level, or None if the level has none."""
    conn = await session.connection()
    return await conn.run_sync(
        lambda c: PickQueries(c).claim_in_level(campaign_id, priority, now=now, claimer=claimer, lease=lease)
    )


async def claim_lead(
    session: AsyncSession, campaign_id: int, customer_id: int, *, now: datetime, claimer: str, lease: timedelta
) -> ClaimRow | None:
    """Take the customer's lead in the campaign if it is new or dialable (for a callback)."""
    conn = await session.connection()
    return await conn.run_sync(
        lambda c: PickQueries(c).claim_lead(campaign_id, customer_id, now=now, claimer=claimer, lease=lease)
    )


async def take_due_callback(
    session: AsyncSession, campaign_id: int, *, now: datetime, agent_id: int | None
) -> CallbackRow | None:
    """Mark the oldest due callback done and return it: unowned ones, and those owned by ``agent_id``.

    One statement, and the first of a pick's transaction: on SQLite it takes the writer lock
    before anything is read (a read first would make a concurrent picker fail with "database
    is locked" instead of waiting); on PostgreSQL the sub-select skips rows others hold.
    """
    conn = await session.connection()
    return await conn.run_sync(lambda c: PickQueries(c).take_due_callback(campaign_id, now=now, agent_id=agent_id))


async def reopen_callback(session: AsyncSession, callback_id: int, *, due_at: datetime) -> None:
    """A taken callback that can't be made now (window closed, cap reached) is open again, due at ``due_at``."""
    conn = await session.connection()
    await conn.run_sync(lambda c: PickQueries(c).reopen_callback(callback_id, due_at=due_at))


async def load_facts(
    session: AsyncSession, customer_id: int, *, campaign_id: int, now: datetime, with_holds: bool = True
) -> FactRows | None:
    """The stored facts of one customer for the eligibility rules (attempts across ALL campaigns).

    Two round trips (three with ``with_holds``): the customer with its phones, debts' due
    dates, matching do-not-call entries and open callback; then its attempts. A pick that
    came through the SQL pre-filter may skip the holds: it already knows there are none.
    """
    conn = await session.connection()
    return await conn.run_sync(
        lambda c: PickQueries(c).load_facts(customer_id, campaign_id=campaign_id, now=now, with_holds=with_holds)
    )


async def put_back(
    session: AsyncSession,
    lead_id: int,
    *,
    now: datetime,
    next_attempt_at: datetime,
    last_result: str | None = None,
    count_attempt: bool = False,
) -> None:
    """End a claim: the lead is dialable again at ``next_attempt_at``."""
    values: dict[str, Any] = {
        "state": LeadState.DIALABLE,
        "next_attempt_at": next_attempt_at,
        "claimed_by": None,
        "claim_expires_at": None,
        "updated_at": now,
    }
    if last_result is not None:
        values["last_result"] = last_result[:20]
    if count_attempt:
        values["attempts"] = Lead.attempts + 1
    await session.execute(update(Lead).where(Lead.id == lead_id).values(**values))


async def finish_lead(
    session: AsyncSession, lead_id: int, *, now: datetime, state: LeadState, last_result: str | None
) -> None:
    """End a lead for good (done or stopped): no next attempt, so the hopper's index skips it."""
    await session.execute(
        update(Lead)
        .where(Lead.id == lead_id)
        .values(
            state=state,
            next_attempt_at=None,
            last_result=None if last_result is None else last_result[:20],
            claimed_by=None,
            claim_expires_at=None,
            attempts=Lead.attempts + 1,
            updated_at=now,
        )
    )


async def count_due(session: AsyncSession, campaign_id: int, *, now: datetime) -> int:
    """Leads of the campaign new/dialable and due now (before eligibility), for reports."""
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Lead)
            .where(Lead.campaign_id == campaign_id, Lead.state.in_(PICKABLE), Lead.next_attempt_at <= now)
        )
        or 0
    )
