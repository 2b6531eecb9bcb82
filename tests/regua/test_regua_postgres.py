"""The same guarantees on both databases: decisions once per key (also under two concurrent
runs), the outbox claimed by one sender at a time, leases taken over after a crash."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialer.regua.services import ReguaSettings, run_day
from storage.models import OutboxMessage, OutboxStatus, ReguaDecision
from storage.repositories import outbox
from tests.regua.portfolio import at_brt, seed

SETTINGS = ReguaSettings(grace_days=3)


async def _count(sessions: async_sessionmaker[AsyncSession], model: type) -> int:
    async with sessions() as db:
        return int((await db.execute(select(func.count()).select_from(model))).scalar_one())


async def test_concurrent_runs_take_each_step_once(any_sessions: async_sessionmaker[AsyncSession]) -> None:
    await seed(any_sessions)
    day = date(2026, 3, 16)
    reports = await asyncio.gather(*(run_day(any_sessions, day, SETTINGS, now=at_brt(day)) for _ in range(3)))
    decided = sum(r.decided for r in reports)
    assert decided == 5 and await _count(any_sessions, ReguaDecision) == 6  # 5 steps + Eva's broken promise
    assert await _count(any_sessions, OutboxMessage) == 3  # Ana's SMS, Carla's e-mail, Davi's WhatsApp
    again = await run_day(any_sessions, day, SETTINGS, now=at_brt(day, 15))
    assert (again.decided, again.broken) == (0, 0)


async def test_two_senders_never_hold_the_same_message(any_sessions: async_sessionmaker[AsyncSession]) -> None:
    await seed(any_sessions)
    day = date(2026, 3, 16)
    await run_day(any_sessions, day, SETTINGS, now=at_brt(day))
    now = at_brt(day, 11)

    async def claim(owner: str) -> list[int]:
        async with any_sessions.begin() as db:
            got = await outbox.claim_due(db, now=now, owner=owner, lease=timedelta(minutes=2), limit=10,
                                         channels=["email", "sms", "whatsapp"])
            return [m.id for m in got]

    claims = await asyncio.gather(*(claim(f"s{n}") for n in range(4)))
    ids = [i for c in claims for i in c]
    assert len(ids) == len(set(ids)) == 3
    # the lease expires: one other sender takes each message over; the old owner can't mark it any more
    later = now + timedelta(minutes=3)
    async with any_sessions.begin() as db:
        taken = await outbox.claim_due(db, now=later, owner="new", lease=timedelta(minutes=2), limit=10,
                                       channels=["email", "sms", "whatsapp"])
    assert sorted(m.id for m in taken) == sorted(ids) and all(m.attempts == 2 for m in taken)
    old_owner = next(f"s{n}" for n, c in enumerate(claims) if c)
    async with any_sessions.begin() as db:
        assert not await outbox.mark_sent(db, ids[0], old_owner, at=later)
        assert await outbox.mark_sent(db, taken[0].id, "new", at=later)
    async with any_sessions() as db:
        statuses = sorted(m.status.value for m in (await db.execute(select(OutboxMessage))).scalars())
    assert statuses == [OutboxStatus.SENDING.value] * 2 + [OutboxStatus.SENT.value]
