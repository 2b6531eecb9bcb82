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

from dialer.agents.desktop import Disposition
from dialer.calls.refs import AttemptRef
from dialer.calls.services import store_disposition, store_new_attempt
from dialer.clocks import system_clock
from dialer.negotiation.approvals import DEFAULT_TTL, ApprovalBroker
from storage.engine import create_engine, session_factory
from storage.models import AuditLog, Callback, Outcome, User, WebSession
from tests.dialer.negotiation_support import TODAY, World, seed
from tests.dialer.runtime_support import add_agent, add_campaign, add_lead
from tests.web.conftest import Clock, log_in, session_csrf
from tests.web.test_supervisor_console_functional import open_console
from web.app import create_app
from web.config import Config
from web.keys import AUTH, CLOCK
from web.scripts.http import default_script_text
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


async def _audits(db_url: str, action: str) -> list[datetime]:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as db:
            return list(await db.scalars(select(AuditLog.at).where(AuditLog.action == action).order_by(AuditLog.id)))
    finally:
        await engine.dispose()


async def test_script_and_pacing_changes_are_audited_at_the_apps_time(client: Any, db_url: str, clock: Clock) -> None:
    assert (await log_in(client, "sofia")).status == 303
    csrf = {"X-CSRF-Token": await session_csrf(client)}
    engine = create_engine(db_url)
    try:
        async with session_factory(engine).begin() as db:
            campaign_id = (await add_campaign(db, running=False)).id
    finally:
        await engine.dispose()
    text = default_script_text().replace("id: padrao", "id: varejo", 1)
    published = await client.post("/api/v1/scripts/varejo/versions", json={"yaml": text}, headers=csrf)
    assert published.status == 201, await published.text()
    assigned = await client.put(f"/api/v1/campaigns/{campaign_id}/script", json={"key": "varejo"}, headers=csrf)
    assert assigned.status == 200, await assigned.text()
    paced = await client.put(f"/api/v1/campaigns/{campaign_id}/pacing", json={"max_dial_level": 2.5}, headers=csrf)
    assert paced.status == 200, await paced.text()
    # the app's clock is 2026-03-02 12:00: the machine's clock would show up as another time
    assert await _audits(db_url, "script.publish") == [clock.now]
    assert await _audits(db_url, "campaign.script") == [clock.now]
    assert await _audits(db_url, "campaign.pacing") == [clock.now]


async def test_an_outcome_and_its_callback_are_stamped_with_the_callers_time(db_url: str, clock: Clock) -> None:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine).begin() as db:
            campaign = await add_campaign(db)
            lead = await add_lead(db, campaign, "5511987650001")
            agent = await add_agent(db, "bia", "7009")
            ref = AttemptRef("a" * 32, lead.id, lead.customer_id, None, campaign.id)
            await store_new_attempt(db, ref, mode=campaign.mode, number="+5511987650001", caller_id=None,
                                    pbx_name=None, agent_id=agent.id, originated_at=clock.now, created_at=clock.now)
            stored = await store_disposition(
                db, ref, Disposition(ref.attempt_id, "RETORNAR", "k-1", callback_at=clock.now + timedelta(days=1)),
                agent_id=agent.id, at=clock.now,
            )
        async with session_factory(engine)() as db:
            outcome = await db.get(Outcome, stored.outcome_id)
            callback = await db.get(Callback, stored.callback_id)
    finally:
        await engine.dispose()
    assert outcome is not None and outcome.created_at == clock.now
    assert callback is not None and callback.created_at == clock.now
