"""Offers for a seeded customer: updated debt per contract, the campaign's bucket, authority limits."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialer.negotiation.errors import NoPolicy, NotAllowed, NothingToNegotiate
from dialer.negotiation.offers import DEFAULT_POLICY, parse_campaign_policy, quote_for_customer
from scripting.business_days import BusinessCalendar
from scripting.debt import DebtBreakdown
from scripting.money import ZERO
from scripting.offers import OfferKind
from scripting.policy import Authority
from tests.dialer.negotiation_support import POLICY, TODAY, seed, sessions

__all__ = ["sessions"]


async def test_quote_sums_exactly_on_business_days_within_the_bucket(sessions: async_sessionmaker[AsyncSession]) -> None:
    w = await seed(sessions)
    async with sessions() as db:
        quote = await quote_for_customer(db, customer_id=w.customer_id, campaign_id=w.campaign_id, agent_id=w.agent_id,
                                         today=TODAY)
    # oldest contract due 10/11/2025: 112 days on 02/03/2026 -> bucket 91-360
    assert quote.debt.days_overdue == 112 and quote.bucket.name == "91-360"
    # each contract updated on its own, the offers priced on the sum
    first = quote.contracts[0].breakdown
    assert (first.principal, first.fine, first.interest) == (Decimal("1000.00"), Decimal("20.00"), Decimal("37.33"))
    assert quote.debt.total == sum((c.breakdown.total for c in quote.contracts), ZERO)
    assert quote.debt.principal == Decimal("1350.50")
    # the agent's own limit (10 %) is the default cash discount
    assert quote.discount_pct == Decimal("10") and quote.authority is Authority.WITHIN_AGENT
    assert quote.cash.kind is OfferKind.CASH and quote.cash.debt.discount > 0
    assert len(quote.offers) > 3
    calendar = BusinessCalendar(subdiv="SP")
    for offer in quote.offers:
        assert offer.total_payable == sum((i.amount for i in offer.installments), ZERO)
        assert offer.discount_pct <= quote.bucket.max_cash_discount_pct
        assert all(calendar.is_business_day(i.due_on) for i in offer.installments)
        assert all(i.amount >= quote.bucket.min_installment for i in offer.installments)
        assert len(offer.regular_installments) <= quote.bucket.max_installments
        if offer.kind is OfferKind.INSTALLMENTS:
            assert offer.total_payable == offer.debt.total  # no rate in this bucket
            assert offer.down_payment is not None
            assert offer.down_payment.amount * 10 >= offer.debt.total  # >= 10 % down


async def test_limits_come_from_the_agent_the_supervisors_and_the_bucket(sessions: async_sessionmaker[AsyncSession]) -> None:
    w = await seed(sessions, agent_limit="15", supervisor_limits=("25", "35", None))
    async with sessions() as db:
        quote = await quote_for_customer(db, customer_id=w.customer_id, campaign_id=w.campaign_id, agent_id=w.agent_id,
                                         today=TODAY, discount_pct=Decimal("30"))
    assert (quote.limits.agent_pct, quote.limits.supervisor_pct, quote.limits.bucket_cap_pct) == (
        Decimal("15"), Decimal("35"), Decimal("40"))
    assert quote.authority is Authority.NEEDS_SUPERVISOR
    assert quote.cash.discount_pct == Decimal("30")
    async with sessions() as db:
        with pytest.raises(NotAllowed) as refused:
            await quote_for_customer(db, customer_id=w.customer_id, campaign_id=w.campaign_id, agent_id=w.agent_id,
                                     today=TODAY, discount_pct=Decimal("36"))
    assert refused.value.field == "discount_pct" and "36,00%" in refused.value.message


async def test_an_agent_without_a_limit_grants_nothing_and_a_supervisor_limit_never_passes_the_cap(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    w = await seed(sessions, agent_limit=None, supervisor_limits=("90",))
    async with sessions() as db:
        quote = await quote_for_customer(db, customer_id=w.customer_id, campaign_id=w.campaign_id, agent_id=w.agent_id,
                                         today=TODAY)
    assert quote.limits.agent_pct == 0 and quote.limits.supervisor_pct == Decimal("40")
    assert quote.cash.debt.discount == 0


async def test_plan_choice_and_view(sessions: async_sessionmaker[AsyncSession]) -> None:
    w = await seed(sessions)
    async with sessions() as db:
        quote = await quote_for_customer(db, customer_id=w.customer_id, campaign_id=w.campaign_id, agent_id=w.agent_id,
                                         today=TODAY, installment_counts=[3], first_due=date(2026, 3, 7))
    plan = quote.find(OfferKind.INSTALLMENTS, 3)
    # 07/03/2026 is a Saturday: the first payment moves to Monday
    assert plan.installments[0].due_on == date(2026, 3, 9)
    view = quote.view()
    assert view["bucket"] == "91-360" and view["authority"] == "within_agent"
    assert view["offers"][1]["payments"][0]["due_text"] == "09/03/2026"
    assert view["debt"]["total_text"].startswith("R$ ")
    record = quote.to_record(plan)
    assert DebtBreakdown.from_record(record["contracts"][0]["breakdown"]).total == quote.contracts[0].breakdown.total
    assert record["offer"]["total_payable"] == str(plan.total_payable)


async def test_campaign_without_policy_uses_the_default(sessions: async_sessionmaker[AsyncSession]) -> None:
    w = await seed(sessions, policy=None)
    async with sessions() as db:
        quote = await quote_for_customer(db, customer_id=w.customer_id, campaign_id=w.campaign_id, agent_id=w.agent_id,
                                         today=TODAY)
    assert quote.bucket.name == "91-180"
    assert quote.limits.bucket_cap_pct == Decimal(DEFAULT_POLICY["buckets"][3]["max_cash_discount_pct"])


async def test_customer_without_open_debts_has_nothing_to_negotiate(sessions: async_sessionmaker[AsyncSession]) -> None:
    w = await seed(sessions, contracts=())
    async with sessions() as db:
        with pytest.raises(NothingToNegotiate) as err:
            await quote_for_customer(db, customer_id=w.customer_id, campaign_id=w.campaign_id, agent_id=w.agent_id,
                                     today=TODAY)
    assert err.value.field == "customer_id"


def test_bad_policy_documents_are_named() -> None:
    broken = {**POLICY, "buckets": [{**POLICY["buckets"][0], "max_installments": "muitas"}]}
    with pytest.raises(NoPolicy, match=r"buckets\[1\]: field max_installments"):
        parse_campaign_policy(broken, "Cartão")
    with pytest.raises(NoPolicy, match="policy.terms: campo\\(s\\) desconhecido\\(s\\): juros"):
        parse_campaign_policy({**POLICY, "terms": {"juros": 1}}, "Cartão")
