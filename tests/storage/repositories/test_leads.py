"""Leads after a pick: release with the next attempt time, finish, stop, free stale claims (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Lead, LeadState
from storage.repositories.leads import finish_lead, release_expired_claims, release_lead, stop_customer_leads
from tests.storage.factories import make_campaign, make_customer, make_phone

NOW = datetime(2026, 3, 4, 14, 0, tzinfo=UTC)


async def _claimed(s: AsyncSession, campaign_id: int, *, claimer: str = "p1", lease: timedelta = timedelta(minutes=10),
                   customer_id: int | None = None) -> Lead:
    """A lead as the hopper leaves it when it claims one: in progress, leased, due at the lease's end."""
    if customer_id is None:
        customer = await make_customer(s)
        await make_phone(s, customer)
        customer_id = customer.id
    lead = Lead(campaign_id=campaign_id, customer_id=customer_id, state=LeadState.IN_PROGRESS, claimed_by=claimer,
                claim_expires_at=NOW + lease, next_attempt_at=NOW + lease, attempts=2)
    s.add(lead)
    await s.flush()
    return lead


async def _reload(s: AsyncSession, lead: Lead) -> Lead:
    await s.refresh(lead)
    return lead


async def test_release_sets_the_next_attempt_and_counts_only_a_dialled_attempt(session: AsyncSession) -> None:
    c = await make_campaign(session)
    dialled, cancelled = await _claimed(session, c.id), await _claimed(session, c.id)
    await release_lead(session, dialled.id, now=NOW, last_result="busy", next_attempt_at=NOW + timedelta(minutes=15),
                       count_attempt=True)
    await release_lead(session, cancelled.id, now=NOW, last_result="cancelled", next_attempt_at=NOW)
    row = await _reload(session, dialled)
    assert (row.state, row.next_attempt_at, row.last_result, row.attempts) == (
        LeadState.DIALABLE, NOW + timedelta(minutes=15), "busy", 3
    )
    assert row.claimed_by is None and row.claim_expires_at is None
    row = await _reload(session, cancelled)
    assert (row.state, row.next_attempt_at, row.attempts) == (LeadState.DIALABLE, NOW, 2)


async def test_release_without_a_next_attempt_is_refused(session: AsyncSession) -> None:
    c = await make_campaign(session)
    lead = await _claimed(session, c.id)
    with pytest.raises(ValueError, match="next_attempt_at"):
        await release_lead(session, lead.id, now=NOW, last_result="busy", next_attempt_at=None)  # type: ignore[arg-type]
    assert (await _reload(session, lead)).state is LeadState.IN_PROGRESS


async def test_finish_clears_the_next_attempt(session: AsyncSession) -> None:
    c = await make_campaign(session)
    lead = await _claimed(session, c.id)
    await finish_lead(session, lead.id, now=NOW, last_result="ACORDO")
    row = await _reload(session, lead)
    assert (row.state, row.next_attempt_at, row.last_result, row.claimed_by) == (LeadState.DONE, None, "ACORDO", None)
    with pytest.raises(ValueError, match="state"):
        await finish_lead(session, lead.id, now=NOW, last_result="x", state=LeadState.DIALABLE)


async def test_stop_customer_leads_stops_every_campaign_and_clears_next_attempts(session: AsyncSession) -> None:
    first, second = await make_campaign(session), await make_campaign(session)
    lead = await _claimed(session, first.id)
    other = Lead(campaign_id=second.id, customer_id=lead.customer_id, state=LeadState.DIALABLE, next_attempt_at=NOW)
    session.add(other)
    await session.flush()
    assert await stop_customer_leads(session, lead.customer_id, now=NOW) == 2
    for row in (await _reload(session, lead), await _reload(session, other)):
        assert (row.state, row.next_attempt_at, row.claimed_by) == (LeadState.STOPPED, None, None)


async def test_expired_and_own_claims_are_due_again_at_once_others_untouched(session: AsyncSession) -> None:
    c = await make_campaign(session)
    expired = await _claimed(session, c.id, claimer="dead", lease=timedelta(seconds=10))
    mine = await _claimed(session, c.id, claimer="me")
    theirs = await _claimed(session, c.id, claimer="alive")
    later = NOW + timedelta(minutes=1)
    assert await release_expired_claims(session, now=later, claimer="me") == 2
    for row in (await _reload(session, expired), await _reload(session, mine)):
        assert (row.state, row.next_attempt_at, row.claimed_by) == (LeadState.DIALABLE, later, None)
    row = await _reload(session, theirs)
    assert row.state is LeadState.IN_PROGRESS and row.claimed_by == "alive"
