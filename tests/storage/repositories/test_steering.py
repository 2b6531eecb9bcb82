"""The campaign page's storage on both databases: bulk boosts by filter and DDD, holds of a campaign's
customers, the window override, widening re-checks, the history with who did it, and today's results."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Agreement,
    AgreementKind,
    CallAttempt,
    CampaignMode,
    Lead,
    LeadState,
    Outcome,
    OutcomeCode,
    Phone,
)
from storage.repositories.audit import record
from storage.repositories.portfolio import set_hold
from storage.repositories.steering import (
    boost_matching_leads,
    campaign_customer,
    campaign_holds,
    count_matching_leads,
    history,
    hold_customer_in_campaign,
    recheck_deferred_leads,
    results_since,
    set_window_override,
)
from tests.storage.factories import (
    make_campaign,
    make_customer,
    make_user,
    unique_digits,
)

NOW = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)
TODAY = date(2026, 3, 3)


async def _lead(session: AsyncSession, campaign_id: int, ddd: str, *, uf: str = "SP", balance: str = "500.00",
                state: LeadState = LeadState.NEW, next_at: datetime = NOW) -> Lead:
    customer = await make_customer(session, uf=uf, balance_total=Decimal(balance))
    session.add(Phone(customer_id=customer.id, e164=f"+55{ddd}9{unique_digits(8)}", ddd=ddd))
    lead = Lead(campaign_id=campaign_id, customer_id=customer.id, state=state, next_attempt_at=next_at)
    session.add(lead)
    await session.flush()
    return lead


async def test_bulk_boost_by_ddd_uf_and_balance(session: AsyncSession) -> None:
    campaign = await make_campaign(session)
    rio = await _lead(session, campaign.id, "21", uf="RJ", balance="2000.00")
    await _lead(session, campaign.id, "21", uf="RJ", balance="100.00")
    await _lead(session, campaign.id, "11")
    await _lead(session, campaign.id, "21", state=LeadState.DONE)  # finished: never boosted
    other = await make_campaign(session)
    await _lead(session, other.id, "21")

    count = await count_matching_leads(session, campaign.id, {}, ["21"], today=TODAY, now=NOW)
    assert count == 2
    assert await count_matching_leads(session, campaign.id, {"ufs": ["RJ"], "balance_min": "1000.00"}, [],
                                      today=TODAY, now=NOW) == 1
    assert await count_matching_leads(session, campaign.id, {}, [], today=TODAY, now=NOW) == 3
    changed, before = await boost_matching_leads(session, campaign.id, {"balance_min": "1000.00"}, ["21"], 250,
                                                 today=TODAY, now=NOW)
    assert (changed, before) == (1, {"0": 1})
    boosts = dict((await session.execute(select(Lead.id, Lead.boost).where(Lead.campaign_id == campaign.id))).all())
    assert boosts[rio.id] == 250 and sorted(boosts.values()) == [0, 0, 0, 250]


async def test_holds_customers_and_the_window(session: AsyncSession) -> None:
    campaign = await make_campaign(session)
    lead = await _lead(session, campaign.id, "11")
    outsider = await make_customer(session)
    customer = await session.get(type(outsider), lead.customer_id)
    assert customer is not None
    assert await campaign_customer(session, campaign.id, customer.external_id) == customer.id
    assert await campaign_customer(session, campaign.id, outsider.external_id) is None
    hold = await set_hold(session, customer.id, kind="dispute", reason="Procon", until=None, set_by_id=None, now=NOW)
    foreign = await set_hold(session, outsider.id, kind="lawyer", reason="x", until=None, set_by_id=None, now=NOW)
    holds = await campaign_holds(session, campaign.id, now=NOW)
    assert [(h.id, h.external_id, h.kind) for h in holds] == [(hold.id, customer.external_id, "dispute")]
    assert await hold_customer_in_campaign(session, campaign.id, hold.id) == customer.id
    assert await hold_customer_in_campaign(session, campaign.id, foreign.id) is None

    assert await set_window_override(session, 2**31 - 1, None) is None
    assert await set_window_override(session, campaign.id, {"mon": "09:00-18:00"}) == (None,)
    assert await set_window_override(session, campaign.id, None) == ({"mon": "09:00-18:00"},)


async def test_widening_rechecks_only_deferred_unclaimed_leads(session: AsyncSession) -> None:
    campaign = await make_campaign(session)
    later = await _lead(session, campaign.id, "11", state=LeadState.DIALABLE, next_at=NOW + timedelta(hours=3))
    due = await _lead(session, campaign.id, "11", next_at=NOW - timedelta(hours=1))
    busy = await _lead(session, campaign.id, "11", state=LeadState.IN_PROGRESS, next_at=NOW + timedelta(hours=3))
    assert await recheck_deferred_leads(session, campaign.id, now=NOW) == 1
    for lead in (later, due, busy):
        await session.refresh(lead)
    assert later.next_attempt_at == NOW and due.next_attempt_at == NOW - timedelta(hours=1)
    assert busy.next_attempt_at == NOW + timedelta(hours=3)


async def test_history_newest_first_with_who(session: AsyncSession) -> None:
    campaign = await make_campaign(session)
    user = await make_user(session, full_name="Sofia Lima")
    for i, action in enumerate(("campaign.start", "campaign.pause")):
        await record(session, user_id=user.id, action=action, entity="campaign", entity_id=campaign.id,
                     before={"n": i}, after={"n": i + 1}, at=NOW + timedelta(seconds=i))
    await record(session, user_id=None, action="campaign.stop", entity="campaign", entity_id=campaign.id, at=NOW)
    rows = await history(session, entities=("campaign",), entity_id=str(campaign.id), limit=2)
    assert [(r.action, r.user_name, r.login) for r in rows] == [("campaign.stop", None, None),
                                                               ("campaign.pause", "Sofia Lima", user.login)]
    older = await history(session, entities=("campaign",), entity_id=str(campaign.id), before_id=rows[-1].id)
    assert [r.action for r in older] == ["campaign.start"]


async def test_results_of_todays_calls(session: AsyncSession) -> None:
    campaign = await make_campaign(session)
    lead = await _lead(session, campaign.id, "11")
    for i, (code, at) in enumerate(((OutcomeCode.ACORDO, NOW), (OutcomeCode.PROMESSA, NOW),
                                    (OutcomeCode.TELEFONE_ERRADO, NOW), (OutcomeCode.ACORDO, NOW - timedelta(days=1)))):
        attempt = CallAttempt(campaign_id=campaign.id, customer_id=lead.customer_id, mode=CampaignMode.PROGRESSIVE,
                              number="+5511900000000", created_at=at)
        session.add(attempt)
        await session.flush()
        session.add(Outcome(attempt_id=attempt.id, code=code, client_key=f"k{i}-{attempt.id}", created_at=at,
                            promise_amount=Decimal("80.00") if code is OutcomeCode.PROMESSA else None,
                            promise_date=TODAY if code is OutcomeCode.PROMESSA else None))
        if code is OutcomeCode.ACORDO:
            session.add(Agreement(customer_id=lead.customer_id, attempt_id=attempt.id, campaign_id=campaign.id,
                                  kind=AgreementKind.CASH, discount_pct=Decimal(0), discount_amount=Decimal(0),
                                  debt_total=Decimal("700.00"), total=Decimal("700.00"), calculation={}))
    await session.flush()
    got = (await results_since(session, NOW - timedelta(hours=2)))[campaign.id]
    assert (got.right_party, got.promises, got.promised_amount, got.agreements, got.agreed_amount) == (
        2, 1, Decimal("80.00"), 1, Decimal("700.00"))
