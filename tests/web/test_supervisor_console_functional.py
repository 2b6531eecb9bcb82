"""The supervisor console over a real server: two supervisors' websockets see a request live; one decides."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import update

from dialer.negotiation.approvals import ApprovalBroker, ApprovalResult
from storage.engine import create_engine, session_factory
from storage.models import Role, User
from tests.dialer.negotiation_support import TODAY, World, seed
from tests.web.conftest import PASSWORD, UserSpec, add_users
from web.supervisor_console.http import APPROVALS, parse_message

GUARD_S = 10.0  # a wait that reaches it fails the test; it is not a measurement
_TOKEN = re.compile(r'name="csrf_token" value="([^"]*)"')


@dataclass
class Console:
    http: aiohttp.ClientSession
    ws: aiohttp.ClientWebSocketResponse

    async def frame(self, *types: str) -> dict[str, Any]:
        """The next frame of one of ``types`` (others are skipped)."""
        while True:
            msg = await asyncio.wait_for(self.ws.receive_json(), GUARD_S)
            if msg["type"] in types:
                return msg  # type: ignore[no-any-return]


async def open_console(base: str, login: str, last: tuple[int, str] | None = None) -> Console:
    http = aiohttp.ClientSession(base_url=base, cookie_jar=aiohttp.CookieJar(unsafe=True))
    page = await http.get("/login")
    found = _TOKEN.search(await page.text())
    assert found
    resp = await http.post("/login", data={"login": login, "password": PASSWORD, "csrf_token": found.group(1)},
                           allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/supervisor"
    ws = await http.ws_connect("/ws/supervisor", headers={"Origin": base})
    hello: dict[str, Any] = {"type": "hello", "last_seq": None, "epoch": None}
    if last is not None:
        hello.update(last_seq=last[0], epoch=last[1])
    await ws.send_json(hello)
    return Console(http, ws)


@pytest.fixture
async def world(app: web.Application, db_url: str) -> AsyncIterator[World]:
    await add_users(db_url, [UserSpec("rui", Role.SUPERVISOR, "Rui Costa")])
    engine = create_engine(db_url)
    try:
        sessions = session_factory(engine)
        w = await seed(sessions, supervisor_limits=())
        async with sessions() as db:
            await db.execute(update(User).where(User.login.in_(["sofia", "rui"])).values(discount_limit_pct=Decimal("30")))
            await db.commit()
        yield w
    finally:
        await engine.dispose()


@pytest.fixture
async def consoles(served: str, world: World) -> AsyncIterator[tuple[Console, Console]]:
    sofia = await open_console(served, "sofia")
    rui = await open_console(served, "rui")
    try:
        yield sofia, rui
    finally:
        for c in (sofia, rui):
            await c.ws.close()
            await c.http.close()


async def test_two_supervisors_see_it_live_one_approves_the_agent_hears(
    app: web.Application, world: World, consoles: tuple[Console, Console]
) -> None:
    sofia, rui = consoles
    for c in consoles:
        hello = await c.frame("hello")
        snapshot = await c.frame("approvals")
        assert hello["seq"] == 0 and snapshot["requests"] == []
    broker: ApprovalBroker = app[APPROVALS]
    heard: asyncio.Future[ApprovalResult] = asyncio.get_running_loop().create_future()
    pending = await broker.request_discount(agent_id=world.agent_id, customer_id=world.customer_id,
                                            campaign_id=world.campaign_id, call_id=None, discount_pct=Decimal("20"),
                                            today=TODAY, on_result=heard.set_result)
    assert pending.status == "pending"
    seen = [await c.frame("approval_opened") for c in consoles]
    for frame in seen:
        r = frame["request"]
        assert (r["id"], r["agent_name"], r["customer_first_name"]) == (pending.request_id, "Ana Souza", "Maria")
        assert (r["requested_text"], r["agent_limit_text"], r["supervisor_limit_text"]) == ("20,00%", "10,00%", "30,00%")
        assert r["offer"]["kind"] == "a_vista" and r["offer"]["text"].startswith("À vista: R$ ")
        assert "cpf" not in str(r).lower()

    await sofia.ws.send_json({"type": "decide", "ref": "r1", "request_id": pending.request_id, "decision": "approve"})
    ack = await sofia.frame("ack", "error")
    assert ack == {**ack, "type": "ack", "ref": "r1", "of": "decide"} and ack["detail"]["status"] == "approved"
    resolved = await rui.frame("approval_resolved")
    assert resolved["request"]["status"] == "approved" and resolved["request"]["decided_by_name"] == "Sofia Lima"
    result = await asyncio.wait_for(heard, GUARD_S)
    assert result.status == "approved" and result.allowed and "Sofia Lima aprovou" in result.message

    # the other supervisor is too late
    await rui.ws.send_json({"type": "decide", "ref": "r9", "request_id": pending.request_id, "decision": "refuse"})
    late = await rui.frame("error")
    assert (late["code"], late["ref"], late["message"]) == ("already_decided", "r9", "este pedido já foi aprovado")


async def test_a_reconnecting_console_gets_what_it_missed(app: web.Application, served: str, world: World) -> None:
    sofia = await open_console(served, "sofia")
    try:
        hello = await sofia.frame("hello")
        snapshot = await sofia.frame("approvals")
        await sofia.ws.close()
        broker: ApprovalBroker = app[APPROVALS]
        pending = await broker.request_discount(agent_id=world.agent_id, customer_id=world.customer_id,
                                                campaign_id=world.campaign_id, call_id=None, discount_pct=Decimal("25"),
                                                today=TODAY)
        sofia.ws = await sofia.http.ws_connect("/ws/supervisor", headers={"Origin": served})
        await sofia.ws.send_json({"type": "hello", "last_seq": snapshot["seq"], "epoch": hello["epoch"]})
        again = await sofia.frame("hello")
        replayed = await sofia.frame("approval_opened", "approvals")
        assert again["resumed"] is True
        assert replayed["type"] == "approval_opened" and replayed["request"]["id"] == pending.request_id
        assert replayed["seq"] == snapshot["seq"] + 1
    finally:
        await sofia.ws.close()
        await sofia.http.close()


async def test_bad_messages_name_the_field(consoles: tuple[Console, Console]) -> None:
    sofia, _ = consoles
    await sofia.frame("approvals")
    await sofia.ws.send_json({"type": "decide", "ref": "x", "request_id": 1, "decision": "talvez"})
    err = await sofia.frame("error")
    assert (err["code"], err["field"], err["ref"]) == ("bad_message", "decision", "x")
    await sofia.ws.send_json({"type": "decide", "request_id": 999999, "decision": "approve"})
    unknown = await sofia.frame("error")
    assert (unknown["code"], unknown["field"]) == ("unknown_request", "request_id")


async def test_only_supervisors_open_the_console(client: Any) -> None:
    from tests.web.conftest import log_in

    await log_in(client, "ana")
    resp = await client.get("/supervisor", allow_redirects=False)
    assert resp.status == 403
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/ws/supervisor", headers={"Origin": f"http://{client.host}:{client.port}"})
    assert refused.value.status == 403


def test_parse_message_checks_each_field() -> None:
    assert parse_message('{"type":"hello","last_seq":3,"epoch":"ab"}').last_seq == 3  # type: ignore[union-attr]
    for text, field in [
        ("[1]", None),
        ('{"type":"hello","last_seq":"3"}', "last_seq"),
        ('{"type":"decide","request_id":true,"decision":"approve"}', "request_id"),
        ('{"type":"decide","request_id":1,"decision":"approve","reason":' + '"' + "x" * 501 + '"}', "reason"),
        ('{"type":"dance"}', "type"),
    ]:
        with pytest.raises(Exception) as err:
            parse_message(text)
        assert getattr(err.value, "field", "missing") == field, text
