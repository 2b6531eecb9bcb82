"""Call records for QA: a filtered keyset page, a streamed export and one call's detail (SPEC §8).

Pages are ordered ``created_at DESC, id DESC`` and seek past the previous page's last key
(``(created_at, id) < cursor``), so a deep page costs what the first one does; the three
``ix_call_attempts_*created_id`` indexes serve the unfiltered, per-campaign and per-agent
reads. Everything here is Core (rows, not ORM objects): the export streams a million rows
with flat memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Text,
    case,
    cast,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    tuple_,
    type_coerce,
    union,
)
from sqlalchemy.ext.asyncio import AsyncSession

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

CA = CallAttempt.__table__
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


def _amount() -> ColumnElement[Any]:
    return func.coalesce(Agreement.total, Outcome.promise_amount)


def _amount_between(low: Decimal | None, high: Decimal | None, which: str = "either") -> ColumnElement[bool]:
    """The call's amount (its agreement's total, else its promise) within ``[low, high]``, as EXISTS.

    ``which``: "agreement" or "promise" for one side only (the page reads each side as its own
    keyset branch: PostgreSQL turns an OR of two EXISTS into hashes of both whole tables)."""

    def within(col: Any) -> list[ColumnElement[bool]]:
        out = []
        if low is not None:
            out.append(col >= low)
        if high is not None:
            out.append(col <= high)
        return out

    # aliases: the page's own outer joins to these tables must not swallow the subqueries' FROM
    a, o = _AGREEMENTS.alias("a_filter"), _OUTCOMES.alias("o_filter")
    agreement = exists().where(a.c.attempt_id == CA.c.id, *within(a.c.total))
    # an agreement's call has no promised amount (ACORDO, not PROMESSA): the sides never overlap
    promise = exists().where(o.c.attempt_id == CA.c.id, *within(o.c.promise_amount))
    if which == "agreement":
        return agreement
    if which == "promise":
        return promise
    return or_(agreement, promise)


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
        _amount().label("amount"),
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
        .outerjoin(Agreement, Agreement.attempt_id == CA.c.id)
    )


async def _agent_id(session: AsyncSession, login: str) -> int | None:
    return (await session.execute(select(User.id).where(User.login == login))).scalar_one_or_none()


async def _filtered(
    session: AsyncSession, q: CallQuery, stmt: Select[Any] | None = None, *, amount_side: str = "either"
) -> Select[Any] | None:
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
        stmt = stmt.where(_amount_between(q.min_amount, q.max_amount, amount_side))
    if q.flagged is not None:
        stmt = stmt.where(_flagged() if q.flagged else ~_flagged())
    if q.reviewed is not None:
        stmt = stmt.where(_reviewed() if q.reviewed else ~_reviewed())
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
    ids = select(CA.c.id, CA.c.created_at).select_from(CA)
    if (q.min_amount is None and q.max_amount is None) or session.get_bind().dialect.name == "sqlite":
        return await _filtered(session, q, ids)  # SQLite probes both sides per row in one scan: cheaper
    branches = []
    for side in ("agreement", "promise"):  # each side its own ordered, limited scan; then the newest of both
        branch = await _filtered(session, q, ids, amount_side=side)
        if branch is None:
            return None
        sub = branch.limit(q.limit + 1).subquery(f"{side}_keys")
        branches.append(select(sub.c.id, sub.c.created_at))
    both = union(*branches).subquery("amount_keys")
    return select(both.c.id, both.c.created_at).order_by(both.c.created_at.desc(), both.c.id.desc())


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


def _export_select(dialect: str) -> Select[Any]:
    """The export's columns, formatted by the database (C, not Python, per row of a million).

    Order: id, started (``dd/mm/aaaa HH:MM:SS`` in Brasília, UTC-3), agent login, campaign name,
    customer name, number, result, outcome, talk seconds, amount (``1234,56``), flagged,
    reviewed, recording path.
    """
    amount = func.coalesce(Agreement.total, Outcome.promise_amount)
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
        type_coerce(_flagged(), Integer),  # 0/1 as they come: no Boolean processing per row
        type_coerce(_reviewed(), Integer),
        CA.c.recording_path,
    ).select_from(_joins())


async def stream_calls(session: AsyncSession, q: CallQuery) -> AsyncIterator[Sequence[Any]]:
    """Every row of ``q`` as text-ready tuples (see :func:`_export_select`), streamed from the server in batches.

    Core rows on the session's connection (no ORM layer): a million rows in flat memory."""
    stmt = await _filtered(session, q, _export_select(session.get_bind().dialect.name))
    if stmt is None:
        return
    conn = await session.connection()
    result = await conn.stream(stmt.execution_options(yield_per=EXPORT_BATCH))
    async for partition in result.partitions(EXPORT_BATCH):
        for row in partition:
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
    "CallDetail", "CallQuery", "CallRow", "call_detail", "disposed_call_ids", "flags_of", "list_calls", "stream_calls",
]
