"""Callbacks: calls an agent scheduled (RETORNAR), owned by that agent or open to anyone."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Callback


async def add_callback(
    session: AsyncSession,
    *,
    customer_id: int,
    campaign_id: int,
    due_at: datetime,
    owner_agent_id: int | None,
    created_by_id: int | None,
    phone_id: int | None = None,
    notes: str | None = None,
    at: datetime | None = None,
) -> Callback:
    """Store a callback; ``at`` is the caller's clock (None: the model's default)."""
    callback = Callback(
        customer_id=customer_id,
        campaign_id=campaign_id,
        due_at=due_at,
        owner_agent_id=owner_agent_id,
        created_by_id=created_by_id,
        phone_id=phone_id,
        notes=notes,
    )
    if at is not None:
        callback.created_at = at
    session.add(callback)
    await session.flush()
    return callback


async def reopen_callback(session: AsyncSession, callback_id: int, *, due_at: datetime) -> None:
    """Put back a callback whose call reached nobody, due again at ``due_at``."""
    await session.execute(update(Callback).where(Callback.id == callback_id).values(done_at=None, due_at=due_at))


async def open_callbacks_of_agent(session: AsyncSession, agent_id: int) -> list[Callback]:
    """The agent's own callbacks not yet made, soonest first (``ix_callbacks_owner_due``)."""
    rows = await session.execute(
        select(Callback)
        .where(Callback.owner_agent_id == agent_id, Callback.done_at.is_(None))
        .order_by(Callback.due_at, Callback.id)
    )
    return list(rows.scalars())
