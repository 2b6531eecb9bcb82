"""Negotiation rows on SQLite and PostgreSQL: agreements, promises, approval decisions, script runs, history."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from storage.engine import session_factory
from storage.errors import InvalidValue, NotFound
from storage.models import ApprovalStatus, Debt, DebtStatus, PromiseStatus
from storage.repositories import audit
from storage.repositories.call_attempts import create_call_attempt
from storage.repositories.negotiation import (
    DebtShare,
    InstallmentSpec,
    add_agreement,
    add_approval_request,
    add_promise,
    decide_approval_request,
    get_agreement,
    negotiation_history,
    overdue_approval_requests,
    pending_approval_requests,
    save_script_run,
    script_run_of_attempt,
)
from storage.repositories.payments import (
    add_payment,
    credit_installment,
    open_installments,
    payment_by_key,
    requeue_customer_leads,
)
from tests.storage.factories import make_campaign, make_customer, make_user

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


async def _debt(session: AsyncSession, customer_id: int, contract: str) -> Debt:
    debt = Debt(customer_id=customer_id, contract=contract, creditor="Banco", original_amount=Decimal("100.00"),
                balance=Decimal("100.00"), due_date=date(2025, 12, 1))
    session.add(debt)
    await session.flush()
    return debt


async def test_agreement_with_schedule_and_debts_once_per_attempt(session: AsyncSession) -> None:
    campaign = await make_campaign(session)
    agent = await make_user(session)
    customer = await make_customer(session)
    d1, d2 = await _debt(session, customer.id, "A"), await _debt(session, customer.id, "B")
    attempt = await create_call_attempt(session, campaign_id=campaign.id, mode="progressive", number="+5511900000000",
                                        customer_id=customer.id, agent_id=agent.id)
    fields = dict(customer_id=customer.id, attempt_id=attempt.id, campaign_id=campaign.id, agent_id=agent.id, approval_id=None,
                  kind="parcelado", discount_pct=Decimal("0"), discount_amount=Decimal("0.00"), debt_total=Decimal("210.00"),
                  calculation={"any": "record"},
                  installments=[InstallmentSpec(0, date(2026, 3, 2), Decimal("70.00")),
                                InstallmentSpec(1, date(2026, 4, 2), Decimal("70.00")),
                                InstallmentSpec(2, date(2026, 5, 4), Decimal("70.00"))],
                  debts=[DebtShare(d1.id, Decimal("105.00")), DebtShare(d2.id, Decimal("105.00"))], created_at=NOW)
    agreement, created = await add_agreement(session, **fields)  # type: ignore[arg-type]
    again, created_again = await add_agreement(session, **fields)  # type: ignore[arg-type]
    assert created and not created_again and again.id == agreement.id
    assert agreement.total == Decimal("210.00") and [i.number for i in agreement.installments] == [0, 1, 2]
    await session.refresh(d1)
    assert d1.status is DebtStatus.IN_AGREEMENT
    with pytest.raises(InvalidValue, match="kind 'fiado'"):
        await add_agreement(session, **{**fields, "attempt_id": None, "kind": "fiado"})  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="installments"):
        await add_agreement(session, **{**fields, "attempt_id": None, "installments": []})  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        await get_agreement(session, -1)

    # paying installments: partial, then full; the last settles the agreement and the debts
    first, second, third = await open_installments(session, customer.id)
    assert await credit_installment(session, first, amount=Decimal("30.00"), paid_on=date(2026, 3, 2), now=NOW) == (False, False)
    assert await credit_installment(session, first, amount=Decimal("40.00"), paid_on=date(2026, 3, 3), now=NOW) == (True, False)
    assert [i.id for i in await open_installments(session, customer.id, d2.id)] == [second.id, third.id]
    await credit_installment(session, second, amount=Decimal("70.00"), paid_on=date(2026, 4, 2), now=NOW)
    assert await credit_installment(session, third, amount=Decimal("70.00"), paid_on=date(2026, 5, 4), now=NOW) == (True, True)
    await session.refresh(d2)
    assert d2.status is DebtStatus.SETTLED

    history = await negotiation_history(session, customer.id)
    [row] = history.agreements
    assert row.contracts == ("A", "B") and all(i.paid for i in row.installments) and row.status == "paid"
    await session.rollback()


async def test_approval_decision_is_stored_once(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    async with sessions() as session:
        agent = await make_user(session)
        supervisor = await make_user(session, extension=None)
        customer = await make_customer(session)
        request = await add_approval_request(
            session, attempt_id=None, customer_id=customer.id, campaign_id=None, agent_id=agent.id,
            requested_pct=Decimal("20"), agent_limit_pct=Decimal("10"), supervisor_limit_pct=Decimal("30"),
            offer={"view": {}}, created_at=NOW, expires_at=NOW + timedelta(minutes=2),
        )
        await session.commit()
        request_id = request.id
        assert request_id in [r.id for r in await pending_approval_requests(session)]
        assert request_id not in await overdue_approval_requests(session, NOW)
        assert request_id in await overdue_approval_requests(session, NOW + timedelta(minutes=2))
    # two sessions race; exactly one decision is stored
    async with sessions() as a, sessions() as b:
        won_a = await decide_approval_request(a, request_id, status=ApprovalStatus.APPROVED, decided_by_id=supervisor.id, at=NOW)
        await a.commit()
        won_b = await decide_approval_request(b, request_id, status=ApprovalStatus.REFUSED, decided_by_id=supervisor.id, at=NOW)
        await b.commit()
    assert (won_a, won_b) == (True, False)
    with pytest.raises(InvalidValue):
        async with sessions() as s:
            await decide_approval_request(s, request_id, status=ApprovalStatus.PENDING, decided_by_id=None, at=NOW)
    async with sessions() as s:
        await audit.record(s, user_id=supervisor.id, action="discount_approved", entity="approval_request",
                           entity_id=request_id, at=NOW, after={"status": "approved"})
        await s.commit()
        [entry] = await audit.entries_for(s, "approval_request", request_id, oldest_first=True)
    assert entry.after == {"status": "approved"}


async def test_promise_and_script_run_once_per_attempt(session: AsyncSession) -> None:
    campaign = await make_campaign(session)
    customer = await make_customer(session)
    attempt = await create_call_attempt(session, campaign_id=campaign.id, mode="progressive", number="+5511900000001",
                                        customer_id=customer.id)
    promise, created = await add_promise(session, customer_id=customer.id, attempt_id=attempt.id, campaign_id=campaign.id,
                                         agent_id=None, amount=Decimal("99.90"), due_date=date(2026, 3, 9), created_at=NOW)
    same, created_again = await add_promise(session, customer_id=customer.id, attempt_id=attempt.id, campaign_id=campaign.id,
                                            agent_id=None, amount=Decimal("1.00"), due_date=date(2026, 3, 9), created_at=NOW)
    assert created and not created_again and same.id == promise.id and promise.status is PromiseStatus.PENDING
    with pytest.raises(InvalidValue, match="amount"):
        await add_promise(session, customer_id=customer.id, attempt_id=None, campaign_id=None, agent_id=None,
                          amount=Decimal("0"), due_date=date(2026, 3, 9), created_at=NOW)
    record = {"script_id": "padrao", "script_version": 3, "identity_confirmed_at": NOW.isoformat(), "outcome": None,
              "finished_at": None, "captures": {}, "steps": [{"step_id": "abertura", "entered_at": NOW.isoformat()}]}
    await save_script_run(session, attempt_id=attempt.id, agent_id=None, record=record)
    await save_script_run(session, attempt_id=attempt.id, agent_id=None,
                          record={**record, "outcome": "ACORDO", "captures": {"motivo": "desemprego"}})
    stored = await script_run_of_attempt(session, attempt.id)
    assert stored is not None and stored.outcome == "ACORDO" and stored.captures == {"motivo": "desemprego"}
    assert stored.identity_confirmed_at == NOW and stored.script_version == 3
    with pytest.raises(InvalidValue, match="steps"):
        await save_script_run(session, attempt_id=attempt.id, agent_id=None, record={"script_id": "x", "script_version": 1})
    history = await negotiation_history(session, customer.id)
    assert [(p.amount, p.kept) for p in history.promises] == [(Decimal("99.90"), None)]
    assert await requeue_customer_leads(session, customer.id, now=NOW, boost=5, reason="PROMESSA_QUEBRADA") == 0
    await session.rollback()


async def test_payments_table_orders_history(session: AsyncSession) -> None:
    customer = await make_customer(session)
    await add_payment(session, source_key=f"k-{customer.id}-1", customer_id=customer.id, debt_id=None, amount=Decimal("10.00"),
                      paid_on=date(2026, 3, 1), source="a.csv", applied={}, imported_at=NOW)
    await add_payment(session, source_key=f"k-{customer.id}-2", customer_id=customer.id, debt_id=None, amount=Decimal("20.00"),
                      paid_on=date(2026, 3, 5), source="a.csv", applied={}, imported_at=NOW)
    assert await payment_by_key(session, f"k-{customer.id}-2") is not None
    history = await negotiation_history(session, customer.id)
    assert [p.amount for p in history.payments] == [Decimal("20.00"), Decimal("10.00")]
    assert (await session.execute(select(Debt).where(Debt.customer_id == customer.id))).first() is None
    await session.rollback()
