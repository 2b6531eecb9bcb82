"""Open websockets end with their session (issue 14 item 1): real server, real websocket clients,
the real ``cobra user`` command (another "process" as far as the service knows: it only
changes the database) and the simulator over TCP for the agent desk."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from click.testing import CliRunner, Result
from sqlalchemy import select, update

from dialer.agents.state import AgentState
from dialer.negotiation.approvals import ApprovalBroker
from dialer.negotiation.errors import NotAllowed
from storage.engine import create_engine, session_factory
from storage.models import ApprovalRequest, ApprovalStatus, Outcome, Role, User
from tests.dialer.negotiation_support import TODAY, World, seed
from tests.dialer.runtime_support import add_campaign, add_lead, eventually
from tests.web.agent_rig import GUARD_S, DeskRig, WsAgent, desk_of, desk_rig
from tests.web.conftest import Clock, UserSpec, add_users
from tests.web.test_supervisor_console_functional import Console, open_console
from web.auth.revocation import (
    CLOSE_REVOKED,
    REASON_DISABLED,
    REASON_ENDED,
    REASON_EXPIRED,
    REASON_LOGOUT,
)
from web.cli.main import cli
from web.keys import SESSION_GUARD
from web.supervisor_console.http import APPROVALS


def _config_file(db_url: str, tmp_path: Path) -> str:
    path = tmp_path / "cobra.toml"
    path.write_text(f'[database]\nurl = "{db_url}"\n', encoding="utf-8")
    return str(path)


async def cobra(config: str, *args: str, stdin: str | None = None) -> Result:
    """``cobra ARGS --config FILE`` through the real entry point (in a thread: it runs its own event loop)."""
    result = await asyncio.to_thread(CliRunner().invoke, cli, [*args, "--config", config], input=stdin)
    assert result.exit_code == 0, result.output
    return result


async def _reason_of(agent: WsAgent) -> tuple[int | None, str]:
    """The close code and reason the agent's socket got (read by the client's reader task)."""
    assert agent.ws is not None and agent._reader is not None
    await asyncio.wait_for(agent._reader, GUARD_S)
    return agent.ws.close_code, agent.close_reason


# ---------------------------------------------------------------------------------------- agent desk


class ReasonAgent(WsAgent):
    """A ``WsAgent`` that also keeps the close frame's reason."""

    close_reason: str = ""

    async def _read(self) -> None:
        assert self.ws is not None
        while True:
            msg = await self.ws.receive()
            if msg.type is aiohttp.WSMsgType.TEXT:
                frame = json.loads(msg.data)
                if frame["seq"]:
                    self.last_seq = frame["seq"]
                self.frames.append(frame)
                continue
            if msg.type is aiohttp.WSMsgType.CLOSE:
                self.close_reason = msg.extra or ""
            if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED):
                await asyncio.sleep(0)
                if not self.ws.closed:
                    await self.ws.close()
                return
            if msg.type is aiohttp.WSMsgType.ERROR:
                return


@pytest.fixture
async def rig(db_url: str) -> AsyncIterator[DeskRig]:
    async with desk_rig(db_url) as r:
        yield r


@pytest.fixture
def config_file(db_url: str, tmp_path: Path) -> str:
    return _config_file(db_url, tmp_path)


async def _agent(rig: DeskRig, login: str = "ana") -> ReasonAgent:
    plain = await WsAgent.log_in(rig.url, login)
    agent = ReasonAgent(plain.url, plain.http)
    await agent.connect()
    await agent.wait_for(lambda f: f["type"] == "hello", "hello")
    return agent


async def _ready(agent: WsAgent) -> None:
    await agent.request({"type": "set_state", "state": "ready"})
    await agent.wait_for(lambda f: f["type"] == "agent_state" and f["state"] == "ready", "ready")


async def _lead(rig: DeskRig, number: str) -> None:
    async with rig.db.begin() as s:
        campaign = await add_campaign(s, running=False)
        await add_lead(s, campaign, number, name="Maria Conceição da Silva")
    await desk_of(rig.app).runtime.set_campaign_running(campaign.id, True)


async def test_cobra_user_disable_closes_the_agent_socket_and_takes_her_off_the_dialer(
    rig: DeskRig, config_file: str
) -> None:
    ana = await _agent(rig)
    try:
        await _ready(ana)
        assert rig.app[SESSION_GUARD].watched(rig.users["ana"]) == 1
        out = await cobra(config_file, "user", "disable", "ana")
        assert "1 open session(s) ended" in out.output
        assert await _reason_of(ana) == (CLOSE_REVOKED, REASON_DISABLED)
        runtime = desk_of(rig.app).runtime
        # off the dialer: a lead that comes in now is never connected to her
        await eventually(lambda: runtime.status(rig.users["ana"]).state is AgentState.OFFLINE, "ana offline")
        await _lead(rig, "5511987650031")
        # and she can't come back with that session
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await ana.http.ws_connect("/ws/agente", origin=rig.url)
        assert rig.app[SESSION_GUARD].watched(rig.users["ana"]) == 0
        assert not ana.of("screen_pop")
    finally:
        await ana.http.close()


async def test_a_disposition_sent_right_after_disable_is_not_stored(rig: DeskRig, config_file: str) -> None:
    ana = await _agent(rig)
    try:
        await _lead(rig, "5511987650032")
        await _ready(ana)
        pop = await ana.wait_for(lambda f: f["type"] == "screen_pop", "screen-pop")
        call_id = pop["call_id"]
        await ana.wait_for(lambda f: f["type"] == "call_state" and f["phase"] == "connected", "connected")
        await ana.request({"type": "hangup", "call_id": call_id})
        await ana.wait_for(lambda f: f["type"] == "agent_state" and f["state"] == "wrap_up", "wrap-up")
        await cobra(config_file, "user", "disable", "ana")
        # sent before the service's sweep could notice: the disposition re-reads the session first
        ref = await ana.send({"type": "dispose", "call_id": call_id, "code": "RECUSA", "client_key": "chave-dispose-1"})
        assert await _reason_of(ana) == (CLOSE_REVOKED, REASON_DISABLED)
        assert not [f for f in ana.frames if f.get("ref") == ref]
        async with rig.db() as s:
            assert (await s.scalars(select(Outcome))).all() == []
    finally:
        await ana.http.close()


async def test_cobra_user_passwd_closes_every_open_page_of_the_agent(rig: DeskRig, config_file: str) -> None:
    ana = await _agent(rig)
    second_tab = ReasonAgent(ana.url, ana.http)
    await second_tab.connect()
    try:
        await cobra(config_file, "user", "passwd", "ana", "--password-stdin", stdin="outra-senha-forte-2\n")
        assert await _reason_of(ana) == (CLOSE_REVOKED, REASON_ENDED)
        assert await _reason_of(second_tab) == (CLOSE_REVOKED, REASON_ENDED)
    finally:
        await ana.http.close()


async def test_a_role_or_phone_change_closes_the_users_socket(rig: DeskRig, config_file: str) -> None:
    bia = await _agent(rig, "bia")
    ana = await _agent(rig)
    try:
        out = await cobra(config_file, "user", "set", "bia", "--extension", "7009", "--endpoint", "Local/7009@agent-sim")
        assert "1 open session(s) ended" in out.output
        assert await _reason_of(bia) == (CLOSE_REVOKED, REASON_ENDED)
        await cobra(config_file, "user", "set", "ana", "--role", "qa", "--no-phone")
        assert await _reason_of(ana) == (CLOSE_REVOKED, REASON_ENDED)
    finally:
        await bia.http.close()
        await ana.http.close()


async def test_the_admin_page_ends_sessions_as_the_cli_does(rig: DeskRig, db_url: str) -> None:
    # the same services behind /api/v1/users (the admin page) and `cobra user`
    await add_users(db_url, [UserSpec("root", Role.ADMIN, "Admin TI")])
    admin = await WsAgent.log_in(rig.url, "root")
    ana = await _agent(rig)
    bia = await _agent(rig, "bia")
    try:
        csrf = {"X-CSRF-Token": (await (await admin.http.get("/api/v1/me")).json())["csrf_token"]}
        resp = await admin.http.patch(f"/api/v1/users/{rig.users['ana']}", json={"active": False}, headers=csrf)
        assert resp.status == 200 and (await resp.json())["sessions_ended"] == 1
        assert await _reason_of(ana) == (CLOSE_REVOKED, REASON_DISABLED)
        resp = await admin.http.patch(f"/api/v1/users/{rig.users['bia']}", headers=csrf,
                                      json={"extension": "7009", "endpoint": "Local/7009@agent-sim"})
        assert resp.status == 200
        assert await _reason_of(bia) == (CLOSE_REVOKED, REASON_ENDED)
    finally:
        await admin.http.close()
        await ana.http.close()
        await bia.http.close()


async def test_logout_over_http_closes_that_sessions_sockets_at_once(rig: DeskRig) -> None:
    ana = await _agent(rig)
    bia = await _agent(rig, "bia")
    try:
        me = await ana.http.get("/api/v1/me")
        token = (await me.json())["csrf_token"]
        out = await ana.http.post("/logout", headers={"X-CSRF-Token": token}, allow_redirects=False)
        assert out.status == 303
        assert await _reason_of(ana) == (CLOSE_REVOKED, REASON_LOGOUT)
        # someone else's socket is left alone
        await bia.request({"type": "set_state", "state": "ready"})
        assert bia.ws is not None and not bia.ws.closed
    finally:
        await ana.http.close()
        await bia.close()


# ---------------------------------------------------------------------------------------- supervisor


@pytest.fixture
async def world(app: web.Application, db_url: str) -> AsyncIterator[World]:
    await add_users(db_url, [UserSpec("rui", Role.SUPERVISOR, "Rui Costa")])
    engine = create_engine(db_url)
    try:
        sessions = session_factory(engine)
        w = await seed(sessions, supervisor_limits=())
        async with sessions() as db:
            await db.execute(update(User).where(User.login.in_(["sofia", "rui"])).values(discount_limit_pct=Decimal(30)))
            await db.commit()
        yield w
    finally:
        await engine.dispose()


async def _console_close(c: Console) -> tuple[int | None, str, list[dict[str, Any]]]:
    """Read until the server closes the console; the close code, reason and the frames read."""
    frames = []
    while True:
        msg = await asyncio.wait_for(c.ws.receive(), GUARD_S)
        if msg.type is aiohttp.WSMsgType.TEXT:
            frames.append(json.loads(msg.data))
            continue
        assert msg.type is aiohttp.WSMsgType.CLOSE, msg
        return msg.data, msg.extra or "", frames


async def test_a_disabled_supervisor_cannot_approve_a_discount(
    app: web.Application, served: str, world: World, db_url: str, tmp_path: Path
) -> None:
    sofia = await open_console(served, "sofia")
    try:
        await sofia.frame("approvals")
        broker: ApprovalBroker = app[APPROVALS]
        pending = await broker.request_discount(
            agent_id=world.agent_id, customer_id=world.customer_id, campaign_id=world.campaign_id,
            call_id=None, discount_pct=Decimal(12), today=TODAY,
        )
        assert pending.status == "pending"
        await sofia.frame("approval_opened")
        await cobra(_config_file(db_url, tmp_path), "user", "disable", "sofia")
        await sofia.ws.send_json({"type": "decide", "ref": "r1", "request_id": pending.request_id, "decision": "approve"})
        code, reason, frames = await _console_close(sofia)
        assert (code, reason) == (CLOSE_REVOKED, REASON_DISABLED)
        assert not [f for f in frames if f.get("ref") == "r1" and f["type"] == "ack"]
        # the broker itself refuses an inactive supervisor, whoever calls it
        users = {u.login: u.id for u in (await _users(app))}
        with pytest.raises(NotAllowed) as refused:
            await broker.decide(pending.request_id, supervisor_id=users["sofia"], approve=True)
        assert refused.value.code == "session_revoked"
        async with app[SESSION_GUARD].sessions() as db:
            row = await db.get(ApprovalRequest, pending.request_id)
            assert row is not None and row.status is ApprovalStatus.PENDING
    finally:
        await sofia.http.close()


async def test_the_broker_refuses_a_decision_through_an_ended_session(
    app: web.Application, served: str, world: World
) -> None:
    rui = await open_console(served, "rui")
    try:
        await rui.frame("approvals")
        broker: ApprovalBroker = app[APPROVALS]
        pending = await broker.request_discount(
            agent_id=world.agent_id, customer_id=world.customer_id, campaign_id=world.campaign_id,
            call_id=None, discount_pct=Decimal(12), today=TODAY,
        )
        users = {u.login: u.id for u in (await _users(app))}
        with pytest.raises(NotAllowed) as refused:
            await broker.decide(pending.request_id, supervisor_id=users["rui"], approve=True, session_hash="0" * 64)
        assert refused.value.code == "session_revoked"
    finally:
        await rui.ws.close()
        await rui.http.close()


async def _users(app: web.Application) -> list[User]:
    async with app[SESSION_GUARD].sessions() as db:
        return list((await db.scalars(select(User))).all())


async def test_a_session_that_expires_closes_its_socket(served: str, world: World, clock: Clock) -> None:
    sofia = await open_console(served, "sofia")
    try:
        await sofia.frame("approvals")
        clock.advance(timedelta(hours=8, seconds=1))  # the sessions of these tests last 8 h
        code, reason, _ = await _console_close(sofia)
        assert (code, reason) == (CLOSE_REVOKED, REASON_EXPIRED)
    finally:
        await sofia.http.close()
