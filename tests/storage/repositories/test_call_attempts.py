"""Call-attempts repository on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from storage.engine import session_factory
from storage.errors import NotFound, UnknownField
from storage.models import CallResult, CampaignMode
from storage.repositories.call_attempts import create_call_attempt, get_call_attempt, update_call_attempt
from tests.storage.factories import make_campaign, make_customer, make_phone


async def test_create_update_get(engine: AsyncEngine, session: AsyncSession) -> None:
    campaign = await make_campaign(session)
    customer = await make_customer(session)
    phone = await make_phone(session, customer)
    attempt = await create_call_attempt(session, campaign_id=campaign.id, mode="progressive", number="5511987654321",
                                        customer_id=customer.id, phone_id=phone.id, caller_id="551130000000",
                                        pbx_name="sim")
    await session.commit()
    assert len(attempt.id) == 32 and attempt.result is None

    answered = datetime(2025, 6, 2, 9, 0, 8, tzinfo=timezone(timedelta(hours=-3)))
    async with session_factory(engine)() as s2:
        await update_call_attempt(s2, attempt.id, answered_at=answered, result=CallResult.ANSWERED, originate_reason=4,
                                  customer_channel="Local/5511987654321@cust-sim-00000001;1")
        await s2.commit()
    async with session_factory(engine)() as s3:
        got = await get_call_attempt(s3, attempt.id)
    assert got is not None
    assert (got.answered_at, got.result, got.originate_reason, got.mode) == (
        answered, CallResult.ANSWERED, 4, CampaignMode.PROGRESSIVE)
    assert got.customer_channel == "Local/5511987654321@cust-sim-00000001;1"
    assert (got.customer_id, got.phone_id, got.caller_id) == (customer.id, phone.id, "551130000000")


async def test_given_attempt_id_is_kept(session: AsyncSession) -> None:
    campaign = await make_campaign(session)
    attempt_id = "0123456789abcdef0123456789abcdef"
    await create_call_attempt(session, campaign_id=campaign.id, mode=CampaignMode.PREVIEW, number="5511",
                              attempt_id=attempt_id)
    got = await get_call_attempt(session, attempt_id)
    assert got is not None and got.mode is CampaignMode.PREVIEW


async def test_update_refuses_unknown_and_frozen_fields_and_writes_nothing(session: AsyncSession) -> None:
    campaign = await make_campaign(session)
    attempt = await create_call_attempt(session, campaign_id=campaign.id, mode="manual", number="5511")
    with pytest.raises(UnknownField, match="colour, id cannot be updated"):
        await update_call_attempt(session, attempt.id, colour="blue", id="x", result=CallResult.BUSY)
    assert attempt.result is None


async def test_update_of_a_missing_attempt_is_not_found(session: AsyncSession) -> None:
    with pytest.raises(NotFound, match=f"no call attempt with id '{'f' * 32}'"):
        await update_call_attempt(session, "f" * 32, result=CallResult.BUSY)
    assert await get_call_attempt(session, "f" * 32) is None
