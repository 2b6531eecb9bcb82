"""Call records for QA: a filtered keyset page, a streamed export and one call's detail (SPEC §8).

Pages are ordered ``created_at DESC, id DESC`` and seek past the previous page's last key
(``(created_at, id) < cursor``), so a deep page costs what the first one does; the three
``ix_call_attempts_*created_id`` indexes serve the unfiltered, per-campaign and per-agent
reads, and the partial ``ix_call_attempts_amount_created_id`` the amount range (on
``call_attempts.amount``, which :func:`refresh_call_amount` keeps). Everything here is Core
(rows, not ORM objects); the export reads the driver's cursor: a million rows in flat memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Table,
    Text,
    case,
    cast,
    exists,
    func,
    literal,
    literal_column,
    select,
    text,
    tuple_,
    type_coerce,
    union,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from storage.models import (
    Agreement,
    CallAttempt,
    CallFlag,
    CallReview,
    Campaign,
    Customer,
    Debt,
    DebtStatus,
    Outcome,
    Promise,
    ScriptRunRecord,
    User,
)

CA: Table = CallAttempt.__table__  # type: ignore[assignment]  # typed as FromClause, it is the Table
_OUTCOMES = Outcome.__table__
_AGREEMENTS = Agreement.__table__
EXPORT_BATCH = 5000


@dataclass(frozen=True, slots=True)
class CallQuery:
    """The filters of a page or an export (dialer.qa.records.CallFilter, in storage's terms)."""

    start: datetime | None = None
    end: datetime | None = None
    agent: str | None = None
    outcome: str | None = None
    campaign_id: int | None = None
    result: str | None = None
    min_talk_s: int | None = None
    max_talk_s: int | None = None
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    flagged: bool | None = None
    reviewed: bool | None = None
    after: tuple[datetime, str] | None = None
    limit: int = 50
    ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CallRow:
    id: str
    created_at: datetime
    connected_at: datetime | None
    ended_at: datetime | None
    result: str | None
    number: str
    recording_path: str | None
    campaign_id: int
    campaign: str | None
    agent: str | None
    customer: str | None
    outcome: str | None
    amount: Decimal | None
    flagged: bool
    reviewed: bool


def _talk_expr(dialect: str) -> ColumnElement[Any]:
    if dialect == "sqlite":
        return (func.julianday(CA.c.ended_at) - func.julianday(CA.c.connected_at)) * 86400
    return func.extract("epoch", CA.c.ended_at - CA.c.connected_at)


def _flagged() -> ColumnElement[bool]:
    return exists().where(CallFlag.attempt_id == CA.c.id)


def _reviewed() -> ColumnElement[bool]:
    return exists().where(CallReview.attempt_id == CA.c.id)


def _has_review(dialect: str) -> ColumnElement[bool]:
    """"Has a review" as a filter. Reviewed calls are rare (one in 200): a first page walks ~10,000 calls
    for its 50, and an index probe into call_reviews for each cost PostgreSQL ~30 ms. Wrapped in ``IS TRUE``
    the EXISTS stays a subplan, which PostgreSQL runs hashed (the reviewed ids read once, then a hash probe
    per call: ~4 ms). SQLite keeps the plain EXISTS: its probes are cheap, and as ``IN`` it would drive the
    page from call_reviews and sort every reviewed call."""
    if dialect == "postgresql":
        return _reviewed().is_(True)
    return _reviewed()


def _amount_between(low: Decimal | None, high: Decimal | None) -> list[ColumnElement[bool]]:
    """The call's amount (``call_attempts.amount``: its agreement's total, else its promise) within ``[low, high]``.

    ``amount IS NOT NULL`` spelled out: it is the predicate of ``ix_call_attempts_amount_created_id``, which
    both planners then walk in keyset order, testing the amount in the index."""
    out: list[ColumnElement[bool]] = [CA.c.amount.is_not(None)]
    if low is not None:
        out.append(CA.c.amount >= low)
    if high is not None:
        out.append(CA.c.amount <= high)
    return out


async def refresh_call_amount(session: AsyncSession, attempt_id: str) -> None:
    """Set ``call_attempts.amount`` of ``attempt_id`` from its agreement and outcome as stored now.

    Called by whatever writes either (``add_outcome``, ``add_agreement``). The call's row is locked
    first (PostgreSQL; SQLite has one writer anyway): the UPDATE's own snapshot then sees an agreement
    or outcome another transaction committed while this one waited, so the last writer's amount is
    right whichever order the two commit in."""
    await session.execute(select(CA.c.id).where(CA.c.id == attempt_id).with_for_update())
    await session.execute(
        update(CA).where(CA.c.id == attempt_id).values(amount=func.coalesce(
            select(_AGREEMENTS.c.total).where(_AGREEMENTS.c.attempt_id == attempt_id).scalar_subquery(),
            select(_OUTCOMES.c.promise_amount).where(_OUTCOMES.c.attempt_id == attempt_id).scalar_subquery(),
        ))
    )


async def refresh_all_call_amounts(session: AsyncSession) -> int:
    """Recompute the amount of every call with an outcome or an agreement (after bulk inserts that bypass
    :func:`refresh_call_amount`, e.g. the demo's history); the number of calls updated."""
    with_amount_source = union(
        select(_OUTCOMES.c.attempt_id), select(_AGREEMENTS.c.attempt_id).where(_AGREEMENTS.c.attempt_id.is_not(None))
    )
    done = await session.execute(
        update(CA).where(CA.c.id.in_(with_amount_source)).values(amount=func.coalesce(
            select(_AGREEMENTS.c.total).where(_AGREEMENTS.c.attempt_id == CA.c.id).scalar_subquery(),
            select(_OUTCOMES.c.promise_amount).where(_OUTCOMES.c.attempt_id == CA.c.id).scalar_subquery(),
        ))
    )
    return int(done.rowcount or 0)  # type: ignore[attr-defined]


def _base(start: Any = None) -> Select[Any]:
    return select(
        CA.c.id,
        CA.c.created_at,
        CA.c.connected_at,
        CA.c.ended_at,
        CA.c.result,
        CA.c.number,
        CA.c.recording_path,
        CA.c.campaign_id,
        Campaign.name,
        User.login,
        Customer.name,
        Outcome.code,
        CA.c.amount,
        _flagged().label("flagged"),
        _reviewed().label("reviewed"),
    ).select_from(_joins(start))


def _joins(start: Any = None) -> Any:
    """``start`` (default: call_attempts) with the tables the columns come from, outer-joined."""
    return (
        (CA if start is None else start).outerjoin(User, User.id == CA.c.agent_id)
        .outerjoin(Campaign, Campaign.id == CA.c.campaign_id)
        .outerjoin(Customer, Customer.id == CA.c.customer_id)
        .outerjoin(Outcome, Outcome.attempt_id == CA.c.id)
    )


async def _agent_id(session: AsyncSession, login: str) -> int | None:
    return (await session.execute(select(User.id).where(User.login == login))).scalar_one_or_none()


async def _filtered(session: AsyncSession, q: CallQuery, stmt: Select[Any] | None = None) -> Select[Any] | None:
    """The query of ``q`` on ``stmt`` (default: the page's columns); None: it can match nothing (an unknown agent)."""
    stmt = _base() if stmt is None else stmt
    if q.agent is not None:
        agent_id = await _agent_id(session, q.agent)
        if agent_id is None:
            return None
        stmt = stmt.where(CA.c.agent_id == agent_id)
    if q.campaign_id is not None:
        stmt = stmt.where(CA.c.campaign_id == q.campaign_id)
    if q.start is not None:
        stmt = stmt.where(CA.c.created_at >= q.start)
    if q.end is not None:
        stmt = stmt.where(CA.c.created_at < q.end)
    if q.result is not None:
        stmt = stmt.where(CA.c.result == q.result)
    if q.outcome is not None:
        # EXISTS, not the join's column: the page keeps reading call_attempts in keyset order
        o = _OUTCOMES.alias("o_filter")
        stmt = stmt.where(exists().where(o.c.attempt_id == CA.c.id, o.c.code == q.outcome))
    if q.min_talk_s is not None or q.max_talk_s is not None:
        talk = _talk_expr(session.get_bind().dialect.name)
        stmt = stmt.where(CA.c.connected_at.is_not(None), CA.c.ended_at.is_not(None))
        if q.min_talk_s is not None:
            stmt = stmt.where(talk >= q.min_talk_s)
        if q.max_talk_s is not None:
            stmt = stmt.where(talk < q.max_talk_s + 1)  # whole seconds: 59.6 s counts as 59
    if q.min_amount is not None or q.max_amount is not None:
        stmt = stmt.where(*_amount_between(q.min_amount, q.max_amount))
    if q.flagged is not None:
        stmt = stmt.where(_flagged() if q.flagged else ~_flagged())
    if q.reviewed is not None:
        stmt = stmt.where(_has_review(session.get_bind().dialect.name) if q.reviewed else ~_reviewed())
    if q.ids:
        stmt = stmt.where(CA.c.id.in_(q.ids))
    if q.after is not None:
        stmt = stmt.where(tuple_(CA.c.created_at, CA.c.id) < tuple_(literal(q.after[0], CA.c.created_at.type), q.after[1]))
    return stmt.order_by(CA.c.created_at.desc(), CA.c.id.desc())


def _row(r: Sequence[Any]) -> CallRow:
    return CallRow(
        r[0], r[1], r[2], r[3], None if r[4] is None else str(r[4]), r[5], r[6], r[7], r[8], r[9], r[10],
        None if r[11] is None else str(r[11]), r[12], bool(r[13]), bool(r[14]),
    )


async def _page_keys(session: AsyncSession, q: CallQuery) -> Select[Any] | None:
    """``(id, created_at)`` of the page's rows in keyset order (not yet limited); None: nothing can match."""
    return await _filtered(session, q, select(CA.c.id, CA.c.created_at).select_from(CA))


async def list_calls(session: AsyncSession, q: CallQuery) -> tuple[list[CallRow], bool]:
    """One page of ``q`` (at most ``q.limit`` rows) and whether more follow.

    Two steps in one statement: the page's keys from call_attempts alone (an index range in
    keyset order, filters as EXISTS), then the joins for those rows only, so no planner is
    tempted to hash-join a million rows for 50 (PostgreSQL was, with the joins up front)."""
    keys = await _page_keys(session, q)
    if keys is None:
        return [], False
    if session.get_bind().dialect.name == "postgresql":
        # parallel workers each race down the index for the whole page and the leader merges: on a filter
        # that matches one call in 200 that costs 10x the single scan a 50-row page needs
        await session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
    page = keys.limit(q.limit + 1).subquery("page")
    stmt = _base(page.join(CA, CA.c.id == page.c.id)).order_by(page.c.created_at.desc(), page.c.id.desc())
    rows = (await session.execute(stmt)).all()
    return [_row(r) for r in rows[: q.limit]], len(rows) > q.limit


def _export_select(dialect: str, *, marks: bool = True) -> Select[Any]:
    """The export's columns, formatted by the database (C, not Python, per row of a million).

    Order: id, started (``dd/mm/aaaa HH:MM:SS`` in Brasília, UTC-3), agent login, campaign name,
    customer name, number, result, outcome, talk seconds, amount (``1234,56``), flagged,
    reviewed, recording path.
    """
    amount = CA.c.amount
    if dialect == "sqlite":
        started = func.strftime("%d/%m/%Y %H:%M:%S", CA.c.created_at, "-3 hours")
        millis = (func.julianday(CA.c.ended_at) - func.julianday(CA.c.connected_at)) * 86_400_000.0 + 0.5
        talk = cast(millis, Integer) // 1000
        money = func.replace(func.printf("%.2f", amount), ".", ",")
    else:
        local = func.timezone("UTC", CA.c.created_at) - literal_column("interval '3 hours'")
        started = func.to_char(local, "DD/MM/YYYY HH24:MI:SS")
        talk = cast(func.floor(func.extract("epoch", CA.c.ended_at - CA.c.connected_at)), Integer)
        money = func.replace(cast(amount, Text), ".", ",")
    marked: list[ColumnElement[Any]] = []
    if marks:  # without: the caller adds flagged and reviewed itself (see stream_call_batches)
        marked = [type_coerce(_flagged(), Integer), type_coerce(_reviewed(), Integer)]  # 0/1: no Boolean processing
    return select(
        CA.c.id,
        started,
        User.login,
        Campaign.name,
        Customer.name,
        CA.c.number,
        CA.c.result,
        Outcome.code,
        case((CA.c.connected_at.is_(None), None), else_=talk),
        case((amount.is_(None), None), else_=money),
        *marked,
        CA.c.recording_path,
    ).select_from(_joins())


def _driver_sql(stmt: Select[Any], dialect: Any) -> tuple[str, list[Any]] | None:
    """``stmt`` as the driver's own SQL text and positional arguments (bind processors applied: the
    UTC datetime type, numbers); None when it has expanding IN lists (the generic path handles those)."""
    compiled = stmt.compile(dialect=dialect)
    if not compiled.positional or compiled.positiontup is None:
        return None
    if any(b.expanding for b in compiled.binds.values()):
        return None
    params = compiled.construct_params()
    args = []
    for name in compiled.positiontup:
        value = params[name]
        proc = compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
        args.append(value if proc is None else proc(value))
    return str(compiled), args


async def _sqlite_batches(driver: Any, sql: str, args: list[Any], batch: int) -> AsyncIterator[list[Any]]:
    """Rows straight from the aiosqlite cursor, ``batch`` at a time, the next batch read while the caller
    formats this one (sqlite3 steps in aiosqlite's thread; formatting runs in the loop's)."""
    cursor = await driver.execute(sql, args)
    ahead: asyncio.Future[list[Any]] | None = asyncio.ensure_future(cursor.fetchmany(batch))
    try:
        while ahead is not None:
            rows = await ahead
            ahead = None
            if not rows:
                break
            ahead = asyncio.ensure_future(cursor.fetchmany(batch))
            yield rows
    finally:
        if ahead is not None:  # the caller stopped early: let the pending fetch finish before closing
            await asyncio.gather(ahead, return_exceptions=True)
        await cursor.close()


async def _pg_batches(driver: Any, sql: str, args: list[Any], batch: int) -> AsyncIterator[list[Any]]:
    """Rows from an asyncpg server-side cursor, ``batch`` at a time, the next batch on the wire while the
    caller formats this one (asyncpg cursors live in a transaction: the session's)."""
    cursor = await driver.cursor(sql, *args)
    ahead: asyncio.Future[list[Any]] | None = asyncio.ensure_future(cursor.fetch(batch))
    try:
        while ahead is not None:
            rows = await ahead
            ahead = None
            if not rows:
                break
            if len(rows) == batch:
                ahead = asyncio.ensure_future(cursor.fetch(batch))
            yield rows
    finally:
        if ahead is not None:
            await asyncio.gather(ahead, return_exceptions=True)


async def stream_call_batches(
    session: AsyncSession, q: CallQuery, *, batch: int = EXPORT_BATCH
) -> AsyncIterator[list[Sequence[Any]]]:
    """Every row of ``q`` as text-ready tuples (see :func:`_export_select`), in lists of up to ``batch``.

    Straight from the driver's cursor (no SQLAlchemy row per row), server-side on PostgreSQL and
    stepped on SQLite, with one batch read ahead: a million rows in flat memory."""
    dialect = session.get_bind().dialect
    # SQLite probes call_flags and call_reviews per row for the two EXISTS (a fifth of the export's time at
    # a million calls); their call ids, read once, answer from memory instead. They are the flagged and
    # reviewed calls (a few per cent): memory stays flat while the rows stream.
    in_memory_marks = dialect.name == "sqlite"
    stmt = await _filtered(session, q, _export_select(dialect.name, marks=not in_memory_marks))
    if stmt is None:
        return
    conn = await session.connection()
    if in_memory_marks:
        flagged = set((await conn.execute(select(CallFlag.attempt_id).distinct())).scalars())
        reviewed = set((await conn.execute(select(CallReview.attempt_id).distinct())).scalars())
        async for rows in _stream_native(conn, stmt, batch):
            yield [(*r[:10], r[0] in flagged, r[0] in reviewed, r[10]) for r in rows]
        return
    async for rows in _stream_native(conn, stmt, batch):
        yield rows


async def _stream_native(conn: AsyncConnection, stmt: Select[Any], batch: int) -> AsyncIterator[list[Any]]:
    """``stmt``'s rows in lists of up to ``batch``, from the driver's cursor where we know the driver."""
    dialect = conn.dialect
    if dialect.name == "postgresql":
        # one scan in keyset order, no parallel workers to merge (the export is read in order anyway)
        await conn.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
    native = _driver_sql(stmt, conn.dialect)
    if native is None or dialect.name not in ("sqlite", "postgresql"):
        result = await conn.stream(stmt.execution_options(yield_per=batch))
        async for partition in result.partitions(batch):
            yield list(partition)
        return
    driver = (await conn.get_raw_connection()).driver_connection
    batches = _sqlite_batches if dialect.name == "sqlite" else _pg_batches
    async for rows in batches(driver, native[0], native[1], batch):
        yield rows


async def stream_calls(session: AsyncSession, q: CallQuery) -> AsyncIterator[Sequence[Any]]:
    """Every row of ``q``, one at a time (see :func:`stream_call_batches`)."""
    async for rows in stream_call_batches(session, q):
        for row in rows:
            yield row


async def flags_of(session: AsyncSession, call_ids: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
    """call id → its flags ``(code, detail)``."""
    out: dict[str, list[tuple[str, str]]] = {}
    if not call_ids:
        return out
    rows = await session.execute(
        select(CallFlag.attempt_id, CallFlag.code, CallFlag.detail)
        .where(CallFlag.attempt_id.in_(call_ids))
        .order_by(CallFlag.attempt_id, CallFlag.code)
    )
    for attempt_id, code, detail in rows:
        out.setdefault(attempt_id, []).append((code, detail))
    return out


@dataclass(frozen=True, slots=True)
class CallDetail:
    """Everything stored about one call (ORM rows, read-only)."""

    call: CallAttempt
    campaign: str | None
    agent_login: str | None
    agent_name: str | None
    customer_name: str | None
    customer_balance: Decimal | None
    outcome: Outcome | None
    agreement: Agreement | None
    promise: Promise | None
    script_run: ScriptRunRecord | None
    flags: list[tuple[str, str]]


async def call_detail(session: AsyncSession, call_id: str) -> CallDetail | None:
    call = await session.get(CallAttempt, call_id)
    if call is None:
        return None
    campaign = await session.get(Campaign, call.campaign_id)
    agent = None if call.agent_id is None else await session.get(User, call.agent_id)
    customer = None if call.customer_id is None else await session.get(Customer, call.customer_id)

    async def one(model: Any) -> Any:
        return (await session.execute(select(model).where(model.attempt_id == call_id))).scalar_one_or_none()

    return CallDetail(
        call=call,
        campaign=None if campaign is None else campaign.name,
        agent_login=None if agent is None else agent.login,
        agent_name=None if agent is None else agent.full_name,
        customer_name=None if customer is None else customer.name,
        customer_balance=None if customer is None else await _open_balance(session, customer.id),
        outcome=await one(Outcome),
        agreement=await one(Agreement),
        promise=await one(Promise),
        script_run=await one(ScriptRunRecord),
        flags=(await flags_of(session, [call_id])).get(call_id, []),
    )


async def _open_balance(session: AsyncSession, customer_id: int) -> Decimal | None:
    """What the customer owes now: the sum of their open debts' balances (None: no open debt on file)."""
    total = (
        await session.execute(
            select(func.sum(Debt.balance)).where(Debt.customer_id == customer_id, Debt.status == DebtStatus.OPEN)
        )
    ).scalar_one_or_none()
    return None if total is None else Decimal(str(total))


async def disposed_call_ids(
    session: AsyncSession, *, start: datetime | None = None, end: datetime | None = None
) -> list[str]:
    """Ids of calls with an outcome (created in ``[start, end)``), for recomputing flags."""
    stmt = select(Outcome.attempt_id).join(CA, CA.c.id == Outcome.attempt_id)
    if start is not None:
        stmt = stmt.where(CA.c.created_at >= start)
    if end is not None:
        stmt = stmt.where(CA.c.created_at < end)
    return list((await session.execute(stmt.order_by(CA.c.created_at))).scalars())


__all__ = [
    "CallDetail", "CallQuery", "CallRow", "call_detail", "disposed_call_ids", "flags_of", "list_calls",
    "refresh_all_call_amounts", "refresh_call_amount", "stream_call_batches", "stream_calls",
]
