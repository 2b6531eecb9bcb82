"""The sums behind the KPIs of SPEC §8, per campaign, agent or local day, grouped in SQL.

Each query is one ``GROUP BY`` pass over its table in the period (no Python loop over rows),
on SQLite and PostgreSQL alike. The caller passes the definitions that are business rules
(which outcomes mean the right party was reached, which script capture holds the reason for
default), so they live once, in ``dialer.kpis.figures``, whose per-call reference functions
these sums must match (a test checks that on random data).

Days are local calendar days at a fixed UTC offset: times become epoch seconds, and the day
is ``floor((epoch + offset) / 86400)`` on both databases. Agent time comes from the state
history: each change lasts until the agent's next one (the newest until ``now``), clipped to
the period, counted on the local day it began.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from storage.models import (
    AgentState,
    AgentStateChange,
    Agreement,
    AgreementInstallment,
    CallAttempt,
    CallResult,
    Outcome,
    Promise,
    PromiseStatus,
    ScriptRunRecord,
)
from storage.models.base import UtcDateTime

_EPOCH = date(1970, 1, 1)
_UNIX_JULIAN_DAY = 2440587.5
# a state began this long before the period is still read, so the state at its start is known
STATE_LOOKBACK = timedelta(days=1)
Key = int | date | None


class Grouping(enum.StrEnum):
    CAMPAIGN = "campaign"
    AGENT = "agent"
    DAY = "day"


@dataclass(frozen=True, slots=True)
class KpiRules:
    """The business definitions the sums need (from ``dialer.kpis.figures``)."""

    right_party_outcomes: frozenset[str]
    reason_capture_key: str
    dispute_outcome: str


@dataclass(frozen=True, slots=True)
class KpiQuery:
    start: datetime  # aware, inclusive
    end: datetime  # aware, exclusive
    by: Grouping
    campaign_id: int | None = None
    utc_offset_s: float = 0.0


@dataclass(slots=True)
class CallSums:
    attempts: int = 0
    live_answers: int = 0
    abandons: int = 0
    contacts: int = 0
    right_party: int = 0
    completed: int = 0
    short_calls: int = 0
    handled: int = 0
    handle_s: float = 0.0


@dataclass(slots=True)
class DealSums:
    promises: int = 0
    promised: Decimal = Decimal("0.00")
    promises_kept: int = 0
    promises_broken: int = 0
    promise_paid: Decimal = Decimal("0.00")
    agreements: int = 0
    agreed: Decimal = Decimal("0.00")
    agreement_paid: Decimal = Decimal("0.00")


@dataclass(slots=True)
class TimeSums:
    """Seconds per agent state (offline left out)."""

    seconds: dict[str, float] = field(default_factory=dict)


@dataclass(slots=True)
class KpiSums:
    """Everything per group key: campaign id, agent id (None: calls no agent took) or local day."""

    calls: dict[Key, CallSums] = field(default_factory=dict)
    deals: dict[Key, DealSums] = field(default_factory=dict)
    time: dict[Key, TimeSums] | None = None  # None: agent time can't be split this way
    reasons: dict[Key, dict[str, int]] = field(default_factory=dict)

    def group_keys(self) -> list[Key]:
        found: set[Key] = set(self.calls) | set(self.deals) | set(self.reasons)
        if self.time is not None:
            found |= set(self.time)
        return sorted(found, key=lambda k: (k is None, k))


# ---------------------------------------------------------------- dialect helpers


def _sqlite(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def _epoch(session: AsyncSession, column: Any) -> ColumnElement[Any]:
    """Epoch seconds of a datetime column (SQLite keeps naive UTC text; PostgreSQL timestamptz)."""
    if _sqlite(session):
        # julianday is a float of days: rounded to the millisecond, midnight stays on its own day
        return func.round((func.julianday(column) - _UNIX_JULIAN_DAY) * 86400.0, 3)
    return cast(func.extract("epoch", column), Float)


def _day_number(session: AsyncSession, epoch: ColumnElement[Any], utc_offset_s: float) -> ColumnElement[Any]:
    """Days since 1970-01-01 of the local calendar day of an epoch (times after 1970: trunc is floor)."""
    local = (epoch + float(utc_offset_s)) / 86400.0
    if _sqlite(session):
        return cast(local, Integer)
    return cast(func.floor(local), Integer)


def _seconds_between(session: AsyncSession, a: Any, b: Any) -> ColumnElement[Any]:
    if _sqlite(session):
        return (func.julianday(b) - func.julianday(a)) * 86400.0
    return cast(func.extract("epoch", b - a), Float)


def _day(n: Any) -> date:
    return _EPOCH + timedelta(days=int(n))


def _count(condition: ColumnElement[Any]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _money(value: Any) -> Decimal:
    if value is None:
        return Decimal("0.00")
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _key_of(by: Grouping, raw: Any) -> Key:
    if raw is None:
        return None
    return _day(raw) if by is Grouping.DAY else int(raw)


# ---------------------------------------------------------------- the queries


def _attempt_key(session: AsyncSession, q: KpiQuery) -> Any:
    if q.by is Grouping.CAMPAIGN:
        return CallAttempt.campaign_id
    if q.by is Grouping.AGENT:
        return CallAttempt.agent_id
    return _day_number(session, _epoch(session, CallAttempt.created_at), q.utc_offset_s)


def _attempts_in(q: KpiQuery) -> list[ColumnElement[bool]]:
    where = [CallAttempt.created_at >= q.start, CallAttempt.created_at < q.end]
    if q.campaign_id is not None:
        where.append(CallAttempt.campaign_id == q.campaign_id)
    return where


async def call_sums(session: AsyncSession, q: KpiQuery) -> dict[Key, CallSums]:
    """Attempts, live answers, abandons, contacts, completed and short calls, handle time (CPC: ``contact_sums``).

    One pass over the attempts of the period, no join: the joins to outcomes and script runs
    are only needed for contacts, which ``contact_sums`` reads."""
    key = _attempt_key(session, q).label("k")
    answered_ended = and_(CallAttempt.answered_at.is_not(None), CallAttempt.ended_at.is_not(None))
    live = and_(
        answered_ended,
        CallAttempt.result.is_not(None),
        CallAttempt.result.not_in((CallResult.MACHINE, CallResult.CANCELLED)),
    )
    connected = CallAttempt.connected_at.is_not(None)
    handled = and_(connected, CallAttempt.ended_at.is_not(None))
    handle_end = func.coalesce(CallAttempt.wrapup_ended_at, CallAttempt.ended_at)
    rows = await session.execute(
        select(
            key,
            _count(or_(CallAttempt.result.is_(None), CallAttempt.result != CallResult.CANCELLED)),
            _count(live),
            _count(and_(live, CallAttempt.abandoned.is_(True))),
            _count(connected),
            _count(answered_ended),
            _count(and_(answered_ended, CallAttempt.short_call.is_(True))),
            _count(handled),
            func.coalesce(
                func.sum(case((handled, _seconds_between(session, CallAttempt.connected_at, handle_end)), else_=0.0)),
                0.0,
            ),
        )
        .where(*_attempts_in(q))
        .group_by(key)
    )
    out: dict[Key, CallSums] = {}
    for k, attempts, live_n, abandons, contacts, completed, short, handled_n, seconds in rows:
        out[_key_of(q.by, k)] = CallSums(
            attempts=int(attempts), live_answers=int(live_n), abandons=int(abandons), contacts=int(contacts),
            completed=int(completed), short_calls=int(short), handled=int(handled_n), handle_s=float(seconds),
        )
    return out


async def contact_sums(
    session: AsyncSession, q: KpiQuery, rules: KpiRules
) -> tuple[dict[Key, int], dict[Key, dict[str, int]]]:
    """Right-party contacts and calls per reason for default, per key, over the period's contacts.

    The reason is the script's capture, else a dispute outcome. Both need the outcome and the
    script run, which only contacts have: one grouped pass over them does both."""
    key = _attempt_key(session, q).label("k")
    captured = func.nullif(ScriptRunRecord.captures[rules.reason_capture_key].as_string(), "")
    dispute = case((Outcome.code == rules.dispute_outcome, literal(rules.dispute_outcome)), else_=null())
    reason = func.coalesce(captured, dispute).label("reason")
    right_party = or_(
        ScriptRunRecord.identity_confirmed_at.is_not(None), Outcome.code.in_(sorted(rules.right_party_outcomes))
    )
    rows = await session.execute(
        select(key, reason, func.count(), _count(right_party))
        .select_from(CallAttempt)
        .outerjoin(Outcome, Outcome.attempt_id == CallAttempt.id)
        .outerjoin(ScriptRunRecord, ScriptRunRecord.attempt_id == CallAttempt.id)
        .where(*_attempts_in(q), CallAttempt.connected_at.is_not(None))
        .group_by(key, reason)
    )
    cpc: dict[Key, int] = {}
    reasons: dict[Key, dict[str, int]] = {}
    for k, code, n, rpc in rows:
        group = _key_of(q.by, k)
        cpc[group] = cpc.get(group, 0) + int(rpc)
        if code is not None:
            reasons.setdefault(group, {})[str(code)] = int(n)
    return cpc, reasons


def _deal_key(session: AsyncSession, q: KpiQuery, model: type[Promise | Agreement]) -> Any:
    if q.by is Grouping.CAMPAIGN:
        return model.campaign_id
    if q.by is Grouping.AGENT:
        return model.agent_id
    return _day_number(session, _epoch(session, model.created_at), q.utc_offset_s)


def _deals_in(q: KpiQuery, model: type[Promise | Agreement]) -> list[ColumnElement[bool]]:
    where = [model.created_at >= q.start, model.created_at < q.end]
    if q.campaign_id is not None:
        where.append(model.campaign_id == q.campaign_id)
    return where


async def deal_sums(session: AsyncSession, q: KpiQuery) -> dict[Key, DealSums]:
    """Promises and agreements made in the period, with what was paid on them so far."""
    out: dict[Key, DealSums] = {}
    key = _deal_key(session, q, Promise).label("k")
    rows = await session.execute(
        select(
            key,
            func.count(),
            func.sum(Promise.amount),
            _count(Promise.status == PromiseStatus.KEPT),
            _count(Promise.status == PromiseStatus.BROKEN),
            func.sum(Promise.paid_amount),
        )
        .where(*_deals_in(q, Promise))
        .group_by(key)
    )
    for k, n, amount, kept, broken, paid in rows:
        d = out.setdefault(_key_of(q.by, k), DealSums())
        d.promises, d.promised, d.promises_kept = int(n), _money(amount), int(kept)
        d.promises_broken, d.promise_paid = int(broken), _money(paid)

    paid_per_agreement = (
        select(
            AgreementInstallment.agreement_id.label("agreement_id"),
            func.sum(AgreementInstallment.paid_amount).label("paid"),
        )
        .group_by(AgreementInstallment.agreement_id)
        .subquery()
    )
    key = _deal_key(session, q, Agreement).label("k")
    rows = await session.execute(
        select(key, func.count(), func.sum(Agreement.total), func.sum(paid_per_agreement.c.paid))
        .select_from(Agreement)
        .outerjoin(paid_per_agreement, paid_per_agreement.c.agreement_id == Agreement.id)
        .where(*_deals_in(q, Agreement))
        .group_by(key)
    )
    for k, n, total, paid in rows:
        d = out.setdefault(_key_of(q.by, k), DealSums())
        d.agreements, d.agreed, d.agreement_paid = int(n), _money(total), _money(paid)
    return out


async def time_sums(session: AsyncSession, q: KpiQuery, *, now: datetime) -> dict[Key, TimeSums] | None:
    """Seconds per agent state per agent or per day; None per campaign or with a campaign filter."""
    if q.by is Grouping.CAMPAIGN or q.campaign_id is not None:
        return None
    change = AgentStateChange
    following = func.lead(change.at).over(partition_by=change.user_id, order_by=(change.at, change.id))
    spans = (
        select(
            change.user_id.label("user_id"),
            change.to_state.label("state"),
            change.at.label("at"),
            following.label("nxt"),
        )
        .where(change.at >= q.start - STATE_LOOKBACK, change.at < q.end)
        .subquery()
    )
    # clipped as datetimes (SQLite compares its fixed-width text): one epoch conversion per bound, not per input
    start, end = literal(q.start, UtcDateTime()), literal(q.end, UtcDateTime())
    until = func.coalesce(spans.c.nxt, literal(min(now, q.end), UtcDateTime()))
    s = case((spans.c.at < start, start), else_=spans.c.at)
    e = case((until > end, end), else_=until)
    key = (
        spans.c.user_id if q.by is Grouping.AGENT else _day_number(session, _epoch(session, s), q.utc_offset_s)
    ).label("k")
    rows = await session.execute(
        select(key, spans.c.state, func.sum(_seconds_between(session, s, e)))
        .where(spans.c.state != AgentState.OFFLINE, e > s)
        .group_by(key, spans.c.state)
    )
    out: dict[Key, TimeSums] = {}
    for k, state, seconds in rows:
        value = state.value if isinstance(state, enum.Enum) else str(state)
        out.setdefault(_key_of(q.by, k), TimeSums()).seconds[value] = float(seconds)
    return out


async def kpi_sums(session: AsyncSession, q: KpiQuery, rules: KpiRules, *, now: datetime) -> KpiSums:
    """Every sum of the KPI report for ``q`` (five grouped queries)."""
    calls = await call_sums(session, q)
    cpc, reasons = await contact_sums(session, q, rules)
    for key, n in cpc.items():
        calls.setdefault(key, CallSums()).right_party = n
    return KpiSums(calls=calls, deals=await deal_sums(session, q), time=await time_sums(session, q, now=now), reasons=reasons)


def day_range(first: date, last: date, utc_offset_s: float) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the local days ``first`` through ``last``."""
    start = datetime(first.year, first.month, first.day, tzinfo=UTC) - timedelta(seconds=utc_offset_s)
    end = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1) - timedelta(seconds=utc_offset_s)
    return start, end


__all__ = [
    "STATE_LOOKBACK",
    "CallSums",
    "DealSums",
    "Grouping",
    "Key",
    "KpiQuery",
    "KpiRules",
    "KpiSums",
    "TimeSums",
    "call_sums",
    "contact_sums",
    "day_range",
    "deal_sums",
    "kpi_sums",
    "time_sums",
]
