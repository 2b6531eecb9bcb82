"""The dialer's writer against a real SQLite file held locked by another connection: a write waits, never dropped."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from dialer.writer import DbWriter
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
