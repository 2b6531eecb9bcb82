"""The screen-pop read: customer, debts, history with outcomes, promises, counts."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import NotFound
from storage.models import CallResult, Debt, DebtStatus
from storage.repositories.call_attempts import create_call_attempt, update_call_attempt
from storage.repositories.outcomes import add_outcome
from storage.repositories.screen_pop import load_pop_data
from tests.storage.factories import make_campaign, make_customer, make_user, unique


async def test_pop_data_has_debts_history_promises_and_counts(session: AsyncSession) -> None:
    now = datetime.now(timezone.utc)
    c = await make_campaign(session)
    agent = await make_user(session, full_name="Carla Lima")
    customer = await make_customer(session)
    for n, status in enumerate((DebtStatus.OPEN, DebtStatus.SETTLED, DebtStatus.OPEN)):
        session.add(Debt(customer_id=customer.id, contract=f"C{n}", creditor="Banco", original_amount=Decimal("10"),
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
    now = datetime.now(timezone.utc)
    with pytest.raises(NotFound, match="no customer with id -1"):
        await load_pop_data(session, -1, now=now, day_start=now)
