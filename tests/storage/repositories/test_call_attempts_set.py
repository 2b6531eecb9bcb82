"""set_call_attempt: one UPDATE, the same errors as update_call_attempt."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import NotFound, UnknownField
from storage.models import CallAttempt, CallResult
from storage.repositories.call_attempts import create_call_attempt, set_call_attempt
from tests.storage.factories import make_campaign


async def test_it_sets_the_fields(session: AsyncSession) -> None:
    c = await make_campaign(session)
    attempt = await create_call_attempt(session, campaign_id=c.id, mode="progressive", number="+5511987650001")
    at = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    await set_call_attempt(session, attempt.id, answered_at=at, result=CallResult.CONNECTED, customer_channel="Local/x")
    assert (attempt.result, attempt.customer_channel) == (CallResult.CONNECTED, "Local/x")  # read again, not stale
    session.expunge_all()
    stored = await session.get(CallAttempt, attempt.id)
    assert stored is not None and stored.result is CallResult.CONNECTED and stored.customer_channel == "Local/x"
    assert stored.answered_at is not None and stored.answered_at.replace(tzinfo=UTC) == at


async def test_unknown_attempts_and_frozen_fields_are_refused(session: AsyncSession) -> None:
    c = await make_campaign(session)
    attempt = await create_call_attempt(session, campaign_id=c.id, mode="progressive", number="+5511987650001")
    with pytest.raises(NotFound, match="no call attempt with id 'nope'"):
        await set_call_attempt(session, "nope", result=CallResult.BUSY)
    with pytest.raises(UnknownField, match="id"):
        await set_call_attempt(session, attempt.id, id="other")
