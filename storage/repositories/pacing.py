"""What pacing reads from and writes to storage (SPEC §5, §8).

- live answers and abandons per local calendar day (the dialer seeds its abandon ledger with
  today and the last 30 days at start-up);
- completed and short calls (Anatel, ≤ 6 s) per caller id over a period;
- a campaign's pacing settings, and changing them with an audit entry (who, before, after);
- a campaign's measured call results and durations (the what-if simulator's inputs).

A *live answer* is an answered attempt that ended and was not an AMD machine; an *abandon*
is one flagged ``abandoned``. Days are local days at a fixed UTC offset (Brazil has had no
daylight saving since 2019), grouped in SQL on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, and_, case, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from storage.models import CallAttempt, CallResult, Campaign, CampaignMode, CampaignStatus, Lead, LeadState
from storage.repositories.audit import record

PACING_AUDIT_ACTION = "campaign.pacing"
_LIVE_EXCLUDED = (CallResult.MACHINE, CallResult.CANCELLED)


@dataclass(frozen=True, slots=True)
class DayTotals:
    day: date
    live: int
    abandons: int


@dataclass(frozen=True, slots=True)
class CallerIdTotals:
    caller_id: str
    completed: int
    short: int


@dataclass(frozen=True, slots=True)
class CampaignPacingRow:
    id: int
    name: str
    mode: CampaignMode
    running: bool
    max_dial_level: float
    abandon_cap: float
    amd_enabled: bool
    ring_timeout_s: float

    def settings(self) -> dict[str, Any]:
        return {
            "mode": self.mode.value,
            "max_dial_level": self.max_dial_level,
            "abandon_cap": self.abandon_cap,
            "amd_enabled": self.amd_enabled,
        }


@dataclass(slots=True)
class MeasuredCalls:
    """A campaign's dial results and durations (seconds) over a period, for the simulator."""

    live: int = 0
    machine: int = 0
    busy: int = 0
    congestion: int = 0
    no_answer: int = 0
    ring_to_answer_s: list[float] = field(default_factory=list)
    ring_to_fail_s: list[float] = field(default_factory=list)
    talk_s: list[float] = field(default_factory=list)
    wrap_s: list[float] = field(default_factory=list)

    @property
    def attempts(self) -> int:
        return self.live + self.machine + self.busy + self.congestion + self.no_answer


def _local_date(session: AsyncSession, column: Any, utc_offset_s: float) -> ColumnElement[Any]:
    """SQL for the local calendar date of a UTC datetime column."""
    if session.get_bind().dialect.name == "sqlite":
        # stored as naive UTC text; SQLite's date() applies the offset modifier
        return func.date(column, f"{int(utc_offset_s):+d} seconds")
    return cast(func.timezone("UTC", column) + timedelta(seconds=utc_offset_s), Date)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _day_start(day: date, utc_offset_s: float) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(seconds=utc_offset_s)


def _live_answer() -> ColumnElement[bool]:
    return and_(
        CallAttempt.answered_at.is_not(None),
        CallAttempt.ended_at.is_not(None),
        CallAttempt.result.is_not(None),
        CallAttempt.result.not_in(_LIVE_EXCLUDED),
    )


async def abandon_days(
    session: AsyncSession, campaign_id: int, *, first_day: date, last_day: date, utc_offset_s: float
) -> list[DayTotals]:
    """Live answers and abandons per local day in [first_day, last_day], days with calls only."""
    start = _day_start(first_day, utc_offset_s)
    end = _day_start(last_day + timedelta(days=1), utc_offset_s)
    day = _local_date(session, CallAttempt.answered_at, utc_offset_s).label("day")
    rows = await session.execute(
        select(day, func.count(), func.sum(case((CallAttempt.abandoned.is_(True), 1), else_=0)))
        .where(
            CallAttempt.campaign_id == campaign_id,
            # created_at bounds let the (campaign_id, created_at) index narrow the scan
            CallAttempt.created_at >= start - timedelta(days=1),
            CallAttempt.created_at < end,
            CallAttempt.answered_at >= start,
            CallAttempt.answered_at < end,
            _live_answer(),
        )
        .group_by(day)
        .order_by(day)
    )
    return [DayTotals(_as_date(d), int(n), int(a or 0)) for d, n, a in rows]


async def short_calls_by_caller_id(
    session: AsyncSession, campaign_id: int, *, start: datetime, end: datetime
) -> list[CallerIdTotals]:
    """Completed (answered and ended) calls and short ones per caller id, answered in [start, end)."""
    caller_id = func.coalesce(CallAttempt.caller_id, "").label("caller_id")
    rows = await session.execute(
        select(
            caller_id,
            func.count(),
            func.sum(case((CallAttempt.short_call.is_(True), 1), else_=0)),
        )
        .where(
            CallAttempt.campaign_id == campaign_id,
            CallAttempt.created_at >= start - timedelta(days=1),
            CallAttempt.created_at < end,
            CallAttempt.answered_at >= start,
            CallAttempt.answered_at < end,
            CallAttempt.ended_at.is_not(None),
        )
        .group_by(caller_id)
        .order_by(caller_id)
    )
    return [CallerIdTotals(str(cid), int(n), int(s or 0)) for cid, n, s in rows]


def _row(c: Campaign) -> CampaignPacingRow:
    return CampaignPacingRow(
        id=c.id,
        name=c.name,
        mode=CampaignMode(c.mode),
        running=c.status is CampaignStatus.ACTIVE,
        max_dial_level=float(c.max_dial_level),
        abandon_cap=float(c.abandon_cap),
        amd_enabled=bool(c.amd_enabled),
        ring_timeout_s=float(c.ring_timeout_s),
    )


async def campaign_pacing(session: AsyncSession, campaign_id: int) -> CampaignPacingRow | None:
    campaign = await session.get(Campaign, campaign_id)
    return None if campaign is None else _row(campaign)


async def campaign_pacing_by_name(session: AsyncSession, name: str) -> CampaignPacingRow | None:
    campaign = (await session.execute(select(Campaign).where(Campaign.name == name))).scalar_one_or_none()
    return None if campaign is None else _row(campaign)


async def update_campaign_pacing(
    session: AsyncSession,
    campaign_id: int,
    *,
    mode: CampaignMode,
    max_dial_level: float,
    abandon_cap: float,
    amd_enabled: bool | None,
    user_id: int | None,
    at: datetime | None = None,
) -> tuple[CampaignPacingRow, CampaignPacingRow] | None:
    """Change the settings (``amd_enabled`` None keeps it) and audit the change in the same transaction.

    Returns (before, after), or None when there is no such campaign.
    """
    campaign = await session.get(Campaign, campaign_id)
    if campaign is None:
        return None
    before = _row(campaign)
    campaign.mode = CampaignMode(mode)
    campaign.max_dial_level = float(max_dial_level)
    campaign.abandon_cap = float(abandon_cap)
    if amd_enabled is not None:
        campaign.amd_enabled = bool(amd_enabled)
    await session.flush()
    after = _row(campaign)
    if before.settings() != after.settings():
        await record(
            session,
            user_id=user_id,
            action=PACING_AUDIT_ACTION,
            entity="campaign",
            entity_id=campaign_id,
            before=before.settings(),
            after=after.settings(),
            at=at,
        )
    return before, after


def _seconds(a: datetime | None, b: datetime | None) -> float | None:
    if a is None or b is None:
        return None
    s = (b - a).total_seconds()
    return s if s > 0 else None


async def measured_calls(
    session: AsyncSession, campaign_id: int, *, since: datetime, limit: int = 50_000
) -> MeasuredCalls:
    """Results and durations of the campaign's dialer-placed calls since ``since`` (newest ``limit``)."""
    rows = await session.execute(
        select(
            CallAttempt.result,
            CallAttempt.originated_at,
            CallAttempt.answered_at,
            CallAttempt.connected_at,
            CallAttempt.ended_at,
            CallAttempt.wrapup_ended_at,
        )
        .where(
            CallAttempt.campaign_id == campaign_id,
            CallAttempt.created_at >= since,
            CallAttempt.mode.in_((CampaignMode.PROGRESSIVE, CampaignMode.PREDICTIVE)),
            CallAttempt.ended_at.is_not(None),
        )
        .order_by(CallAttempt.created_at.desc())
        .limit(limit)
    )
    m = MeasuredCalls()
    for result, originated, answered, connected, ended, wrapped in rows:
        if result is None or result is CallResult.CANCELLED:
            continue
        if result is CallResult.MACHINE:
            m.machine += 1
        elif answered is not None:
            m.live += 1
        elif result is CallResult.BUSY:
            m.busy += 1
        elif result in (CallResult.CONGESTION, CallResult.FAILED):
            m.congestion += 1
        elif result is CallResult.NO_ANSWER:
            m.no_answer += 1
        else:
            continue
        if answered is not None:
            if (s := _seconds(originated, answered)) is not None:
                m.ring_to_answer_s.append(s)
        elif result in (CallResult.BUSY, CallResult.CONGESTION):
            if (s := _seconds(originated, ended)) is not None:
                m.ring_to_fail_s.append(s)
        if connected is not None:
            if (s := _seconds(connected, ended)) is not None:
                m.talk_s.append(s)
            if (s := _seconds(ended, wrapped)) is not None:
                m.wrap_s.append(s)
    return m


async def dialable_leads(session: AsyncSession, campaign_id: int, *, until: datetime) -> int:
    """Leads of the campaign that may be dialled before ``until`` (by their retry time)."""
    n = await session.scalar(
        select(func.count()).where(
            Lead.campaign_id == campaign_id,
            Lead.state.in_((LeadState.NEW, LeadState.DIALABLE)),
            (Lead.next_attempt_at.is_(None)) | (Lead.next_attempt_at < until),
        )
    )
    return int(n or 0)
