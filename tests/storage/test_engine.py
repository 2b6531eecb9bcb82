"""Engines and sessions: SQLite set-up on connect, in-memory sharing, transactions on both databases."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import StaticPool

from storage.engine import (
    SQLITE_BUSY_TIMEOUT_MS,
    create_engine,
    display_url,
    is_busy_error,
    read_session_factory,
    session_factory,
)
from storage.errors import UnsupportedDatabaseUrl
from storage.migrate import upgrade_engine
from storage.models import Campaign, CampaignMode
from tests.storage.factories import make_campaign, unique
from tests.support.sqlite_lock import HeldWriteLock


async def _pragma(engine: AsyncEngine, name: str) -> object:
    async with engine.connect() as conn:
        return (await conn.execute(text(f"PRAGMA {name}"))).scalar()


async def test_sqlite_file_gets_foreign_keys_wal_and_busy_timeout(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    try:
        assert await _pragma(engine, "foreign_keys") == 1
        assert await _pragma(engine, "journal_mode") == "wal"
        assert await _pragma(engine, "busy_timeout") == SQLITE_BUSY_TIMEOUT_MS
    finally:
        await engine.dispose()
    assert (tmp_path / "x.db").exists()


@pytest.mark.parametrize("url", ["sqlite+aiosqlite://", "sqlite+aiosqlite:///:memory:"])
async def test_in_memory_sqlite_is_one_shared_migratable_database(url: str) -> None:
    engine = create_engine(url)
    try:
        assert isinstance(engine.pool, StaticPool)
        assert await _pragma(engine, "foreign_keys") == 1
        assert await upgrade_engine(engine) is not None
        factory = session_factory(engine)
        async with factory() as one:
            await make_campaign(one, name="Carteira A")
            await one.commit()
        async with factory() as two:
            assert await two.scalar(select(Campaign.name)) == "Carteira A"
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    ("url", "named"),
    [("mysql+aiomysql://u@h/db", "'mysql+aiomysql'"), ("postgresql://u@h/db", "'postgresql'"),
     ("sqlite:///x.db", "'sqlite'"), ("no url at all", "'no url at all'")],
)
def test_unsupported_urls_are_refused_by_name(url: str, named: str) -> None:
    with pytest.raises(UnsupportedDatabaseUrl) as caught:
        create_engine(url)
    assert named in str(caught.value)


def test_display_url_hides_the_password() -> None:
    shown = display_url("postgresql+asyncpg://cobra:s3cr3t@db.example:5432/cobra")
    assert "s3cr3t" not in shown and "cobra:***@db.example" in shown


async def test_objects_stay_readable_after_commit(engine: AsyncEngine) -> None:
    async with session_factory(engine)() as session:
        campaign = await make_campaign(session, mode=CampaignMode.PREDICTIVE)
        await session.commit()
        # with expire_on_commit this attribute access would need a lazy reload: MissingGreenlet under asyncio
        assert campaign.mode is CampaignMode.PREDICTIVE and campaign.id > 0


async def test_rollback_and_savepoint_undo_exactly_their_part(engine: AsyncEngine) -> None:
    kept, undone, dropped = unique("kept "), unique("savepoint "), unique("rolled back ")
    factory = session_factory(engine)
    async with factory() as session:
        await make_campaign(session, name=kept)
        nested = await session.begin_nested()
        await make_campaign(session, name=undone)
        await nested.rollback()
        await session.commit()
        await make_campaign(session, name=dropped)
        await session.rollback()
    async with factory() as fresh:
        names = set(await fresh.scalars(select(Campaign.name).where(Campaign.name.in_([kept, undone, dropped]))))
    assert names == {kept}


async def _file_engine(tmp_path: Path, busy_timeout_s: float = 0.3) -> AsyncEngine:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'locked.db'}", busy_timeout_s=busy_timeout_s)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE held (n INTEGER)"))
        await conn.execute(text("CREATE TABLE kept (n INTEGER)"))
        await conn.execute(text("INSERT INTO kept (n) VALUES (7)"))
    return engine


async def test_reads_go_on_while_another_connection_holds_the_write_lock(tmp_path: Path) -> None:
    engine = await _file_engine(tmp_path)
    try:
        reads, writes = read_session_factory(engine), session_factory(engine)
        with HeldWriteLock(tmp_path / "locked.db", "INSERT INTO held (n) VALUES (1)"):
            for _ in range(20):  # more than the pool holds: every pooled connection reads deferred
                async with reads() as db:
                    assert await db.scalar(text("SELECT n FROM kept")) == 7
            # the write session takes the lock up front: it waits out the busy timeout, then says busy
            with pytest.raises(OperationalError) as caught:
                async with writes() as db:
                    await db.execute(text("SELECT n FROM kept"))
            assert is_busy_error(caught.value)
        async with writes() as db:  # lock gone: writes go through
            await db.execute(text("INSERT INTO kept (n) VALUES (8)"))
            await db.commit()
    finally:
        await engine.dispose()


async def test_a_write_through_a_read_session_fails_and_the_connection_writes_again_after(tmp_path: Path) -> None:
    engine = await _file_engine(tmp_path)
    try:
        async with read_session_factory(engine)() as db:
            with pytest.raises(OperationalError, match="readonly"):
                await db.execute(text("INSERT INTO kept (n) VALUES (9)"))
        # the same pooled connection, now for a write session: query_only is lifted
        async with session_factory(engine)() as db:
            await db.execute(text("INSERT INTO kept (n) VALUES (10)"))
            await db.commit()
        async with read_session_factory(engine)() as db:
            assert sorted(await db.scalars(text("SELECT n FROM kept"))) == [7, 10]
    finally:
        await engine.dispose()


async def test_busy_timeout_is_the_pragma_the_connect_timeout_and_half_the_pool_wait(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 't.db'}", busy_timeout_s=1.5)
    try:
        assert await _pragma(engine, "busy_timeout") == 1500
        assert engine.pool.timeout() == 3.0  # type: ignore[attr-defined]
    finally:
        await engine.dispose()
    with pytest.raises(ValueError, match="positive"):
        create_engine(f"sqlite+aiosqlite:///{tmp_path / 't.db'}", busy_timeout_s=0)


def test_busy_errors_are_recognised_and_others_are_not() -> None:
    assert is_busy_error(OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked")))
    assert is_busy_error(PoolTimeout("QueuePool limit reached"))
    assert not is_busy_error(OperationalError("x", {}, sqlite3.OperationalError("no such table: kept")))
    assert not is_busy_error(RuntimeError("database is locked"))


async def test_in_memory_read_sessions_share_the_one_database() -> None:
    engine = create_engine("sqlite+aiosqlite://")
    try:
        async with session_factory(engine)() as db:
            await db.execute(text("CREATE TABLE kept (n INTEGER)"))
            await db.execute(text("INSERT INTO kept (n) VALUES (3)"))
            await db.commit()
        async with read_session_factory(engine)() as db:
            assert await db.scalar(text("SELECT n FROM kept")) == 3
    finally:
        await engine.dispose()


async def test_a_hopper_pick_writes_on_a_pooled_connection_that_served_a_read(tmp_path: Path) -> None:
    # a read session leaves PRAGMA query_only=ON on its pooled connection; the pick takes that
    # connection without SQLAlchemy's BEGIN hook, so it must lift it itself ("attempt to write a
    # readonly database" at the first tick of `cobra demo`, a lead lost for that tick)
    from storage.engine import read_session_factory
    from storage.repositories.hopper import run_pick

    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'pick.db'}")
    try:
        async with engine.begin() as conn:
            await conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        async with read_session_factory(engine)() as db:
            assert (await db.execute(text("SELECT count(*) FROM t"))).scalar() == 0
        inserted = await run_pick(engine, lambda conn: conn.exec_driver_sql("INSERT INTO t VALUES (1)").rowcount)
        assert inserted == 1
        async with read_session_factory(engine)() as db:
            assert (await db.execute(text("SELECT count(*) FROM t"))).scalar() == 1
    finally:
        await engine.dispose()
