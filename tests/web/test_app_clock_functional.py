"""One clock per app: what the hubs, the approvals, the sessions and the pacing API show comes
from the clock given to ``create_app``, never from the machine's.

The ``app`` fixture runs on a hand-driven clock set to 2026-03-02 12:00 UTC, far from the day
these tests run, so a figure read from the real clock shows up as a difference.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select, update

from dialer.clocks import system_clock
from dialer.negotiation.approvals import DEFAULT_TTL, ApprovalBroker
from storage.engine import create_engine, session_factory
from storage.models import User, WebSession
from tests.dialer.negotiation_support import TODAY, World, seed
from tests.web.conftest import Clock, log_in
from tests.web.test_supervisor_console_functional import open_console
from web.app import create_app
from web.config import Config
from web.keys import AUTH, CLOCK
from web.supervisor_console.http import APPROVALS

GUARD_S = 10.0  # a wait that reaches it fails the test; it is not a measurement


def test_every_app_carries_its_clock(config: Config, clock: Clock) -> None:
    given = create_app(config, clock=clock)
    assert given[CLOCK] is clock and given[AUTH].clock is clock
    default = create_app(config)
    assert default[CLOCK] is system_clock and default[AUTH].clock is system_clock


async def test_a_session_expires_on_the_apps_clock(client: Any, db_url: str, clock: Clock) -> None:
    resp = await log_in(client, "sofia")
    assert resp.status == 303
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as db:
            stored = (await db.execute(select(WebSession.created_at, WebSession.expires_at))).one()
    finally:
        await engine.dispose()
    # the app fixture's sessions last 8 hours
    assert tuple(stored) == (clock.now, clock.now + timedelta(hours=8))


async def test_the_agent_hello_carries_the_apps_time(served: str, clock: Clock) -> None:
    async with aiohttp.ClientSession(base_url=served, cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        page = await http.get("/login")
        token = (await page.text()).split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        resp = await http.post("/login", data={"login": "ana", "password": "senha-forte-1", "csrf_token": token},
                               allow_redirects=False)
        assert resp.status == 303
        async with http.ws_connect("/ws/agente", origin=served) as ws:
            await ws.send_str(json.dumps({"type": "hello"}))
            hello = json.loads((await asyncio.wait_for(ws.receive(), GUARD_S)).data)
    assert hello["type"] == "hello"
    assert datetime.fromisoformat(hello["server_time"]) == clock.now


@pytest.fixture
async def world(app: web.Application, db_url: str) -> AsyncIterator[World]:
    engine = create_engine(db_url)
    try:
        sessions = session_factory(engine)
        w = await seed(sessions, supervisor_limits=())
        async with sessions() as db:
            await db.execute(update(User).where(User.login == "sofia").values(discount_limit_pct=Decimal("30")))
            await db.commit()
        yield w
    finally:
        await engine.dispose()


async def test_console_frames_and_approvals_are_dated_by_the_apps_clock(
    app: web.Application, served: str, world: World, clock: Clock
) -> None:
    sofia = await open_console(served, "sofia")
    try:
        hello = await sofia.frame("hello")
        assert datetime.fromisoformat(hello["server_time"]) == clock.now
        await sofia.frame("approvals")
        broker: ApprovalBroker = app[APPROVALS]
        pending = await broker.request_discount(
            agent_id=world.agent_id, customer_id=world.customer_id, campaign_id=world.campaign_id, call_id=None,
            discount_pct=Decimal("20"), today=TODAY,
        )
        opened = (await sofia.frame("approval_opened"))["request"]
    finally:
        await sofia.ws.close()
        await sofia.http.close()
    assert opened["id"] == pending.request_id
    created, expires = datetime.fromisoformat(opened["created_at"]), datetime.fromisoformat(opened["expires_at"])
    assert (created, expires) == (clock.now, clock.now + DEFAULT_TTL)
