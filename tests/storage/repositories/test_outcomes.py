"""Outcomes are stored once per idempotency key; one per attempt."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import AlreadyExists, InvalidValue
from storage.repositories.call_attempts import create_call_attempt
from storage.repositories.outcomes import add_outcome
from tests.storage.factories import make_campaign, unique


async def test_same_key_twice_is_one_outcome_and_other_key_is_refused(session: AsyncSession) -> None:
    c = await make_campaign(session)
    attempt = await create_call_attempt(session, campaign_id=c.id, mode="progressive", number="+5511987650001")
    key = unique("k-")
    first, created = await add_outcome(session, attempt_id=attempt.id, agent_id=None, code="RECUSA", client_key=key)
    again, created_again = await add_outcome(session, attempt_id=attempt.id, agent_id=None, code="RECUSA", client_key=key)
    assert created and not created_again and again.id == first.id
    with pytest.raises(AlreadyExists, match="already has outcome RECUSA"):
        await add_outcome(session, attempt_id=attempt.id, agent_id=None, code="ACORDO", client_key=unique("k-"))
    with pytest.raises(InvalidValue, match="code 'NOPE'"):
        await add_outcome(session, attempt_id=attempt.id, agent_id=None, code="NOPE", client_key=unique("k-"))
