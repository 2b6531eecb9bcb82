"""A fresh migrated database per régua test: a copy of one SQLite file migrated once per session,
or (``pg``) a new PostgreSQL database built by the migrations."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import migrate
from storage.engine import create_engine, session_factory
from tests.storage.conftest import fresh_pg_database, in_thread


@pytest.fixture(scope="session")
def regua_template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("regua") / "template.db"
    in_thread(migrate.upgrade, f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(regua_template_db: Path, tmp_path: Path) -> str:
    path = tmp_path / "cobra.db"
    shutil.copy(regua_template_db, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(params=[pytest.param("sqlite", id="sqlite"), pytest.param("pg", id="pg", marks=pytest.mark.postgres)])
def any_url(request: pytest.FixtureRequest, sqlite_url: str) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url
        return
    with fresh_pg_database() as url:
        in_thread(migrate.upgrade, url)
        yield url


@pytest.fixture
async def sessions(sqlite_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(sqlite_url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


@pytest.fixture
async def any_sessions(any_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(any_url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()
