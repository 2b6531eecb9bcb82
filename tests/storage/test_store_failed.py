"""``store_failed`` keeps the Q.850 cause of a failed originate (``CallFailed.cause``)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.calls.services import AttemptRef, store_failed
from storage.models import CallAttempt, CallResult
from storage.repositories.call_attempts import create_call_attempt
from tests.storage.factories import make_campaign

AT = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)


@pytest.mark.parametrize(("result", "cause"), [("no_answer", 19), ("failed", 1), ("failed", None)])
async def test_store_failed_keeps_the_cause(session: AsyncSession, result: str, cause: int | None) -> None:
    campaign = await make_campaign(session)
    attempt = await create_call_attempt(session, campaign_id=campaign.id, mode="progressive", number="+5511999990003")
    ref = AttemptRef(attempt.id, lead_id=None, customer_id=None, phone_id=None, campaign_id=campaign.id)
    await store_failed(session, ref, result=result, originate_reason=0, at=AT, cause=cause)
    stored = await session.get(CallAttempt, attempt.id)
    assert stored is not None
    assert (stored.result, stored.originate_reason, stored.hangup_cause) == (CallResult(result), 0, cause)
