"""Agent state changes: every transition stored with its time (SPEC §6)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AgentState, AgentStateChange
from storage.repositories._values import enum_value


async def record_state_change(
    session: AsyncSession,
    *,
    user_id: int,
    from_state: AgentState | str,
    to_state: AgentState | str,
    at: datetime,
    reason: str | None = None,
    flush: bool = True,
) -> AgentStateChange:
    """Store one transition; ``flush=False`` leaves the INSERT to the transaction's commit, where
    SQLAlchemy sends a writer batch's transitions as one multi-row insert (issue 10)."""
    change = AgentStateChange(
        user_id=user_id,
        from_state=enum_value(AgentState, from_state, "from_state"),
        to_state=enum_value(AgentState, to_state, "to_state"),
        reason=reason,
        at=at,
    )
    session.add(change)
    if flush:
        await session.flush()
    return change


async def state_changes_of(session: AsyncSession, user_id: int, since: datetime | None = None) -> list[AgentStateChange]:
    """The agent's transitions in time order (``ix_agent_state_changes_user_at``)."""
    query = select(AgentStateChange).where(AgentStateChange.user_id == user_id)
    if since is not None:
        query = query.where(AgentStateChange.at >= since)
    rows = await session.execute(query.order_by(AgentStateChange.at, AgentStateChange.id))
    return list(rows.scalars())
