"""Databases for the storage tests: real SQLite files and a real PostgreSQL.

Every test session gets its own PostgreSQL database (``cobra_t_<random>``, created from
the server named by ``COBRA_TEST_PG_URL`` and dropped at the end), so parallel runs never
see each other's rows. Schemas are always built by the migrations, never by create_all.
When PostgreSQL can't be reached its parameters skip with the reason (the root conftest
turns that skip into a failure under CI=true).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from storage import migrate
from storage.engine import create_engine, session_factory

PG_URL = os.environ.get("COBRA_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")

T = TypeVar("T")


def in_thread(fn: Callable[..., T], *args: Any) -> T:
    """Run blocking code (asyncio.run inside) off the test's thread, whose loop must stay untouched."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn, *args).result()


def _admin_dsn() -> str:
    return make_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(_admin_dsn(), timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


_pg_problem: list[str | None] = []


def pg_unreachable() -> str | None:
    """Why PostgreSQL can't be used, or None if it can (asked once per session)."""
    if not _pg_problem:
        try:
            in_thread(asyncio.run, _admin("SELECT 1"))
            _pg_problem.append(None)
        except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
            _pg_problem.append(f"PostgreSQL at {make_url(PG_URL).render_as_string()} unreachable: {exc!r}")
    return _pg_problem[0]


@contextmanager
def fresh_pg_database() -> Iterator[str]:
    """A new, empty PostgreSQL database for the block; dropped afterwards."""
    problem = pg_unreachable()
    if problem:
        pytest.skip(problem)
    name = f"cobra_t_{uuid.uuid4().hex[:12]}"
    in_thread(asyncio.run, _admin(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        in_thread(asyncio.run, _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def migrated_sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'cobra.db'}"
    in_thread(migrate.upgrade, url)
    return url


@pytest.fixture(scope="session")
def migrated_pg_url() -> Iterator[str]:
    with fresh_pg_database() as url:
        in_thread(migrate.upgrade, url)
        yield url


BACKENDS = [pytest.param("sqlite", id="sqlite"), pytest.param("postgresql", id="pg", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest) -> str:
    """A migrated database shared by the session (tests keep their rows apart with ``unique()``)."""
    name = "migrated_sqlite_url" if request.param == "sqlite" else "migrated_pg_url"
    url: str = request.getfixturevalue(name)
    return url


@pytest.fixture(params=BACKENDS)
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database nobody has migrated yet, new for this test."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    else:
        with fresh_pg_database() as url:
            yield url


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(db_url)
    try:
        yield eng
    finally:
        await eng.dispose()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with session_factory(engine)() as s:
        yield s



@pytest.fixture
async def sqlite_engine(migrated_sqlite_url: str) -> AsyncIterator[AsyncEngine]:
    """For the few tests about SQLite itself (storage format, query plans)."""
    eng = create_engine(migrated_sqlite_url)
    try:
        yield eng
    finally:
        await eng.dispose()
