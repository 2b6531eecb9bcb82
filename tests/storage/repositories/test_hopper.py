"""The hopper's SQL on both databases: levels, the pre-filtered atomic claim, facts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    CallAttempt,
    CallResult,
    CampaignMode,
    Customer,
    CustomerHold,
    Debt,
    DncEntry,
    DncKind,
    HoldKind,
    Lead,
    LeadState,
    Phone,
    PhoneStatus,
)
from storage.repositories import hopper as sql
from tests.storage.factories import make_campaign, make_customer, make_phone

NOW = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)
LEASE = timedelta(minutes=10)


async def lead_for(session: AsyncSession, campaign_id: int, priority: int, minutes_ago: int, **customer: object) -> Lead:
    person = await make_customer(session, **customer)
    await make_phone(session, person)
    session.add(Debt(customer_id=person.id, contract="CT", creditor="Banco", original_amount=Decimal("10"),
                     balance=Decimal("10"), due_date=date(2026, 1, 5)))
    lead = Lead(campaign_id=campaign_id, customer_id=person.id, priority=priority,
                next_attempt_at=NOW - timedelta(minutes=minutes_ago))
    session.add(lead)
    await session.flush()
    return lead


async def test_levels_and_prefiltered_claims(session: AsyncSession) -> None:
    campaign = await make_campaign(session)
    top_held = await lead_for(session, campaign.id, 100, 50)
    session.add(CustomerHold(customer_id=top_held.customer_id, kind=HoldKind.LAWYER, reason="advogado"))
    await lead_for(session, campaign.id, 100, 40, deceased=True)  # the deceased top lead is never claimed
    top_dnc = await lead_for(session, campaign.id, 100, 30)
    dnc_cpf = await make_customer(session)
    await session.execute(update(Lead).where(Lead.id == top_dnc.id).values(customer_id=dnc_cpf.id))
    await make_phone(session, dnc_cpf)
    session.add(DncEntry(kind=DncKind.CPF, value=dnc_cpf.cpf, until=None, source="procon"))
    wrong = await lead_for(session, campaign.id, 100, 20)
    await session.execute(update(Phone).where(Phone.customer_id == wrong.customer_id).values(status=PhoneStatus.WRONG))
    good = await lead_for(session, campaign.id, 100, 10)
    later = await lead_for(session, campaign.id, 200, 60)
    await session.flush()

    assert await sql.next_priority_level(session, campaign.id, None) == 100
    assert await sql.next_priority_level(session, campaign.id, 100) == 200
    assert await sql.next_priority_level(session, campaign.id, 200) is None
    claim = await sql.claim_in_level(session, campaign.id, 100, now=NOW, claimer="t", lease=LEASE)
    assert claim is not None and claim.lead_id == good.id
    assert await sql.claim_in_level(session, campaign.id, 100, now=NOW, claimer="t", lease=LEASE) is None
    second = await sql.claim_in_level(session, campaign.id, 200, now=NOW, claimer="t", lease=LEASE)
    assert second is not None and second.lead_id == later.id
    await session.refresh(good)
    assert (good.state, good.claimed_by, good.next_attempt_at) == (LeadState.IN_PROGRESS, "t", NOW + LEASE)

    rules = await sql.campaign_rules(session, campaign.id)
    assert rules is not None and rules.first_level == 100
    assert await sql.campaign_rules(session, 10**9) is None
    await session.rollback()


async def test_facts_hold_attempts_across_campaigns_and_dnc(session: AsyncSession) -> None:
    campaign, other = await make_campaign(session), await make_campaign(session)
    lead = await lead_for(session, campaign.id, 0, 0)
    person = await session.get(Customer, lead.customer_id)
    assert person is not None
    phone = await make_phone(session, person)
    session.add(DncEntry(kind=DncKind.PHONE, value=phone.e164, until=date(2026, 4, 1), source="cliente"))
    session.add(CallAttempt(campaign_id=other.id, customer_id=lead.customer_id, mode=CampaignMode.PREVIEW,
                            number=phone.e164, created_at=NOW - timedelta(hours=2), result=CallResult.BUSY))
    session.add(CallAttempt(campaign_id=other.id, customer_id=lead.customer_id, mode=CampaignMode.PREVIEW,
                            number=phone.e164, created_at=NOW - timedelta(days=9), result=CallResult.BUSY))
    session.add(CustomerHold(customer_id=lead.customer_id, kind=HoldKind.INSOLVENCY, reason="recuperação judicial"))
    await session.flush()
    facts = await sql.load_facts(session, lead.customer_id, campaign_id=campaign.id, now=NOW)
    assert facts is not None
    assert len(facts.phones) == 2 and facts.open_due_dates == (date(2026, 1, 5), date(2026, 1, 5))
    assert [(a.phone_e164, a.result) for a in facts.attempts] == [(phone.e164, "busy")]  # 9 days ago: outside 7 days
    assert [(d.kind, d.value, d.until) for d in facts.dnc] == [("phone", phone.e164, date(2026, 4, 1))]
    assert facts.customer.hold_kinds == frozenset({"insolvency"})
    assert facts.open_callback is None
    await session.rollback()
