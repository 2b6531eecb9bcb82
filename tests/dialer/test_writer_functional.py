"""The dialer's writer against a real SQLite file held locked by another connection: a write waits, never dropped."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from dialer.writer import DbWriter, Job
from storage.engine import create_engine, session_factory
from storage.models import AuditLog
from storage.repositories import audit
from tests.dialer.runtime_support import migrated_copy
from tests.support.sqlite_lock import HeldWriteLock


@pytest.mark.timeout(120)
async def test_a_queued_write_outlives_a_lock_longer_than_the_busy_timeout(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # the security probe's finding: during a 20 s SQLite lock a call-end write was dropped for good
    url = migrated_copy(tmp_path / "cobra.db", tmp_path_factory.getbasetemp())
    engine = create_engine(url, busy_timeout_s=0.2)  # the lock outlasts SQLite's own wait many times
    writer = DbWriter(session_factory(engine), job_timeout_s=10.0)
    writer.start()
    with HeldWriteLock(tmp_path / "cobra.db") as lock:
        writer.later(lambda db: audit.record(db, user_id=None, action="probe", entity="test", entity_id="1", after={}))
        for _ in range(200):  # a guard, not a measurement
            if writer.retries >= 2:  # it met the lock and is waiting it out
                break
            await asyncio.sleep(0.05)
        assert writer.retries >= 2
        lock.release()
        await asyncio.wait_for(writer.stop(10.0), 15.0)
    async with session_factory(engine)() as s:
        rows = (await s.execute(select(AuditLog).where(AuditLog.action == "probe"))).scalars().all()
    await engine.dispose()
    assert len(rows) == 1


def _probe(n: int) -> Job:
    return lambda db: audit.record(db, user_id=None, action="probe", entity="test", entity_id=str(n), after={})


async def _probes(engine: AsyncEngine) -> list[str]:
    async with session_factory(engine)() as s:
        rows = (await s.execute(select(AuditLog).where(AuditLog.action == "probe").order_by(AuditLog.id))).scalars()
        return [str(r.entity_id) for r in rows]


async def test_writes_queued_back_to_back_share_one_transaction_and_an_awaited_job_sees_them(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    url = migrated_copy(tmp_path / "cobra.db", tmp_path_factory.getbasetemp())
    engine = create_engine(url)
    writer = DbWriter(session_factory(engine))
    for n in range(5):  # queued before the writer runs: it finds them all waiting
        writer.later(_probe(n))

    async def count(db: AsyncSession) -> int:
        return len((await db.execute(select(AuditLog).where(AuditLog.action == "probe"))).scalars().all())

    writer.start()
    seen = await writer.run(count)  # queued after the five: they are committed before it runs
    writer.later(_probe(5))
    await writer.stop(10.0)
    assert seen == 5
    assert writer.batches == 1  # the five in one transaction; the sixth alone
    assert await _probes(engine) == ["0", "1", "2", "3", "4", "5"]
    await engine.dispose()


async def test_a_failing_write_in_a_batch_loses_none_of_the_others(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, caplog: pytest.LogCaptureFixture
) -> None:
    url = migrated_copy(tmp_path / "cobra.db", tmp_path_factory.getbasetemp())
    engine = create_engine(url)
    writer = DbWriter(session_factory(engine))

    async def broken(db: AsyncSession) -> None:
        await _probe(99)(db)  # rolled back with its transaction
        raise ValueError("a bug in one store")

    writer.later(_probe(1))
    writer.later(broken)
    writer.later(_probe(2))
    writer.start()
    await writer.stop(10.0)
    assert await _probes(engine) == ["1", "2"]
    assert writer.batches == 0  # the batch was rolled back and its jobs written one by one
    assert "a bug in one store" in caplog.text
    await engine.dispose()
