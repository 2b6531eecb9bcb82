"""The audit log: who changed what, when, with the values before and after (SPEC §8, §11)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditLog, utcnow


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    user_id: int | None
    action: str
    entity: str
    entity_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


async def record(
    session: AsyncSession,
    *,
    user_id: int | None,
    action: str,
    entity: str,
    entity_id: str | int | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditLog:
    """Add one entry (in the caller's transaction, so it commits with the change it describes)."""
    entry = AuditLog(
        user_id=user_id,
        action=action[:60],
        entity=entity[:60],
        entity_id=None if entity_id is None else str(entity_id)[:64],
        before=before,
        after=after,
        at=at or utcnow(),
    )
    session.add(entry)
    await session.flush()
    return entry


async def entries_for(
    session: AsyncSession,
    entity: str,
    entity_id: str | int | None = None,
    *,
    limit: int = 100,
    oldest_first: bool = False,
) -> list[AuditEntry]:
    """The newest ``limit`` entries about an entity (all of its kind when ``entity_id`` is None),
    newest first, or in the order they happened with ``oldest_first``."""
    query = select(
        AuditLog.id,
        AuditLog.at,
        AuditLog.user_id,
        AuditLog.action,
        AuditLog.entity,
        AuditLog.entity_id,
        AuditLog.before,
        AuditLog.after,
    ).where(AuditLog.entity == entity)
    if entity_id is not None:
        query = query.where(AuditLog.entity_id == str(entity_id))
    rows = await session.execute(query.order_by(AuditLog.id.desc()).limit(limit))
    found = [AuditEntry(*row) for row in rows]
    return found[::-1] if oldest_first else found
