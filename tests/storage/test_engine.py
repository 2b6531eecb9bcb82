"""Engines and sessions: SQLite set-up on connect, in-memory sharing, transactions on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import StaticPool

from storage.engine import SQLITE_BUSY_TIMEOUT_MS, create_engine, display_url, session_factory
from storage.errors import UnsupportedDatabaseUrl
from storage.migrate import upgrade_engine
from storage.models import Campaign, CampaignMode
from tests.storage.factories import make_campaign, unique


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
