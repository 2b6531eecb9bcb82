"""KPI sums on SQLite and PostgreSQL: the SQL GROUP BYs match the pure per-call math on random data."""

from __future__ import annotations

import random
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.kpis.figures import (
    DISPUTE_OUTCOME,
    REASON_CAPTURE_KEY,
    RIGHT_PARTY_OUTCOMES,
    AgreementFact,
    CallFact,
    CallTotals,
    PromiseFact,
    StateChange,
    local_day,
    state_spans,
    tally_calls,
    tally_deals,
    tally_reasons,
)
from storage.models import CallAttempt, CallResult, CampaignMode, Customer, Role
from storage.repositories.kpis import (
    CallSums,
    Grouping,
    KpiQuery,
    KpiRules,
    day_range,
    kpi_sums,
)
from storage.repositories.pacing import abandon_days
from tests.storage.factories import make_campaign, make_customer, make_user
from web.demo.history import History, build_history, store_history

BRT = -3 * 3600.0
RULES = KpiRules(RIGHT_PARTY_OUTCOMES, REASON_CAPTURE_KEY, DISPUTE_OUTCOME)


def _fact(a: dict[str, Any], outcome: dict[str, Any] | None, run: dict[str, Any] | None) -> CallFact:
    handle = None
    if a["connected_at"] is not None and a["ended_at"] is not None:
        handle = ((a["wrapup_ended_at"] or a["ended_at"]) - a["connected_at"]).total_seconds()
    return CallFact(
        result=None if a["result"] is None else str(a["result"]),
        answered=a["answered_at"] is not None,
        ended=a["ended_at"] is not None,
        connected=a["connected_at"] is not None,
        abandoned=a["abandoned"],
        short_call=a["short_call"],
        handle_s=handle,
        outcome=None if outcome is None else str(outcome["code"]),
        identity_confirmed=run is not None and run["identity_confirmed_at"] is not None,
        reason=None if run is None else run["captures"].get(REASON_CAPTURE_KEY),
    )


def _expected(h: History, q: KpiQuery, now: datetime) -> dict[str, dict[Any, Any]]:
    """Every sum, recomputed in Python from the rows with dialer.kpis.figures."""
    def key_of(row: dict[str, Any], agent_field: str = "agent_id") -> Any:
        if q.by is Grouping.CAMPAIGN:
            return row["campaign_id"]
        if q.by is Grouping.AGENT:
            return row[agent_field]
        return local_day(row["created_at"], q.utc_offset_s)

    def within(row: dict[str, Any]) -> bool:
        return q.start <= row["created_at"] < q.end and q.campaign_id in (None, row["campaign_id"])

    outcomes = {o["attempt_id"]: o for o in h.outcomes}
    runs = {r["attempt_id"]: r for r in h.script_runs}
    calls: dict[Any, list[CallFact]] = {}
    for a in h.attempts:
        if within(a):
            calls.setdefault(key_of(a), []).append(_fact(a, outcomes.get(a["id"]), runs.get(a["id"])))
    promises: dict[Any, list[PromiseFact]] = {}
    for p in h.promises:
        if within(p):
            promises.setdefault(key_of(p), []).append(PromiseFact(p["amount"], str(p["status"]), p["paid_amount"]))
    agreements: dict[Any, list[AgreementFact]] = {}
    for g, insts in zip(h.agreements, h.installments, strict=True):
        if within(g):
            paid = sum((i["paid_amount"] for i in insts), Decimal("0.00"))
            agreements.setdefault(key_of(g), []).append(AgreementFact(g["total"], paid))
    time: dict[Any, dict[str, float]] = {}
    if q.by is not Grouping.CAMPAIGN and q.campaign_id is None:
        changes = [StateChange(c["user_id"], str(c["to_state"]), c["at"]) for c in h.state_changes
                   if q.start - timedelta(days=1) <= c["at"] < q.end]
        for s in state_spans(changes, start=q.start, end=q.end, now=now, utc_offset_s=q.utc_offset_s):
            k = s.user_id if q.by is Grouping.AGENT else s.day
            time.setdefault(k, {}).setdefault(s.state, 0.0)
            time[k][s.state] += s.seconds
    deal_keys = set(promises) | set(agreements)
    return {
        "calls": {k: tally_calls(v) for k, v in calls.items()},
        "reasons": {k: r for k, v in calls.items() if (r := tally_reasons(v))},
        "deals": {k: tally_deals(promises.get(k, []), agreements.get(k, [])) for k in deal_keys},
        "time": time,
    }


def _as_totals(s: CallSums) -> CallTotals:
    return CallTotals(s.attempts, s.live_answers, s.abandons, s.contacts, s.right_party, s.completed,
                      s.short_calls, s.handled, s.handle_s)


def _deal_tuple(d: Any) -> tuple[Any, ...]:
    return (d.promises, d.promised, d.promises_kept, d.promises_broken, d.promise_paid, d.agreements, d.agreed,
            d.agreement_paid)


async def _world(session: AsyncSession, first_day: date, days: int, attempts: int, seed: int) -> tuple[History, list[int]]:
    campaigns = [(await make_campaign(session)).id for _ in range(2)]
    agents = [(await make_user(session, Role.AGENT)).id for _ in range(3)]
    customers: list[Customer] = [await make_customer(session) for _ in range(6)]
    h = build_history(seed=seed, first_day=first_day, days=days, attempts=attempts, campaign_ids=campaigns,
                      agent_ids=agents, customer_ids=[c.id for c in customers], utc_offset_s=BRT)
    await store_history(session, h)
    await session.flush()
    return h, campaigns


def _far_day() -> date:
    # a period of its own: the database is shared with other tests (and agent time is not per campaign)
    return date(2040, 1, 1) + timedelta(days=random.Random(uuid.uuid4().int).randint(0, 40_000))


CASES: list[tuple[Grouping, bool]] = [(g, f) for g in Grouping for f in (False, True)]


@pytest.mark.parametrize(("by", "filtered"), CASES, ids=[f"{g.value}{'-campaign' if f else ''}" for g, f in CASES])
async def test_sums_match_the_pure_math(session: AsyncSession, by: Grouping, filtered: bool) -> None:
    first = _far_day()
    h, campaigns = await _world(session, first, days=4, attempts=600, seed=first.toordinal())
    # the period leaves the first day out, so the clipping and the lookback are exercised
    start, end = day_range(first + timedelta(days=1), first + timedelta(days=3), BRT)
    now = end - timedelta(hours=30)  # "today" is inside the period: the newest spans end now
    q = KpiQuery(start, end, by, campaigns[0] if filtered else None, BRT)

    got = await kpi_sums(session, q, RULES, now=now)
    want = _expected(h, q, now)

    # every count exact; seconds within a millisecond per call (SQLite's julianday is a float)
    assert {k: replace(_as_totals(v), handle_s=0.0) for k, v in got.calls.items()} == {
        k: replace(v, handle_s=0.0) for k, v in want["calls"].items()
    }
    for k, v in got.calls.items():
        assert v.handle_s == pytest.approx(want["calls"][k].handle_s, abs=0.01 * max(1, v.handled))
    assert got.reasons == want["reasons"]
    assert {k: _deal_tuple(v) for k, v in got.deals.items()} == {k: _deal_tuple(v) for k, v in want["deals"].items()}
    if by is Grouping.CAMPAIGN or filtered:
        assert got.time is None
    else:
        assert got.time is not None
        assert set(got.time) == set(want["time"])
        for k, t in got.time.items():
            assert t.seconds == pytest.approx(want["time"][k], abs=0.05)
    assert sum(c.attempts for c in got.calls.values()) > 100  # the data did land in the period


async def test_abandons_agree_with_the_pacing_figures(session: AsyncSession) -> None:
    first = _far_day()
    _, campaigns = await _world(session, first, days=3, attempts=300, seed=7)
    start, end = day_range(first, first + timedelta(days=2), BRT)
    got = await kpi_sums(session, KpiQuery(start, end, Grouping.DAY, campaigns[1], BRT), RULES, now=end)
    pacing = await abandon_days(session, campaigns[1], first_day=first, last_day=first + timedelta(days=2),
                                utc_offset_s=BRT)
    assert {d.day: (d.live, d.abandons) for d in pacing} == {
        k: (v.live_answers, v.abandons) for k, v in got.calls.items() if v.live_answers
    }


async def test_local_midnight_splits_days(session: AsyncSession) -> None:
    campaign = await make_campaign(session)
    day = _far_day()
    midnight = datetime(day.year, day.month, day.day, 3, tzinfo=UTC)  # 00:00 in Brasília
    # SQLite keeps times to the millisecond: the last millisecond of a day is still that day
    for at in (midnight - timedelta(milliseconds=1), midnight, midnight + timedelta(hours=23, minutes=59)):
        session.add(CallAttempt(campaign_id=campaign.id, mode=CampaignMode.PREVIEW, number="+5511987654321",
                                created_at=at, result=CallResult.BUSY, ended_at=at))
    await session.flush()
    start, end = day_range(day - timedelta(days=1), day + timedelta(days=1), BRT)
    got = await kpi_sums(session, KpiQuery(start, end, Grouping.DAY, campaign.id, BRT), RULES, now=end)
    assert {k: v.attempts for k, v in got.calls.items()} == {day - timedelta(days=1): 1, day: 2}


async def test_empty_period_has_no_groups(session: AsyncSession) -> None:
    start, end = day_range(date(2039, 1, 1), date(2039, 1, 1), BRT)
    got = await kpi_sums(session, KpiQuery(start, end, Grouping.AGENT, None, BRT), RULES, now=end)
    assert got.group_keys() == [] and got.calls == {} and got.deals == {}


