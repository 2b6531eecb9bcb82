"""Audit entries: who, when, before, after."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Role
from storage.repositories.audit import entries_for, record
from tests.storage.factories import make_user, unique


async def test_record_and_read_back_newest_first(session: AsyncSession) -> None:
    user = await make_user(session, Role.SUPERVISOR)
    entity_id = unique()
    at = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)
    await record(session, user_id=user.id, action="segments.replace", entity="campaign_test", entity_id=entity_id,
                 before={"segments": []}, after={"segments": [{"name": "VIP", "weight": 80}]}, at=at)
    await record(session, user_id=None, action="boosts.set", entity="campaign_test", entity_id=entity_id,
                 before={"C1": 0}, after={"C1": 50})
    entries = await entries_for(session, "campaign_test", entity_id)
    assert [e.action for e in entries] == ["boosts.set", "segments.replace"]
    assert entries[1].user_id == user.id and entries[1].at == at
    assert entries[1].after == {"segments": [{"name": "VIP", "weight": 80}]} and entries[0].before == {"C1": 0}
    await session.rollback()
