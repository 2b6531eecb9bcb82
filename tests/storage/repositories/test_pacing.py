"""Pacing repository on SQLite and PostgreSQL: days of abandons, short calls per caller id, audited changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import CallAttempt, CallResult, CampaignMode, Lead, LeadState
from storage.repositories.audit import entries_for
from storage.repositories.pacing import (
    PACING_AUDIT_ACTION,
    CallerIdTotals,
    DayTotals,
    abandon_days,
    campaign_pacing,
    dialable_leads,
    measured_calls,
    short_calls_by_caller_id,
    update_campaign_pacing,
)
from tests.storage.factories import make_campaign, make_customer, make_user

BRT = -3 * 3600.0
UTC = UTC


def _attempt(campaign_id: int, answered: datetime | None, result: CallResult, **kw: object) -> CallAttempt:
    created = kw.pop("created", None) or (answered or datetime(2025, 6, 2, 12, tzinfo=UTC)) - timedelta(seconds=10)
    fields: dict[str, object] = {
        "campaign_id": campaign_id,
        "mode": CampaignMode.PREDICTIVE,
        "number": "+5511987654321",
        "caller_id": "551130000000",
        "created_at": created,
        "originated_at": created,
        "answered_at": answered,
        "ended_at": (answered or created) + timedelta(seconds=30),
        "result": result,
    }
    fields.update(kw)
    return CallAttempt(**fields)


async def test_abandon_days_group_by_brasilia_day_and_skip_machines(session: AsyncSession) -> None:
    c = await make_campaign(session)
    other = await make_campaign(session)
    # 02/06 01:30 UTC is still 01/06 in Brasília (22:30)
    late_first = datetime(2025, 6, 2, 1, 30, tzinfo=UTC)
    second = datetime(2025, 6, 2, 15, 0, tzinfo=UTC)
    session.add_all(
        [
            _attempt(c.id, late_first, CallResult.CONNECTED),
            _attempt(c.id, late_first, CallResult.ABANDONED, abandoned=True),
            _attempt(c.id, second, CallResult.CONNECTED),
            _attempt(c.id, second, CallResult.CONNECTED),
            _attempt(c.id, second, CallResult.ABANDONED, abandoned=True),
            _attempt(c.id, second, CallResult.MACHINE),  # not a live answer
            _attempt(c.id, None, CallResult.BUSY),  # never answered
            _attempt(c.id, second, CallResult.CONNECTED, ended_at=None),  # still going: not counted yet
            _attempt(other.id, second, CallResult.ABANDONED, abandoned=True),
            _attempt(c.id, datetime(2025, 4, 1, 15, tzinfo=UTC), CallResult.CONNECTED),  # before the window
        ]
    )
    await session.flush()
    days = await abandon_days(session, c.id, first_day=date(2025, 5, 4), last_day=date(2025, 6, 2), utc_offset_s=BRT)
    assert days == [DayTotals(date(2025, 6, 1), 2, 1), DayTotals(date(2025, 6, 2), 3, 1)]


async def test_short_calls_per_caller_id(session: AsyncSession) -> None:
    c = await make_campaign(session)
    at = datetime(2025, 6, 2, 15, 0, tzinfo=UTC)
    session.add_all(
        [
            _attempt(c.id, at, CallResult.CONNECTED, caller_id="0303", short_call=True),
            _attempt(c.id, at, CallResult.CONNECTED, caller_id="0303"),
            _attempt(c.id, at, CallResult.MACHINE, caller_id="0303", short_call=True),
            _attempt(c.id, at, CallResult.ABANDONED, caller_id="551130000000", short_call=True, abandoned=True),
            _attempt(c.id, None, CallResult.NO_ANSWER, caller_id="551130000000"),  # not completed
            _attempt(c.id, at - timedelta(days=1), CallResult.CONNECTED, caller_id="0303", short_call=True),
        ]
    )
    await session.flush()
    start = datetime(2025, 6, 2, 3, 0, tzinfo=UTC)
    rows = await short_calls_by_caller_id(session, c.id, start=start, end=start + timedelta(days=1))
    assert rows == [CallerIdTotals("0303", 3, 2), CallerIdTotals("551130000000", 1, 1)]


async def test_update_pacing_is_audited_with_before_and_after(session: AsyncSession) -> None:
    c = await make_campaign(session, mode=CampaignMode.PROGRESSIVE)
    boss = await make_user(session)
    result = await update_campaign_pacing(
        session, c.id, mode=CampaignMode.PREDICTIVE, max_dial_level=2.5, abandon_cap=0.02, amd_enabled=True, user_id=boss.id
    )
    assert result is not None
    before, after = result
    assert before.mode is CampaignMode.PROGRESSIVE and after.mode is CampaignMode.PREDICTIVE
    row = await campaign_pacing(session, c.id)
    assert row is not None and (row.max_dial_level, row.abandon_cap, row.amd_enabled) == (2.5, 0.02, True)
    entries = await entries_for(session, "campaign", c.id)
    assert len(entries) == 1
    e = entries[0]
    assert (e.action, e.user_id) == (PACING_AUDIT_ACTION, boss.id)
    assert e.before == {"mode": "progressive", "max_dial_level": 3.0, "abandon_cap": 0.03, "amd_enabled": False}
    assert e.after == {"mode": "predictive", "max_dial_level": 2.5, "abandon_cap": 0.02, "amd_enabled": True}
    # the same settings again change nothing and are not audited twice
    await update_campaign_pacing(
        session, c.id, mode=CampaignMode.PREDICTIVE, max_dial_level=2.5, abandon_cap=0.02, amd_enabled=True, user_id=boss.id
    )
    assert len(await entries_for(session, "campaign", c.id)) == 1
    assert await update_campaign_pacing(
        session, 999_999, mode=CampaignMode.MANUAL, max_dial_level=1, abandon_cap=0.03, amd_enabled=False, user_id=None
    ) is None


async def test_measured_calls_and_dialable_leads(session: AsyncSession) -> None:
    c = await make_campaign(session)
    t = datetime(2025, 6, 2, 15, 0, tzinfo=UTC)
    session.add_all(
        [
            _attempt(c.id, t, CallResult.CONNECTED, originated_at=t - timedelta(seconds=8), connected_at=t + timedelta(seconds=1),
                     ended_at=t + timedelta(seconds=121), wrapup_ended_at=t + timedelta(seconds=141)),
            _attempt(c.id, t, CallResult.MACHINE, originated_at=t - timedelta(seconds=6)),
            _attempt(c.id, None, CallResult.BUSY, created=t, originated_at=t, ended_at=t + timedelta(seconds=4)),
            _attempt(c.id, None, CallResult.FAILED, created=t),
            _attempt(c.id, None, CallResult.NO_ANSWER, created=t),
            _attempt(c.id, None, CallResult.CANCELLED, created=t),
            _attempt(c.id, t, CallResult.CONNECTED, mode=CampaignMode.PREVIEW),  # an agent dialled it: not measured
        ]
    )
    await session.flush()
    m = await measured_calls(session, c.id, since=t - timedelta(days=1))
    assert (m.live, m.machine, m.busy, m.congestion, m.no_answer, m.attempts) == (1, 1, 1, 1, 1, 5)
    assert sorted(m.ring_to_answer_s) == [6.0, 8.0]
    assert m.ring_to_fail_s == [4.0]
    assert (m.talk_s, m.wrap_s) == ([120.0], [20.0])

    a, b, d = [await make_customer(session) for _ in range(3)]
    session.add_all(
        [
            Lead(campaign_id=c.id, customer_id=a.id),
            Lead(campaign_id=c.id, customer_id=b.id, state=LeadState.DIALABLE, next_attempt_at=t + timedelta(days=3)),
            Lead(campaign_id=c.id, customer_id=d.id, state=LeadState.DONE),
        ]
    )
    await session.flush()
    assert await dialable_leads(session, c.id, until=t + timedelta(hours=8)) == 1
    assert await dialable_leads(session, c.id, until=t + timedelta(days=4)) == 2
