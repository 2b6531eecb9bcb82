"""An agent's own day (SQLite and PostgreSQL): their open callbacks, today's contacts, promises and agreements."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Debt
from storage.repositories.agent_day import load_agent_day
from storage.repositories.call_attempts import create_call_attempt, update_call_attempt
from storage.repositories.callbacks import add_callback
from storage.repositories.negotiation import DebtShare, InstallmentSpec, add_agreement
from storage.repositories.outcomes import add_outcome
from tests.storage.factories import make_campaign, make_customer, make_user, unique


async def test_the_agents_day_counts_only_their_own_and_only_today(session: AsyncSession) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    day_start = now - timedelta(hours=2)
    c = await make_campaign(session)
    ana, bia = await make_user(session), await make_user(session)
    customer = await make_customer(session, name="Maria Conceição da Silva")
    debt = Debt(customer_id=customer.id, contract="C1", creditor="Banco", original_amount=Decimal(900),
                balance=Decimal("1000.00"), due_date=date(2025, 1, 10))
    session.add(debt)
    await session.flush()

    async def call(agent_id: int, at: datetime, connected: bool) -> str:
        attempt = await create_call_attempt(session, campaign_id=c.id, mode="progressive", number="+5511987650001",
                                            customer_id=customer.id, agent_id=agent_id)
        attempt.created_at = at
        if connected:
            await update_call_attempt(session, attempt.id, connected_at=at)
        return attempt.id

    talked = await call(ana.id, now - timedelta(minutes=30), True)
    await call(ana.id, now - timedelta(minutes=20), False)  # never connected: no contact
    yesterday = await call(ana.id, now - timedelta(days=1), True)
    other = await call(bia.id, now - timedelta(minutes=10), True)
    closed = await call(ana.id, now - timedelta(minutes=5), True)
    for attempt_id, agent_id, amount in ((talked, ana.id, "150.00"), (yesterday, ana.id, "999.00"), (other, bia.id, "50.00")):
        outcome, _ = await add_outcome(session, attempt_id=attempt_id, agent_id=agent_id, code="PROMESSA",
                                       client_key=unique(), promise_amount=Decimal(amount), promise_date=date(2030, 1, 2))
        if attempt_id == yesterday:
            outcome.created_at = now - timedelta(days=1)
    await add_agreement(
        session, customer_id=customer.id, attempt_id=closed, campaign_id=c.id, agent_id=ana.id, approval_id=None,
        kind="a_vista", discount_pct=Decimal("10.00"), discount_amount=Decimal("100.00"), debt_total=Decimal("1000.00"),
        calculation={}, installments=[InstallmentSpec(1, date(2030, 1, 5), Decimal("900.00"))],
        debts=[DebtShare(debt.id, Decimal("1000.00"))], created_at=now - timedelta(minutes=4),
    )
    late = await add_callback(session, customer_id=customer.id, campaign_id=c.id, due_at=now - timedelta(hours=1),
                              owner_agent_id=ana.id, created_by_id=ana.id, notes="depois do almoço")
    soon = await add_callback(session, customer_id=customer.id, campaign_id=c.id, due_at=now + timedelta(hours=3),
                              owner_agent_id=ana.id, created_by_id=ana.id)
    await add_callback(session, customer_id=customer.id, campaign_id=c.id, due_at=now, owner_agent_id=bia.id,
                       created_by_id=bia.id)
    await add_callback(session, customer_id=customer.id, campaign_id=c.id, due_at=now, owner_agent_id=None,
                       created_by_id=ana.id)  # anyone's: not on Ana's own list
    await session.flush()

    day = await load_agent_day(session, ana.id, day_start=day_start)
    assert [cb.id for cb in day.callbacks] == [late.id, soon.id]
    assert day.callbacks[0].customer_name == "Maria Conceição da Silva" and day.callbacks[0].notes == "depois do almoço"
    assert day.contacts == 2  # today's connected calls: the promise and the agreement
    assert (day.promises, day.promises_amount) == (1, Decimal("150.00"))
    assert (day.agreements, day.agreements_amount) == (1, Decimal("900.00"))
