"""Segment SQL agrees with the pure reference (``dialer.leads.segments.matches``) on both databases."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.leads.aging import BUCKET_LABELS
from dialer.leads.segments import (
    NO_SEGMENT_POSITION,
    SegmentFacts,
    SegmentSpec,
    lead_priority,
    parse_filter,
    priority_of,
)
from storage.models import CallAttempt, Callback, CampaignMode, CustomerTag, Lead, Outcome, OutcomeCode
from storage.repositories.segments import (
    StoredSegment,
    boosted_leads,
    list_segments,
    replace_segments,
    reprioritise,
    set_boosts,
)
from tests.storage.factories import make_campaign, make_customer

NOW = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)
TODAY = date(2026, 3, 3)
SEGMENTS = [
    StoredSegment(0, "Promessa quebrada", 90, {"promise_broken": True}),
    StoredSegment(1, "Retorno", 85, {"callback_due": True}),
    StoredSegment(2, "VIP SP", 80, {"tags_any": ["vip"], "ufs": ["SP"]}),
    StoredSegment(3, "31-90 alto", 60, {"buckets": ["31-60", "61-90"], "balance_min": "1000.00"}),
    StoredSegment(4, "Baixo saldo", 40, {"balance_max": "300.00", "score_min": 500}),
    StoredSegment(5, "Antigos", 20, {"buckets": ["181-360", "360+", "a vencer"]}),
]


async def test_reprioritise_matches_the_pure_rules(session: AsyncSession) -> None:
    rng = random.Random(3)
    campaign = await make_campaign(session)
    expected: dict[int, int] = {}
    for i in range(60):
        due = TODAY - timedelta(days=rng.randint(-10, 500))
        balance = Decimal(rng.choice(["120.00", "300.00", "999.99", "1000.00", "5000.00"]))
        customer = await make_customer(session, uf=rng.choice(["SP", "RJ", None]), oldest_due_date=due,
                                       balance_total=balance, score=rng.choice([None, 400, 700]))
        tags = frozenset(rng.sample(["vip", "ouro"], rng.randint(0, 2)))
        session.add_all([CustomerTag(customer_id=customer.id, tag=t) for t in tags])
        broken = callback = False
        if i % 7 == 0:
            attempt = CallAttempt(campaign_id=campaign.id, customer_id=customer.id, mode=CampaignMode.PROGRESSIVE,
                                  number="+5511999990000", created_at=NOW - timedelta(days=20))
            session.add(attempt)
            await session.flush()
            promise = TODAY - timedelta(days=rng.choice([5, -5]))
            session.add(Outcome(attempt_id=attempt.id, code=OutcomeCode.PROMESSA, promise_date=promise,
                                client_key=attempt.id, created_at=NOW - timedelta(days=20)))
            broken = promise < TODAY
        if i % 5 == 0:
            session.add(Callback(customer_id=customer.id, campaign_id=campaign.id, due_at=NOW - timedelta(minutes=i)))
            callback = True
        boost = rng.choice([0, 0, 10, -5])
        lead = Lead(campaign_id=campaign.id, customer_id=customer.id, boost=boost, next_attempt_at=NOW)
        session.add(lead)
        await session.flush()
        seg_facts = SegmentFacts(due, balance, tags, customer.uf, customer.score, broken, callback)
        specs = [SegmentSpec(s.name, s.weight, parse_filter(s.filters)) for s in SEGMENTS]
        expected[lead.id] = lead_priority(specs, seg_facts, boost, TODAY)
    await replace_segments(session, campaign.id, SEGMENTS)
    assert await list_segments(session, campaign.id) == SEGMENTS
    levels = [priority_of(s.weight, s.position, 0) for s in SEGMENTS]
    changed = await reprioritise(session, campaign.id, SEGMENTS, levels, priority_of(0, NO_SEGMENT_POSITION, 0),
                                 today=TODAY, now=NOW)
    assert changed == 60
    got = dict((await session.execute(select(Lead.id, Lead.priority).where(Lead.campaign_id == campaign.id))).all())
    assert got == expected
    assert len(set(got.values())) > 5  # the data really spreads over the segments
    assert set(BUCKET_LABELS)  # every label is a valid filter value
    await session.rollback()


async def test_boosts_by_external_id(session: AsyncSession) -> None:
    campaign = await make_campaign(session)
    customer = await make_customer(session)
    session.add(Lead(campaign_id=campaign.id, customer_id=customer.id, next_attempt_at=NOW))
    await session.flush()
    changes, unknown = await set_boosts(session, campaign.id, {customer.external_id: 50, "ninguém": 3}, now=NOW)
    assert [(c.before, c.after) for c in changes] == [(0, 50)] and unknown == ["ninguém"]
    assert await boosted_leads(session, campaign.id) == {customer.external_id: 50}
    again, _ = await set_boosts(session, campaign.id, {customer.external_id: 50}, now=NOW)
    assert again == []
    await session.rollback()
