"""``GET /api/v1/floor`` and listen / whisper / barge end to end: the real app and dialer, the simulator over TCP,
a real SQLite file, agents and supervisors logged in through the form."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from dialer.simulator.pbx import Message
from storage.models import AuditLog, Role
from tests.dialer.runtime_support import actions, add_campaign, add_lead, eventually
from tests.web.agent_rig import DeskRig, WsAgent, desk_of, desk_rig
from tests.web.conftest import UserSpec, add_users

SUPERVISOR_PHONE = "Local/7901@agent-sim"


@pytest.fixture
async def rig(db_url: str) -> AsyncIterator[DeskRig]:
    # a supervisor with a phone (the one listen / whisper / barge ring) next to the rig's users
    await add_users(db_url, [UserSpec("rui", Role.SUPERVISOR, "Rui Prado", None, SUPERVISOR_PHONE)])
    async with desk_rig(db_url) as r:
        yield r


@pytest.fixture
async def ana(rig: DeskRig) -> AsyncIterator[WsAgent]:
    agent = await WsAgent.log_in(rig.url, "ana")
    await agent.connect()
    yield agent
    await agent.close()


async def _campaign_with_lead(rig: DeskRig) -> int:
    async with rig.db.begin() as s:
        campaign = await add_campaign(s, running=False, name="Cartões Atrasados")
        await add_lead(s, campaign, "5511987650011", name="Maria Conceição da Silva")
    await desk_of(rig.app).runtime.set_campaign_running(campaign.id, True)
    return int(campaign.id)


async def _on_call(ana: WsAgent) -> str:
    await ana.request({"type": "set_state", "state": "ready"})
    pop = await ana.wait_for(lambda f: f["type"] == "screen_pop", "screen-pop")
    call_id: str = pop["call_id"]
    await ana.wait_for(lambda f: f["type"] == "call_state" and f["phase"] == "connected", "connected")
    return call_id


async def _csrf(user: WsAgent) -> str:
    resp = await user.http.get("/api/v1/me")
    assert resp.status == 200
    token: str = (await resp.json())["csrf_token"]
    return token


async def _floor(user: WsAgent) -> dict[str, Any]:
    resp = await user.http.get("/api/v1/floor")
    assert resp.status == 200, await resp.text()
    body: dict[str, Any] = await resp.json()
    return body


async def test_floor_as_a_supervisor_while_an_agent_works(rig: DeskRig, ana: WsAgent) -> None:
    campaign_id = await _campaign_with_lead(rig)
    await _on_call(ana)
    sofia = await WsAgent.log_in(rig.url, "sofia")
    try:
        body = await _floor(sofia)
        assert body["link_up"] is True
        [row] = [a for a in body["agents"] if a["login"] == "ana"]
        assert (row["name"], row["state"], row["campaign"], row["on_call"]) == (
            "Ana Souza", "on_call", "Cartões Atrasados", "Maria S."
        )
        assert row["phone_connected"] is True and row["pause_reason"] is None
        assert (row["calls_today"], row["contacts_today"]) == (1, 1)
        assert row["since"].endswith("+00:00") and row["monitored_by"] is None
        [campaign] = [c for c in body["campaigns"] if c["id"] == campaign_id]
        assert (campaign["name"], campaign["status"], campaign["mode"]) == ("Cartões Atrasados", "active", "progressive")
        assert (campaign["in_flight"], campaign["talking"], campaign["connects_last_hour"]) == (0, 1, 1)
        assert campaign["abandon_rate_today"] == 0.0 and campaign["abandon_rate_30d"] == 0.0
        assert campaign["dial_level"] is not None
        # the sparkline: the connect is in the newest of the hour's twelve 5-minute slots
        assert campaign["connects_by_slot"] == [0] * 11 + [1]
        # today's results (nothing disposed yet) and the Anatel short-call share (no call completed yet)
        assert (campaign["right_party_today"], campaign["promises_today"], campaign["agreements_today"],
                campaign["amount_agreed_today"]) == (0, 0, 0, "0.00")
        assert campaign["short_call_share_today"] is None
        # nothing about the customer beyond first name + initial
        assert "Conceição" not in str(body) and "5511987650011" not in str(body)
    finally:
        await sofia.close()


async def test_an_agent_gets_403_from_the_floor_the_console_and_its_socket(rig: DeskRig, ana: WsAgent) -> None:
    resp = await ana.http.get("/api/v1/floor")
    assert resp.status == 403
    assert (await resp.json())["error"]["code"] == "forbidden"
    page = await ana.http.get("/supervisor", allow_redirects=False)
    assert page.status == 403
    sock = await ana.http.get("/ws/supervisor", headers={"Origin": rig.url})
    assert sock.status == 403
    monitor = await ana.http.post("/api/v1/floor/monitor", json={"agent_id": 1, "mode": "listen"},
                                  headers={"X-CSRF-Token": await _csrf(ana)})
    assert monitor.status == 403


async def test_listen_originates_chanspy_on_the_agent_leg_and_is_audited(rig: DeskRig, ana: WsAgent) -> None:
    heard: list[Message] = []
    rig.sim.pbx.add_listener(heard.append)
    await _campaign_with_lead(rig)
    await _on_call(ana)
    runtime = desk_of(rig.app).runtime
    ana_id, rui_id = rig.users["ana"], rig.users["rui"]
    leg = runtime.floor.agents.get(ana_id).leg_channel
    rui = await WsAgent.log_in(rig.url, "rui")
    try:
        token = await _csrf(rui)
        resp = await rui.http.post("/api/v1/floor/monitor", json={"agent_id": ana_id, "mode": "listen"},
                                   headers={"X-CSRF-Token": token})
        assert resp.status == 201, await resp.text()
        [spy] = await eventually(
            lambda: [a for a in actions(rig.sim, "Originate") if a.get("Application") == "ChanSpy"], "the spy originate"
        )
        assert (spy["Channel"], spy["Data"]) == (SUPERVISOR_PHONE, f"{leg},qE")
        start = await eventually(lambda: [m for m in heard if m.get("Event") == "ChanSpyStart"], "ChanSpyStart")
        assert start[0]["SpyeeChannel"] == leg
        await eventually(lambda: runtime.floor.monitors.of_agent(ana_id).spying, "the floor sees the spy start")
        row = next(a for a in (await _floor(rui))["agents"] if a["login"] == "ana")
        assert (row["monitored_by"], row["monitored_by_login"], row["monitor_mode"]) == (rui_id, "rui", "listen")
        # a second session for the same supervisor is refused in the one error shape
        again = await rui.http.post("/api/v1/floor/monitor", json={"agent_id": ana_id, "mode": "barge"},
                                    headers={"X-CSRF-Token": token})
        assert again.status == 409 and (await again.json())["error"]["code"] == "conflict"

        stop = await rui.http.post("/api/v1/floor/monitor/stop", headers={"X-CSRF-Token": token})
        assert stop.status == 200
        await eventually(lambda: [m for m in heard if m.get("Event") == "ChanSpyStop"], "ChanSpyStop")
        await eventually(lambda: runtime.floor.monitors.of_supervisor(rui_id) is None, "the session ended")
        row = next(a for a in (await _floor(rui))["agents"] if a["login"] == "ana")
        assert row["monitored_by"] is None

        async def audited() -> list[tuple[str, Any]]:
            async with rig.db() as s:
                rows = await s.scalars(select(AuditLog).where(AuditLog.entity == "agent").order_by(AuditLog.id))
                return [(r.action, r.user_id, r.entity_id, (r.after or {}).get("mode")) for r in rows]

        expected = [("monitor_started", rui_id, str(ana_id), "listen"), ("monitor_stopped", rui_id, str(ana_id), "listen")]
        got: list[Any] = []
        for _ in range(200):
            got = await audited()
            if got == expected:
                break
            await asyncio.sleep(0.02)
        assert got == expected
        # the agent was never told (listen only)
        assert not [f for f in ana.frames if f["type"] == "error" and f.get("code", "").startswith("supervisor")]
        stop_again = await rui.http.post("/api/v1/floor/monitor/stop", headers={"X-CSRF-Token": token})
        assert stop_again.status == 404 and (await stop_again.json())["error"]["code"] == "not_found"
        # the floor-wide history tells both, naming the agent
        history = await (await rui.http.get("/api/v1/floor/history?limit=2")).json()
        assert [(h["summary"], h["user_name"]) for h in history["items"]] == [
            ("Terminou a monitoria (ouvir) de Ana Souza", "Rui Prado"),
            ("Começou a monitoria (ouvir) de Ana Souza", "Rui Prado"),
        ]
    finally:
        await rui.close()


async def test_whisper_tells_the_agent_and_a_user_without_phone_is_refused(rig: DeskRig, ana: WsAgent) -> None:
    await _campaign_with_lead(rig)
    await _on_call(ana)
    ana_id = rig.users["ana"]
    sofia = await WsAgent.log_in(rig.url, "sofia")  # no phone on her user
    rui = await WsAgent.log_in(rig.url, "rui")
    try:
        resp = await sofia.http.post("/api/v1/floor/monitor", json={"agent_id": ana_id, "mode": "whisper"},
                                     headers={"X-CSRF-Token": await _csrf(sofia)})
        assert resp.status == 422 and (await resp.json())["error"]["field"] == "endpoint"
        bad = await rui.http.post("/api/v1/floor/monitor", json={"agent_id": ana_id, "mode": "shout"},
                                  headers={"X-CSRF-Token": await _csrf(rui)})
        assert bad.status == 422 and (await bad.json())["error"]["field"] == "mode"
        ok = await rui.http.post("/api/v1/floor/monitor", json={"agent_id": ana_id, "mode": "whisper"},
                                 headers={"X-CSRF-Token": await _csrf(rui)})
        assert ok.status == 201
        [spy] = await eventually(
            lambda: [a for a in actions(rig.sim, "Originate") if a.get("Application") == "ChanSpy"], "the spy originate"
        )
        assert spy["Data"].endswith(",qEw")
        told = await ana.wait_for(lambda f: f["type"] == "error" and f.get("code") == "supervisor_talking", "whisper notice")
        assert told["message"] == "Supervisor falando com você"
    finally:
        await sofia.close()
        await rui.close()
