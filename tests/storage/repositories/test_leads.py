"""Lead claims: order, skips, atomicity, release (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from storage.engine import session_factory
from storage.models import Callback, Lead, LeadState, PhoneStatus
from storage.repositories.leads import claim_next_lead, release_expired_claims, release_lead, stop_customer_leads
from tests.storage.factories import make_campaign, make_customer, make_phone, make_user

NOW = datetime.now(timezone.utc)


async def _lead(s: AsyncSession, campaign_id: int, **kw: object) -> Lead:
    customer = await make_customer(s, **{k: v for k, v in kw.items() if k in ("deceased", "dispute_pending")})
    await make_phone(s, customer)
    lead = Lead(campaign_id=campaign_id, customer_id=customer.id, **{k: v for k, v in kw.items() if k in ("priority", "boost", "next_attempt_at", "state")})
    s.add(lead)
    await s.flush()
    return lead


async def test_claim_order_priority_boost_then_oldest_next_attempt(session: AsyncSession) -> None:
    c = await make_campaign(session)
    late = await _lead(session, c.id, priority=1, next_attempt_at=NOW - timedelta(minutes=1))
    old = await _lead(session, c.id, priority=1, next_attempt_at=NOW - timedelta(hours=1))
    fresh = await _lead(session, c.id, priority=1)
    boosted = await _lead(session, c.id, priority=1, boost=5)
    first = await _lead(session, c.id, priority=0)
    await _lead(session, c.id, priority=0, next_attempt_at=NOW + timedelta(hours=1))  # not due
    await _lead(session, c.id, priority=0, deceased=True)
    await _lead(session, c.id, priority=0, dispute_pending=True)
    got = []
    while (claimed := await claim_next_lead(session, c.id, now=NOW, claimer="t")) is not None:
        got.append(claimed.lead_id)
    assert got == [first.id, boosted.id, fresh.id, old.id, late.id]
    row = await session.get(Lead, first.id)
    assert row is not None
    await session.refresh(row)
    assert row.state is LeadState.IN_PROGRESS and row.claimed_by == "t" and row.attempts == 1


async def test_wrong_phones_are_skipped(session: AsyncSession) -> None:
    c = await make_campaign(session)
    customer = await make_customer(session)
    phone = await make_phone(session, customer)
    phone.status = PhoneStatus.WRONG
    session.add(Lead(campaign_id=c.id, customer_id=customer.id))
    await session.flush()
    assert await claim_next_lead(session, c.id, now=NOW, claimer="t") is None


async def test_due_callbacks_first_and_owned_only_for_a_ready_owner(session: AsyncSession) -> None:
    c = await make_campaign(session)
    agent = await make_user(session)
    await _lead(session, c.id, priority=0)
    owned = await _lead(session, c.id, priority=9)
    session.add(Callback(customer_id=owned.customer_id, campaign_id=c.id, due_at=NOW - timedelta(minutes=1), owner_agent_id=agent.id))
    await session.flush()
    other = await claim_next_lead(session, c.id, now=NOW, claimer="t")
    assert other is not None and other.lead_id != owned.id and other.callback_id is None
    assert await claim_next_lead(session, c.id, now=NOW, claimer="t") is None  # owner not ready
    mine = await claim_next_lead(session, c.id, now=NOW, claimer="t", ready_owner_ids=[agent.id])
    assert mine is not None and mine.lead_id == owned.id and mine.owner_agent_id == agent.id


async def test_concurrent_claims_never_take_the_same_lead(engine: AsyncEngine) -> None:
    factory = session_factory(engine)
    async with factory.begin() as s:
        c = await make_campaign(s)
        for _ in range(6):
            await _lead(s, c.id)

    async def claim() -> int | None:
        async with factory.begin() as s:
            got = await claim_next_lead(s, c.id, now=NOW, claimer="t")
            return None if got is None else got.lead_id

    ids = [i for i in await asyncio.gather(*(claim() for _ in range(8))) if i is not None]
    assert len(ids) == len(set(ids)) == 6


async def test_release_stop_and_expired_claims(session: AsyncSession) -> None:
    c = await make_campaign(session)
    lead = await _lead(session, c.id)
    claimed = await claim_next_lead(session, c.id, now=NOW, claimer="p1", lease_s=10)
    assert claimed is not None
    assert await release_expired_claims(session, now=NOW + timedelta(seconds=11)) >= 1
    again = await claim_next_lead(session, c.id, now=NOW, claimer="p2")
    assert again is not None and again.lead_id == lead.id
    await release_lead(session, lead.id, now=NOW, last_result="busy", next_attempt_at=NOW + timedelta(minutes=15))
    row = await session.get(Lead, lead.id)
    await session.refresh(row)
    assert row is not None and row.state is LeadState.DIALABLE and row.claimed_by is None and row.last_result == "busy"
    assert await stop_customer_leads(session, lead.customer_id, now=NOW) == 1
    await session.refresh(row)
    assert row.state is LeadState.STOPPED
