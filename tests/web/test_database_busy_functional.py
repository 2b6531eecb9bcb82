"""A writer holding SQLite's lock: reads (session lookups, GET routes, websocket handshakes) go on,
and a write that outwaits the busy timeout answers 503 ``database_busy`` with Retry-After, never 500.

The lock is held by another connection in its own thread (``BEGIN IMMEDIATE`` and a pending
insert), on the very file the real server serves from.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import TimeoutError as PoolTimeout

from storage.engine import create_engine, session_factory
from storage.models import Campaign, CampaignMode
from tests.support.sqlite_lock import HeldWriteLock
from tests.web.conftest import PASSWORD, form_token
from web.auth import middleware
from web.config import Config, DatabaseConfig, WebConfig

BUSY_TIMEOUT_S = 1.0
READS = 200
HANDSHAKES = 50


@pytest.fixture
def config(db_url: str) -> Config:
    # a short busy timeout, so the write below gives up quickly
    return Config(database=DatabaseConfig(url=db_url, busy_timeout_s=BUSY_TIMEOUT_S), web=WebConfig())


async def _campaign(db_url: str) -> int:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine).begin() as s:
            c = Campaign(name="Cartões", mode=CampaignMode.PROGRESSIVE, dial_template="PJSIP/{number}@trunk",
                         caller_id="0303", pbx_name="default")
            s.add(c)
            await s.flush()
            return c.id
    finally:
        await engine.dispose()


async def _logged_in(base: str, login: str) -> aiohttp.ClientSession:
    http = aiohttp.ClientSession(base, cookie_jar=aiohttp.CookieJar(unsafe=True))
    page = await http.get("/login")
    data = {"login": login, "password": PASSWORD, "csrf_token": form_token(await page.text())}
    resp = await http.post("/login", data=data, allow_redirects=False)
    assert resp.status == 303, await resp.text()
    return http


@pytest.fixture
async def agent(served: str) -> AsyncIterator[aiohttp.ClientSession]:
    http = await _logged_in(served, "ana")
    yield http
    await http.close()


@pytest.fixture
async def supervisor(served: str) -> AsyncIterator[aiohttp.ClientSession]:
    http = await _logged_in(served, "sofia")
    yield http
    await http.close()


async def _handshake(http: aiohttp.ClientSession, base: str) -> int:
    ws = await http.ws_connect("/ws/agente", origin=base)
    try:
        return 101
    finally:
        await ws.close()


async def test_reads_and_handshakes_go_on_during_a_lock_and_a_write_answers_503(
    served: str, db_url: str, agent: aiohttp.ClientSession, supervisor: aiohttp.ClientSession
) -> None:
    campaign_id = await _campaign(db_url)
    me = await agent.get("/api/v1/me")
    csrf = (await (await supervisor.get("/api/v1/me")).json())["csrf_token"]
    assert me.status == 200

    async def read(i: int) -> int:
        http, path = [(agent, "/api/v1/me"), (supervisor, "/api/v1/campaigns"), (agent, "/agente")][i % 3]
        async with http.get(path) as resp:
            await resp.read()
            return resp.status

    with HeldWriteLock(str(make_url(db_url).database), "UPDATE campaigns SET name = name"):
        statuses = await asyncio.gather(
            *(read(i) for i in range(READS)), *(_handshake(agent, served) for _ in range(HANDSHAKES))
        )
        write = await supervisor.post(f"/api/v1/campaigns/{campaign_id}/pause", headers={"X-CSRF-Token": csrf})
        body = await write.json()
    assert statuses == [200] * READS + [101] * HANDSHAKES
    assert write.status == 503
    assert write.headers["Retry-After"].isdigit() and int(write.headers["Retry-After"]) >= 1
    assert body["error"]["code"] == "database_busy" and body["error"]["field"] is None
    assert "ocupado" in body["error"]["message"]

    # the lock gone, the same write goes through
    again = await supervisor.post(f"/api/v1/campaigns/{campaign_id}/pause", headers={"X-CSRF-Token": csrf})
    assert again.status == 200, await again.text()


async def test_the_session_lookup_itself_answers_503_not_500_when_the_pool_is_exhausted(
    served: str, agent: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a lookup that meets the pool's timeout (every connection held by writers queued on the lock)
    async def pool_exhausted(*_a: object, **_kw: object) -> None:
        raise PoolTimeout("QueuePool limit of size 5 overflow 10 reached")

    monkeypatch.setattr(middleware, "load_session", pool_exhausted)
    resp = await agent.get("/api/v1/me")
    assert resp.status == 503 and resp.headers["Retry-After"]
    assert (await resp.json())["error"]["code"] == "database_busy"

