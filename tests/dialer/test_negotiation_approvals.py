"""The approval broker: granted at once, refused at once, or pending until the first supervisor decides."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialer.negotiation.approvals import ApprovalBroker, ApprovalResult, ApprovalView
from dialer.negotiation.errors import AlreadyDecided, NegotiationError, NotAllowed
from storage.models import ApprovalRequest, ApprovalStatus
from storage.repositories import audit
from tests.dialer.negotiation_support import NOW, TODAY, add_call, seed, sessions

__all__ = ["sessions"]

GUARD_S = 10.0  # a wait that reaches it fails the test; it is not a measurement


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


class Listener:
    def __init__(self) -> None:
        self.opened: list[ApprovalView] = []
        self.resolved: list[ApprovalView] = []

    def approval_opened(self, view: ApprovalView) -> None:
        self.opened.append(view)

    def approval_resolved(self, view: ApprovalView) -> None:
        self.resolved.append(view)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def broker(sessions: async_sessionmaker[AsyncSession], clock: Clock) -> AsyncIterator[ApprovalBroker]:
    b = ApprovalBroker(sessions, clock=clock)
    await b.start()
    try:
        yield b
    finally:
        await b.close()


def collect() -> tuple[list[ApprovalResult], Callable[[ApprovalResult], None]]:
    got: list[ApprovalResult] = []
    return got, got.append


async def _actions(sessions: async_sessionmaker[AsyncSession], request_id: int) -> list[tuple[str, int | None]]:
    async with sessions() as db:
        return [(e.action, e.user_id) for e in await audit.entries_for(db, "approval_request", request_id, oldest_first=True)]


async def test_within_the_agents_limit_is_granted_at_once(sessions: async_sessionmaker[AsyncSession], broker: ApprovalBroker) -> None:
    w = await seed(sessions)
    call = await add_call(sessions, w)
    listener = Listener()
    broker.subscribe(listener)
    got, cb = collect()
    result = await broker.request_discount(agent_id=w.agent_id, customer_id=w.customer_id, campaign_id=w.campaign_id,
                                           call_id=call, discount_pct=Decimal("8"), today=TODAY, on_result=cb)
    assert result.status == "granted" and result.allowed and got == [result]
    assert listener.opened == [] and broker.pending() == []
    assert await _actions(sessions, result.request_id) == [("discount_granted", w.agent_id)]


async def test_above_the_supervisor_limit_is_refused_at_once(sessions: async_sessionmaker[AsyncSession], broker: ApprovalBroker) -> None:
    w = await seed(sessions, supervisor_limits=("30",))
    got, cb = collect()
    result = await broker.request_discount(agent_id=w.agent_id, customer_id=w.customer_id, campaign_id=w.campaign_id,
                                           call_id=None, discount_pct=Decimal("31"), today=TODAY, on_result=cb)
    assert result.status == "refused" and not result.allowed and got == [result]
    assert "30,00%" in result.message
    async with sessions() as db:
        row = await db.get(ApprovalRequest, result.request_id)
        assert row is not None and row.status is ApprovalStatus.REFUSED
    assert await _actions(sessions, result.request_id) == [("discount_refused_above_limit", w.agent_id)]


async def test_between_limits_waits_for_the_first_supervisor(sessions: async_sessionmaker[AsyncSession], broker: ApprovalBroker) -> None:
    w = await seed(sessions, supervisor_limits=("30", "30"))
    call = await add_call(sessions, w)
    listener = Listener()
    broker.subscribe(listener)
    got, cb = collect()
    result = await broker.request_discount(agent_id=w.agent_id, customer_id=w.customer_id, campaign_id=w.campaign_id,
                                           call_id=call, discount_pct=Decimal("20"), today=TODAY, on_result=cb)
    assert result.status == "pending" and got == []
    [opened] = listener.opened
    assert (opened.agent_name, opened.customer_first_name, opened.requested_pct) == ("Ana Souza", "Maria", Decimal("20"))
    assert (opened.agent_limit_pct, opened.supervisor_limit_pct) == (Decimal("10"), Decimal("30"))
    assert opened.offer["kind"] == "a_vista" and "À vista" in opened.offer["text"]
    assert [v.id for v in broker.pending()] == [result.request_id]

    # a second request from the same agent while one waits is refused with a reason
    with pytest.raises(NegotiationError, match="aguardando"):
        await broker.request_discount(agent_id=w.agent_id, customer_id=w.customer_id, campaign_id=w.campaign_id,
                                      call_id=call, discount_pct=Decimal("15"), today=TODAY)

    first, second = w.supervisor_ids
    both = await asyncio.gather(
        broker.decide(result.request_id, supervisor_id=first, approve=True),
        broker.decide(result.request_id, supervisor_id=second, approve=False, reason="alto demais"),
        return_exceptions=True,
    )
    wins = [r for r in both if isinstance(r, ApprovalView)]
    losses = [r for r in both if isinstance(r, AlreadyDecided)]
    assert len(wins) == 1 and len(losses) == 1, both
    [final] = got
    assert final.status == wins[0].status and final.request_id == result.request_id and final.call_id == call
    assert listener.resolved == wins and broker.pending() == []
    actions = await _actions(sessions, result.request_id)
    assert actions[0] == ("discount_requested", w.agent_id) and len(actions) == 2
    assert actions[1][0] in ("discount_approved", "discount_refused")
    with pytest.raises(AlreadyDecided):
        await broker.decide(result.request_id, supervisor_id=first, approve=True)


async def test_a_supervisor_cannot_approve_beyond_their_own_limit(sessions: async_sessionmaker[AsyncSession], broker: ApprovalBroker) -> None:
    w = await seed(sessions, supervisor_limits=("15", "30"))
    result = await broker.request_discount(agent_id=w.agent_id, customer_id=w.customer_id, campaign_id=w.campaign_id,
                                           call_id=None, discount_pct=Decimal("20"), today=TODAY)
    low, high = w.supervisor_ids
    with pytest.raises(NotAllowed, match="passa do seu limite"):
        await broker.decide(result.request_id, supervisor_id=low, approve=True)
    with pytest.raises(NotAllowed, match="só supervisores"):
        await broker.decide(result.request_id, supervisor_id=w.agent_id, approve=True)
    view = await broker.decide(result.request_id, supervisor_id=low, approve=False)
    assert view.status == "refused" and view.decided_by_name == "Sofia 0"
    with pytest.raises(AlreadyDecided, match="recusado"):
        await broker.decide(result.request_id, supervisor_id=high, approve=True)


async def test_unanswered_requests_expire(sessions: async_sessionmaker[AsyncSession], broker: ApprovalBroker, clock: Clock) -> None:
    w = await seed(sessions)
    listener = Listener()
    broker.subscribe(listener)
    got, cb = collect()
    result = await broker.request_discount(agent_id=w.agent_id, customer_id=w.customer_id, campaign_id=w.campaign_id,
                                           call_id=None, discount_pct=Decimal("25"), today=TODAY, on_result=cb)
    assert await broker.expire_due() == []
    clock.now += timedelta(minutes=2)
    assert await broker.expire_due() == [result.request_id]
    assert [r.status for r in got] == ["expired"] and [v.status for v in listener.resolved] == ["expired"]
    assert await _actions(sessions, result.request_id) == [("discount_requested", w.agent_id), ("discount_expired", None)]


async def test_the_brokers_timer_expires_a_request_by_itself(sessions: async_sessionmaker[AsyncSession]) -> None:
    w = await seed(sessions)
    broker = ApprovalBroker(sessions, ttl=timedelta(milliseconds=50))
    done: asyncio.Future[ApprovalResult] = asyncio.get_running_loop().create_future()
    try:
        await broker.request_discount(agent_id=w.agent_id, customer_id=w.customer_id, campaign_id=w.campaign_id,
                                      call_id=None, discount_pct=Decimal("25"), today=TODAY, on_result=done.set_result)
        result = await asyncio.wait_for(done, GUARD_S)
    finally:
        await broker.close()
    assert result.status == "expired" and not result.allowed


async def test_start_expires_what_a_previous_run_left_pending(sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
    w = await seed(sessions)
    old = ApprovalBroker(sessions, clock=clock)
    result = await old.request_discount(agent_id=w.agent_id, customer_id=w.customer_id, campaign_id=w.campaign_id,
                                        call_id=None, discount_pct=Decimal("25"), today=TODAY)
    await old.close()  # the process stops; the request stays pending in the database
    clock.now += timedelta(minutes=5)
    new = ApprovalBroker(sessions, clock=clock)
    await new.start()
    try:
        assert new.pending() == []
    finally:
        await new.close()
    async with sessions() as db:
        status = (await db.execute(select(ApprovalRequest.status).where(ApprovalRequest.id == result.request_id))).scalar()
    assert status is ApprovalStatus.EXPIRED
