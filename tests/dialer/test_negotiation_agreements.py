"""ACORDO with schedule, calculation and debts; PROMESSA; the script run; both in the next screen-pop."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialer.calls.services import build_screen_pop
from dialer.negotiation.agreements import close_agreement, record_promise, record_script_run, reproduce
from dialer.negotiation.approvals import ApprovalBroker
from dialer.negotiation.errors import NegotiationError, NotAllowed
from scripting.money import ZERO
from scripting.offers import OfferKind
from scripting.run import ScriptRun
from scripting.script import load_default_script
from storage.models import Debt, DebtStatus, OutcomeCode
from storage.repositories import audit
from storage.repositories.negotiation import get_agreement, script_run_of_attempt
from storage.repositories.outcomes import add_outcome
from storage.repositories.screen_pop import load_pop_data
from tests.dialer.negotiation_support import NOW, TODAY, add_call, seed, sessions

__all__ = ["sessions"]


async def test_agreement_is_stored_with_schedule_calculation_and_debts(sessions: async_sessionmaker[AsyncSession]) -> None:
    w = await seed(sessions)
    call = await add_call(sessions, w)
    async with sessions() as db:
        agreement = await close_agreement(db, call_id=call, customer_id=w.customer_id, campaign_id=w.campaign_id,
                                          agent_id=w.agent_id, today=TODAY, at=NOW, kind=OfferKind.INSTALLMENTS,
                                          installments=4)
        await db.commit()
        again = await close_agreement(db, call_id=call, customer_id=w.customer_id, campaign_id=w.campaign_id,
                                      agent_id=w.agent_id, today=TODAY, at=NOW, kind=OfferKind.CASH)
    assert again.id == agreement.id  # a retry of the same call stores nothing new
    async with sessions() as db:
        stored = await get_agreement(db, agreement.id)
        statuses = (await db.execute(select(Debt.status).where(Debt.customer_id == w.customer_id))).scalars().all()
        trail = await audit.entries_for(db, "agreement", agreement.id, oldest_first=True)
    assert [i.number for i in stored.installments] == [0, 1, 2, 3, 4]
    assert stored.total == sum((i.amount for i in stored.installments), ZERO)
    assert sorted(d.debt_id for d in stored.debts) == sorted(w.debt_ids)
    assert set(statuses) == {DebtStatus.IN_AGREEMENT}
    # plans carry the bucket's installment discount (none here); the agent's 10 % is for cash
    assert stored.discount_pct == Decimal("0.00") and stored.attempt_id == call
    # the calculation reproduces: each contract adds up and the schedule sums to the total
    contracts, total = reproduce(stored.calculation)
    assert total == stored.total and len(contracts) == 2
    assert sum((c.total for c in contracts), ZERO) == stored.debt_total
    assert [(e.action, e.user_id) for e in trail] == [("agreement_created", w.agent_id)]


async def test_tampered_calculation_is_caught() -> None:
    with pytest.raises(NegotiationError, match="parcelas somam"):
        reproduce({"contracts": [], "debt": _record(), "offer": {"installments": [{"amount": "1.00"}], "total_payable": "2.00",
                                                                  "debt": _record()}})


def _record() -> dict[str, object]:
    return {"principal": "0.00", "due_on": "2026-01-01", "computed_on": "2026-01-01",
            "terms": {"index": "none", "fine_pct": "2", "fine_base": "original", "interest_pct_month": "1", "consumer": True},
            "correction_factor": "1", "factor_source": "none", "days_overdue": 0, "correction": "0.00", "fine_pct": "2",
            "fine": "0.00", "interest": "0.00", "interest_periods": [], "discount": "0.00", "discount_note": "",
            "total": "0.00"}


async def test_a_discount_above_the_limit_needs_an_approval_that_covers_it(sessions: async_sessionmaker[AsyncSession]) -> None:
    w = await seed(sessions)
    call = await add_call(sessions, w)
    common = dict(call_id=call, customer_id=w.customer_id, campaign_id=w.campaign_id, agent_id=w.agent_id, today=TODAY,
                  at=NOW, kind=OfferKind.CASH)
    async with sessions() as db:
        with pytest.raises(NotAllowed, match="peça aprovação") as err:
            await close_agreement(db, discount_pct=Decimal("20"), **common)  # type: ignore[arg-type]
        assert err.value.field == "discount_pct"
    broker = ApprovalBroker(sessions)
    try:
        pending = await broker.request_discount(agent_id=w.agent_id, customer_id=w.customer_id, campaign_id=w.campaign_id,
                                                call_id=call, discount_pct=Decimal("20"), today=TODAY)
        async with sessions() as db:
            with pytest.raises(NotAllowed, match="não cobre"):
                await close_agreement(db, discount_pct=Decimal("20"), approval_id=pending.request_id, **common)  # type: ignore[arg-type]
        await broker.decide(pending.request_id, supervisor_id=w.supervisor_ids[0], approve=True)
    finally:
        await broker.close()
    async with sessions() as db:
        with pytest.raises(NotAllowed, match="não cobre"):
            await close_agreement(db, discount_pct=Decimal("25"), approval_id=pending.request_id, **common)  # type: ignore[arg-type]
        agreement = await close_agreement(db, discount_pct=Decimal("20"), approval_id=pending.request_id, **common)  # type: ignore[arg-type]
        await db.commit()
    assert agreement.approval_id == pending.request_id and agreement.discount_pct == Decimal("20.00")
    assert len(agreement.installments) == 1


async def test_promise_checks_amount_and_date(sessions: async_sessionmaker[AsyncSession]) -> None:
    w = await seed(sessions)
    call = await add_call(sessions, w)
    base = dict(call_id=call, customer_id=w.customer_id, campaign_id=w.campaign_id, agent_id=w.agent_id, today=TODAY, at=NOW)
    async with sessions() as db:
        with pytest.raises(NegotiationError) as bad_amount:
            await record_promise(db, amount=Decimal("0"), due_date=TODAY, **base)  # type: ignore[arg-type]
        assert bad_amount.value.field == "promise_amount"
        with pytest.raises(NegotiationError, match="já passou") as past:
            await record_promise(db, amount=Decimal("100.00"), due_date=TODAY - timedelta(days=1), **base)  # type: ignore[arg-type]
        assert past.value.field == "promise_date"
        promise = await record_promise(db, amount=Decimal("150.00"), due_date=date(2026, 3, 10), **base)  # type: ignore[arg-type]
        await db.commit()
    assert (promise.amount, promise.due_date, promise.status.value) == (Decimal("150.00"), date(2026, 3, 10), "pending")


async def test_script_run_is_stored_and_updated(sessions: async_sessionmaker[AsyncSession]) -> None:
    w = await seed(sessions)
    call = await add_call(sessions, w)
    script = load_default_script()
    run = ScriptRun(script, NOW)
    async with sessions() as db:
        await record_script_run(db, call_id=call, agent_id=w.agent_id, run=run)
        first_choice = run.current_step.choices[0]
        run.choose(first_choice.id, NOW + timedelta(seconds=5),
                   capture="x" if first_choice.capture and not first_choice.capture.catalogue else
                   (sorted(first_choice.capture.codes())[0] if first_choice.capture else None))
        await record_script_run(db, call_id=call, agent_id=w.agent_id, run=run)
        await db.commit()
        stored = await script_run_of_attempt(db, call)
    assert stored is not None
    assert (stored.script_id, stored.script_version) == (script.id, script.version)
    assert [s["step_id"] for s in stored.steps] == run.path and len(stored.steps) >= 1
    assert stored.steps[0]["choice_id"] == first_choice.id


async def test_agreements_and_promises_show_in_the_next_screen_pop(sessions: async_sessionmaker[AsyncSession]) -> None:
    w = await seed(sessions)
    first_call = await add_call(sessions, w)
    second_call = await add_call(sessions, w, NOW + timedelta(minutes=10))
    async with sessions() as db:
        await add_outcome(db, attempt_id=first_call, agent_id=w.agent_id, code=OutcomeCode.PROMESSA, client_key="k1",
                          promise_amount=Decimal("150.00"), promise_date=date(2026, 3, 10))
        await record_promise(db, call_id=first_call, customer_id=w.customer_id, campaign_id=w.campaign_id,
                             agent_id=w.agent_id, amount=Decimal("150.00"), due_date=date(2026, 3, 10), today=TODAY, at=NOW)
        await add_outcome(db, attempt_id=second_call, agent_id=w.agent_id, code=OutcomeCode.ACORDO, client_key="k2")
        await close_agreement(db, call_id=second_call, customer_id=w.customer_id, campaign_id=w.campaign_id,
                              agent_id=w.agent_id, today=TODAY, at=NOW + timedelta(minutes=10), kind=OfferKind.INSTALLMENTS,
                              installments=2)
        await db.commit()
    async with sessions() as db:
        data = await load_pop_data(db, w.customer_id, now=NOW + timedelta(hours=1), day_start=NOW - timedelta(hours=12))
    [promise] = data.promises
    assert (promise.amount, promise.due, promise.kept) == (Decimal("150.00"), date(2026, 3, 10), None)
    [agreement] = data.agreements
    assert agreement.kind == "parcelado" and agreement.contracts == ("CT-1", "CT-2")
    assert [i.number for i in agreement.installments] == [0, 1, 2] and not any(i.paid for i in agreement.installments)
    pop = build_screen_pop(data, call_id="x", campaign_id=w.campaign_id, campaign_name="Cartão", mode="progressive",
                           phone_e164="+5511987654321", at=NOW, today_local=TODAY)
    assert pop.promises[0].kept is None
    extras_agreements = pop.extras["agreements"]
    assert isinstance(extras_agreements, list) and extras_agreements[0]["total"] == str(agreement.total)
