"""An agent's own day (issue 11 item 6): their callbacks, and today's contacts, promises and agreements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Agreement,
    CallAttempt,
    Callback,
    Customer,
    Outcome,
    OutcomeCode,
)


@dataclass(frozen=True, slots=True)
class DayCallback:
    id: int
    due_at: datetime
    customer_name: str
    notes: str | None


@dataclass(frozen=True, slots=True)
class AgentDay:
    callbacks: tuple[DayCallback, ...]  # open, owned by the agent, soonest (or most overdue) first
    contacts: int  # calls today where the person talked to the agent
    promises: int
    promises_amount: Decimal
    agreements: int
    agreements_amount: Decimal


async def load_agent_day(
    session: AsyncSession, agent_id: int, *, day_start: datetime, limit: int = 20
) -> AgentDay:
    """What ``agent_id`` did since ``day_start`` (their local midnight) and the callbacks they owe."""
    rows = await session.execute(
        select(Callback.id, Callback.due_at, Customer.name, Callback.notes)
        .join(Customer, Customer.id == Callback.customer_id)
        .where(Callback.owner_agent_id == agent_id, Callback.done_at.is_(None))
        .order_by(Callback.due_at)
        .limit(limit)
    )
    callbacks = tuple(DayCallback(cid, due, name, notes) for cid, due, name, notes in rows)
    contacts = (
        await session.execute(
            select(func.count(CallAttempt.id)).where(
                CallAttempt.agent_id == agent_id, CallAttempt.created_at >= day_start, CallAttempt.connected_at.is_not(None)
            )
        )
    ).scalar_one()
    promises, promised = (
        await session.execute(
            select(func.count(Outcome.id), func.coalesce(func.sum(Outcome.promise_amount), 0)).where(
                Outcome.agent_id == agent_id, Outcome.code == OutcomeCode.PROMESSA, Outcome.created_at >= day_start
            )
        )
    ).one()
    agreements, agreed = (
        await session.execute(
            select(func.count(Agreement.id), func.coalesce(func.sum(Agreement.total), 0)).where(
                Agreement.agent_id == agent_id, Agreement.created_at >= day_start
            )
        )
    ).one()
    return AgentDay(
        callbacks=callbacks,
        contacts=int(contacts),
        promises=int(promises),
        promises_amount=Decimal(str(promised)).quantize(Decimal("0.01")),
        agreements=int(agreements),
        agreements_amount=Decimal(str(agreed)).quantize(Decimal("0.01")),
    )
