"""The dialer's writer against a real SQLite file held locked by another connection: a write waits, never dropped."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from dialer.writer import DbWriter
from storage.engine import create_engine, session_factory
from storage.models import AuditLog
from storage.repositories import audit
from tests.dialer.runtime_support import migrated_copy


@pytest.mark.timeout(120)
async def test_a_queued_write_outlives_a_lock_longer_than_the_busy_timeout(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the security probe's finding: during a 20 s SQLite lock a call-end write was dropped for good
    monkeypatch.setattr("storage.engine.SQLITE_BUSY_TIMEOUT_MS", 200)  # the lock outlasts SQLite's own wait
    url = migrated_copy(tmp_path / "cobra.db", tmp_path_factory.getbasetemp())
    engine = create_engine(url)
    writer = DbWriter(session_factory(engine), job_timeout_s=10.0)
    writer.start()
    locked, release = threading.Event(), threading.Event()

    def hold_lock() -> None:
        conn = sqlite3.connect(tmp_path / "cobra.db", isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        locked.set()
        release.wait(30)
        conn.execute("ROLLBACK")
        conn.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert await asyncio.to_thread(locked.wait, 10)
        writer.later(lambda db: audit.record(db, user_id=None, action="probe", entity="test", entity_id="1", after={}))
        for _ in range(200):  # a guard, not a measurement
            if writer.retries >= 2:  # it met the lock and is waiting it out
                break
            await asyncio.sleep(0.05)
        assert writer.retries >= 2
        release.set()
        await asyncio.wait_for(writer.stop(10.0), 15.0)
    finally:
        release.set()
        await asyncio.to_thread(holder.join, 10)
    async with session_factory(engine)() as s:
        rows = (await s.execute(select(AuditLog).where(AuditLog.action == "probe"))).scalars().all()
    await engine.dispose()
    assert len(rows) == 1
