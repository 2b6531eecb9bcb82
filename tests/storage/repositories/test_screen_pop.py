"""The screen-pop read: customer, debts, history with outcomes, promises, counts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import NotFound
from storage.models import CallResult, Debt, DebtStatus
from storage.repositories.call_attempts import create_call_attempt, update_call_attempt
from storage.repositories.outcomes import add_outcome
from storage.repositories.screen_pop import load_pop_data, load_pop_data_many
from tests.storage.factories import make_campaign, make_customer, make_user, unique


async def test_pop_data_has_debts_history_promises_and_counts(session: AsyncSession) -> None:
    now = datetime.now(UTC)
    c = await make_campaign(session)
    agent = await make_user(session, full_name="Carla Lima")
    customer = await make_customer(session)
    for n, status in enumerate((DebtStatus.OPEN, DebtStatus.SETTLED, DebtStatus.OPEN)):
        session.add(Debt(customer_id=customer.id, contract=f"C{n}", creditor="Banco", original_amount=Decimal(10),
                         balance=Decimal("12.50"), due_date=date(2025, 1, 10 + n), status=status))
    attempt = await create_call_attempt(session, campaign_id=c.id, mode="progressive", number="+5511987650001",
                                        customer_id=customer.id, agent_id=agent.id)
    await update_call_attempt(session, attempt.id, result=CallResult.CONNECTED)
    await add_outcome(session, attempt_id=attempt.id, agent_id=agent.id, code="PROMESSA", client_key=unique(),
                      promise_amount=Decimal("25.00"), promise_date=date(2030, 1, 2), notes="paga dia 2")
    await create_call_attempt(session, campaign_id=c.id, mode="progressive", number="+5511987650001", customer_id=customer.id)
    data = await load_pop_data(session, customer.id, now=now + timedelta(seconds=1), day_start=now - timedelta(hours=1))
    assert [d.contract for d in data.debts] == ["C0", "C2"]
    assert len(data.attempts) == 1  # the one still dialling has no result yet
    assert data.attempts[0].outcome_code == "PROMESSA" and data.attempts[0].agent_name == "Carla Lima"
    assert data.promises[0].amount == Decimal("25.00") and data.promises[0].due == date(2030, 1, 2)
    assert (data.attempts_today, data.attempts_7d) == (2, 2)


async def test_unknown_customer_is_named(session: AsyncSession) -> None:
    now = datetime.now(UTC)
    with pytest.raises(NotFound, match="no customer with id -1"):
        await load_pop_data(session, -1, now=now, day_start=now)


async def test_many_customers_at_once_read_exactly_what_one_at_a_time_reads(session: AsyncSession) -> None:
    now = datetime.now(UTC)
    c = await make_campaign(session)
    agent = await make_user(session, full_name="Carla Lima")
    busy, quiet, other = [await make_customer(session) for _ in range(3)]
    for n, status in enumerate((DebtStatus.OPEN, DebtStatus.SETTLED, DebtStatus.OPEN)):
        session.add(Debt(customer_id=busy.id, contract=f"C{n}", creditor="Banco", original_amount=Decimal(10),
                         balance=Decimal("12.50"), due_date=date(2025, 1, 10 + n), status=status))
    session.add(Debt(customer_id=other.id, contract="X1", creditor="Loja", original_amount=Decimal(99),
                     balance=Decimal("120.00"), due_date=date(2024, 5, 1), status=DebtStatus.OPEN))
    # 13 finished attempts for one customer (more than the 10 a pop shows), 2 for another
    for n in range(13):
        attempt = await create_call_attempt(session, campaign_id=c.id, mode="progressive", number="+5511987650001",
                                            customer_id=busy.id, agent_id=agent.id)
        attempt.created_at = now - timedelta(hours=n, minutes=1)  # distinct times: "the last 10" is one set
        await update_call_attempt(session, attempt.id, result=CallResult.CONNECTED if n % 2 else CallResult.FAILED)
        if n % 3 == 0:
            await add_outcome(session, attempt_id=attempt.id, agent_id=agent.id, code="PROMESSA", client_key=unique(),
                              promise_amount=Decimal(f"{25 + n}.00"), promise_date=date(2030, 1, 2 + n), notes=f"n{n}")
    for n in range(2):
        attempt = await create_call_attempt(session, campaign_id=c.id, mode="progressive", number="+5511987650002",
                                            customer_id=other.id)
        attempt.created_at = now - timedelta(days=3 + n)
        await update_call_attempt(session, attempt.id, result=CallResult.NO_ANSWER)
    await create_call_attempt(session, campaign_id=c.id, mode="progressive", number="+5511987650001", customer_id=busy.id)
    at, start = now + timedelta(seconds=1), now - timedelta(hours=5)
    ids = [busy.id, quiet.id, other.id]
    many = await load_pop_data_many(session, [*ids, busy.id], now=at, day_start=start)
    assert many == {i: await load_pop_data(session, i, now=at, day_start=start) for i in ids}
    assert len(many[busy.id].attempts) == 10 and len(many[other.id].attempts) == 2 and many[quiet.id].attempts == ()
    with pytest.raises(NotFound, match="no customer with id -1"):
        await load_pop_data_many(session, [busy.id, -1], now=at, day_start=start)
