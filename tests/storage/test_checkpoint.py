"""The background WAL checkpointer on a real SQLite file, and the engine's autocheckpoint setting."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.checkpoint import AUTOCHECKPOINT_PAGES, WalCheckpointer
from storage.engine import create_engine, sqlite_file


def _wal_frames(path: Path) -> int:
    """Frames in the WAL file (its size past the 32-byte header, in page-sized frames with 24-byte headers)."""
    wal = path.with_name(path.name + "-wal")
    if not wal.exists() or wal.stat().st_size <= 32:
        return 0
    return (wal.stat().st_size - 32) // (4096 + 24)


async def test_engine_connections_leave_checkpoints_to_the_checkpointer(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
    try:
        async with engine.connect() as conn:
            pages = (await conn.execute(text("PRAGMA wal_autocheckpoint"))).scalar()
        assert pages == AUTOCHECKPOINT_PAGES
        assert sqlite_file(engine) == tmp_path / "c.db"
    finally:
        await engine.dispose()
    memory = create_engine("sqlite+aiosqlite://")
    try:
        assert sqlite_file(memory) is None
    finally:
        await memory.dispose()


async def test_commits_past_the_default_threshold_are_checkpointed_in_the_background(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    checkpointer = WalCheckpointer(path, interval_s=0.05)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)"))
        # ~1,500 pages: past SQLite's default autocheckpoint (1,000), which would have rewound the log
        for _ in range(15):
            async with engine.begin() as conn:
                await conn.execute(
                    text("INSERT INTO t (body) VALUES (:body)"), [{"body": "x" * 4000} for _ in range(100)]
                )
        assert _wal_frames(path) > 1000  # the commits did not checkpoint

        checkpointer.start()
        for _ in range(400):  # polls the outcome, not the time it takes
            if checkpointer.last is not None and checkpointer.last.log_frames > 0:
                break
            await asyncio.sleep(0.05)
        last = checkpointer.last
        assert last is not None and not last.busy
        assert last.checkpointed_frames == last.log_frames > 1000
        # the next writer starts the log over: it holds that commit's frames only
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t (body) VALUES ('y')"))
        assert (await checkpointer.checkpoint_now()).log_frames < 10
    finally:
        await checkpointer.stop()
        await engine.dispose()
    assert not checkpointer.running
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM t").fetchone() == (1501,)


async def test_a_checkpointer_on_a_missing_file_creates_nothing(tmp_path: Path) -> None:
    checkpointer = WalCheckpointer(tmp_path / "none.db", interval_s=0.05)
    checkpointer.start()
    try:
        result = await checkpointer.checkpoint_now()
    finally:
        await checkpointer.stop()
    assert result.log_frames == -1
    assert not (tmp_path / "none.db").exists()


def test_intervals_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        WalCheckpointer("x.db", interval_s=0)
