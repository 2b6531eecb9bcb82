"""The session store on both databases: create, look up, expire, end."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import migrate
from storage.engine import create_engine, session_factory
from storage.models import Role, WebSession
from storage.repositories.users import get_user_by_login
from tests.storage.conftest import fresh_pg_database, in_thread
from tests.web.conftest import USERS, add_users
from web.auth.sessions import (
    create_session,
    end_session,
    end_user_sessions,
    load_session,
    new_token,
    purge_expired,
    token_hash,
)

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
TTL = timedelta(hours=8)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, db_url: str) -> Iterator[str]:
    if request.param == "sqlite":
        yield db_url
        return
    with fresh_pg_database() as url:
        in_thread(migrate.upgrade, url)
        yield url


@pytest.fixture
async def db(store_url: str) -> AsyncIterator[AsyncSession]:
    await add_users(store_url, USERS[:2])
    engine = create_engine(store_url)
    try:
        async with session_factory(engine)() as session:
            yield session
    finally:
        await engine.dispose()


async def _count(db: AsyncSession) -> int:
    return int(await db.scalar(select(func.count()).select_from(WebSession)) or 0)


async def test_a_session_is_found_by_its_token_until_it_expires(db: AsyncSession) -> None:
    ana = await get_user_by_login(db, "ana")
    assert ana is not None
    new = await create_session(db, ana, now=T0, ttl=TTL, ip="10.1.2.3", user_agent="pytest")
    await db.commit()
    row = await db.get(WebSession, token_hash(new.token))
    assert row is not None and row.expires_at == T0 + TTL and row.ip == "10.1.2.3"
    assert new.token not in (row.token_hash, row.csrf_token)  # only the hash is stored
    found = await load_session(db, new.token, now=T0 + TTL - timedelta(seconds=1))
    assert found is not None
    assert (found.login, found.role, found.extension, found.csrf_token) == ("ana", Role.AGENT, "7001", row.csrf_token)
    assert await load_session(db, new.token, now=T0 + TTL) is None
    assert await load_session(db, new.token + "x", now=T0) is None
    assert await load_session(db, "", now=T0) is None


async def test_disabled_user_sessions_stop_working(db: AsyncSession) -> None:
    ana = await get_user_by_login(db, "ana")
    assert ana is not None
    new = await create_session(db, ana, now=T0, ttl=TTL, ip=None, user_agent=None)
    ana.active = False
    await db.commit()
    assert await load_session(db, new.token, now=T0) is None


async def test_end_one_or_all_and_purge(db: AsyncSession) -> None:
    ana = await get_user_by_login(db, "ana")
    sofia = await get_user_by_login(db, "sofia")
    assert ana is not None and sofia is not None
    a1 = await create_session(db, ana, now=T0, ttl=TTL, ip=None, user_agent=None)
    await create_session(db, ana, now=T0, ttl=TTL, ip=None, user_agent=None)
    await create_session(db, sofia, now=T0 - TTL, ttl=TTL, ip=None, user_agent=None)  # already expired
    await db.commit()
    await end_session(db, a1.login.session_hash)
    assert await load_session(db, a1.token, now=T0) is None
    assert await _count(db) == 2
    assert await purge_expired(db, now=T0) == 1
    assert await end_user_sessions(db, ana.id) == 1
    await db.commit()
    assert await _count(db) == 0


def test_tokens_are_long_and_distinct() -> None:
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100 and min(len(t) for t in tokens) >= 43
