"""Outcomes are stored once per idempotency key; one per attempt."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import AlreadyExists, InvalidValue
from storage.repositories.call_attempts import create_call_attempt
from storage.repositories.outcomes import add_outcome, get_outcome_by_key
from tests.storage.factories import make_campaign, make_user, unique


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


async def test_a_key_is_unique_per_agent_so_another_agent_never_gets_the_first_ones_outcome(
    session: AsyncSession,
) -> None:
    c = await make_campaign(session)
    first_agent, second_agent = await make_user(session), await make_user(session)
    call_1 = await create_call_attempt(session, campaign_id=c.id, mode="progressive", number="+5511987650001")
    call_2 = await create_call_attempt(session, campaign_id=c.id, mode="progressive", number="+5511987650002")
    key = unique("k-")
    mine, _ = await add_outcome(session, attempt_id=call_1.id, agent_id=first_agent.id, code="RECUSA", client_key=key)
    theirs, created = await add_outcome(
        session, attempt_id=call_2.id, agent_id=second_agent.id, code="PROMESSA", client_key=key
    )
    assert created and theirs.id != mine.id and theirs.attempt_id == call_2.id
    assert (await get_outcome_by_key(session, key, agent_id=second_agent.id)) is theirs
    assert (await get_outcome_by_key(session, key, agent_id=first_agent.id)) is mine
    assert (await get_outcome_by_key(session, key, agent_id=None)) is None
    # without an agent: the oldest one with the key (the runtime then checks whose it is)
    assert (await get_outcome_by_key(session, key)) is mine
    again, created_again = await add_outcome(
        session, attempt_id=call_2.id, agent_id=second_agent.id, code="PROMESSA", client_key=key
    )
    assert not created_again and again is theirs
