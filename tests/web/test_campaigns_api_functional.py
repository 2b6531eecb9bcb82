"""The campaigns API over the real app: list, start/pause/stop, roles, CSRF, error shapes, audit.

Most tests run the app without a dialer (the live figures are null); the last one runs the
real dialer on the simulator (``desk_rig``) and reads its live figures.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from storage.engine import create_engine, session_factory
from storage.models import AuditLog, Campaign, CampaignMode, CampaignStatus, User
from tests.dialer.runtime_support import add_campaign
from tests.web.agent_rig import DeskRig, desk_of, desk_rig
from tests.web.conftest import PASSWORD, Clock, log_in, session_csrf

Client = TestClient[web.Request, web.Application]


async def _campaigns(db_url: str, *names: str) -> list[int]:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine).begin() as s:
            ids = []
            for name in names:
                c = Campaign(name=name, mode=CampaignMode.PREDICTIVE, dial_template="PJSIP/{number}@trunk",
                             caller_id="0303", pbx_name="default", max_dial_level=2.5, abandon_cap=0.02)
                s.add(c)
                await s.flush()
                ids.append(c.id)
            return ids
    finally:
        await engine.dispose()


async def _stored(db_url: str, campaign_id: int) -> tuple[CampaignStatus, list[AuditLog]]:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as s:
            campaign = await s.get(Campaign, campaign_id)
            assert campaign is not None
            audits = list(await s.scalars(
                select(AuditLog).where(AuditLog.entity == "campaign", AuditLog.entity_id == str(campaign_id))
                .order_by(AuditLog.id)
            ))
            return campaign.status, audits
    finally:
        await engine.dispose()


async def _user_id(db_url: str, login: str) -> int:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as s:
            user_id = await s.scalar(select(User.id).where(User.login == login))
            assert user_id is not None
            return user_id
    finally:
        await engine.dispose()


async def _login(client: Client, who: str) -> str:
    resp = await log_in(client, who)
    assert resp.status == 303
    return await session_csrf(client)


async def test_list_shows_each_campaign_with_its_status(client: Client, db_url: str) -> None:
    await _campaigns(db_url, "Varejo", "Cartões")
    await _login(client, "sofia")
    resp = await client.get("/api/v1/campaigns")
    assert resp.status == 200
    items = (await resp.json())["items"]
    assert [(i["name"], i["status"], i["mode"], i["max_dial_level"], i["abandon_cap"]) for i in items] == [
        ("Cartões", "paused", "predictive", 2.5, 0.02),
        ("Varejo", "paused", "predictive", 2.5, 0.02),
    ]
    # no dialer runs in this app: every live figure is null, and it says so
    live = {k: items[0][k] for k in ("live", "dial_level", "in_flight", "abandon_rate_today", "abandon_rate_30d",
                                     "connects_last_hour")}
    assert live == {"live": False, "dial_level": None, "in_flight": None, "abandon_rate_today": None,
                    "abandon_rate_30d": None, "connects_last_hour": None}


async def test_start_pause_stop_answer_the_new_state_and_are_audited(client: Client, db_url: str, clock: Clock) -> None:
    (cid,) = await _campaigns(db_url, "Varejo")
    token = await _login(client, "sofia")
    sofia = await _user_id(db_url, "sofia")
    seen = []
    for action in ("start", "pause", "stop", "start"):
        resp = await client.post(f"/api/v1/campaigns/{cid}/{action}", headers={"X-CSRF-Token": token})
        assert resp.status == 200, await resp.text()
        body = await resp.json()
        assert (body["id"], body["name"]) == (cid, "Varejo")
        seen.append((body["previous_status"], body["status"]))
    assert seen == [("paused", "active"), ("active", "paused"), ("paused", "stopped"), ("stopped", "active")]

    status, audits = await _stored(db_url, cid)
    assert status is CampaignStatus.ACTIVE
    assert [(a.action, a.user_id, a.at, a.before, a.after) for a in audits] == [
        ("campaign.start", sofia, clock.now, {"status": "paused"}, {"status": "active", "source": "api"}),
        ("campaign.pause", sofia, clock.now, {"status": "active"}, {"status": "paused", "source": "api"}),
        ("campaign.stop", sofia, clock.now, {"status": "paused"}, {"status": "stopped", "source": "api"}),
        ("campaign.start", sofia, clock.now, {"status": "stopped"}, {"status": "active", "source": "api"}),
    ]
    listed = (await (await client.get("/api/v1/campaigns")).json())["items"]
    assert [(i["id"], i["status"]) for i in listed] == [(cid, "active")]


async def test_admins_may_change_campaigns_too(client: Client, db_url: str) -> None:
    (cid,) = await _campaigns(db_url, "Varejo")
    token = await _login(client, "root")
    resp = await client.post(f"/api/v1/campaigns/{cid}/stop", headers={"X-CSRF-Token": token})
    assert resp.status == 200 and (await resp.json())["status"] == "stopped"


@pytest.mark.parametrize("who", ["ana", "quito"])
async def test_agents_and_qa_may_neither_list_nor_change(client: Client, db_url: str, who: str) -> None:
    (cid,) = await _campaigns(db_url, "Varejo")
    token = await _login(client, who)
    listed = await client.get("/api/v1/campaigns")
    changed = await client.post(f"/api/v1/campaigns/{cid}/start", headers={"X-CSRF-Token": token})
    assert (listed.status, changed.status) == (403, 403)
    assert (await changed.json())["error"]["code"] == "forbidden"
    status, audits = await _stored(db_url, cid)
    assert (status, audits) == (CampaignStatus.PAUSED, [])


async def test_nobody_logged_in_gets_401(client: Client, db_url: str) -> None:
    (cid,) = await _campaigns(db_url, "Varejo")
    assert (await client.get("/api/v1/campaigns")).status == 401
    assert (await client.post(f"/api/v1/campaigns/{cid}/start")).status == 401


async def test_a_change_without_the_csrf_token_is_refused(client: Client, db_url: str) -> None:
    (cid,) = await _campaigns(db_url, "Varejo")
    await _login(client, "sofia")
    for headers in ({}, {"X-CSRF-Token": "not-the-token"}):
        resp = await client.post(f"/api/v1/campaigns/{cid}/start", headers=headers)
        assert resp.status == 403
        assert (await resp.json())["error"]["code"] == "csrf"
    status, audits = await _stored(db_url, cid)
    assert (status, audits) == (CampaignStatus.PAUSED, [])


async def test_an_unknown_campaign_is_404_naming_the_field(client: Client) -> None:
    token = await _login(client, "sofia")
    resp = await client.post("/api/v1/campaigns/999999/pause", headers={"X-CSRF-Token": token})
    assert resp.status == 404
    assert await resp.json() == {"error": {"code": "not_found", "message": "Campanha 999999 não existe.",
                                           "field": "campaign_id"}}


@pytest.mark.parametrize("raw", ["abc", "0", "-1", "1.5", "99999999999", "%D9%A1"])
async def test_a_malformed_id_is_422_naming_the_field(client: Client, raw: str) -> None:
    token = await _login(client, "sofia")
    resp = await client.post(f"/api/v1/campaigns/{raw}/stop", headers={"X-CSRF-Token": token})
    assert resp.status == 422
    error = (await resp.json())["error"]
    assert (error["code"], error["field"]) == ("invalid", "campaign_id")
    assert error["message"].startswith("Identificador de campanha inválido")


@pytest.fixture
async def rig(db_url: str) -> AsyncIterator[DeskRig]:
    async with desk_rig(db_url) as r:
        yield r


async def test_with_a_running_dialer_the_list_has_its_live_figures(rig: DeskRig) -> None:
    async with rig.db.begin() as s:
        campaign = await add_campaign(s, running=False, name="Ao vivo")
    runtime = desk_of(rig.app).runtime
    # today's way to make the running dialer pace a campaign created after it started
    await runtime.set_campaign_running(campaign.id, True)
    async with aiohttp.ClientSession(base_url=rig.url, cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        page = await http.get("/login")
        form = (await page.text()).split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        resp = await http.post("/login", data={"login": "sofia", "password": PASSWORD, "csrf_token": form},
                               allow_redirects=False)
        assert resp.status == 303
        token = (await (await http.get("/api/v1/me")).json())["csrf_token"]

        items = (await (await http.get("/api/v1/campaigns")).json())["items"]
        (item,) = [i for i in items if i["id"] == campaign.id]
        assert (item["status"], item["live"]) == ("active", True)
        assert item["in_flight"] >= 0 and item["dial_level"] >= 0
        assert item["abandon_rate_today"] == item["abandon_rate_30d"] == 0.0

        paused = await http.post(f"/api/v1/campaigns/{campaign.id}/pause", headers={"X-CSRF-Token": token})
        assert paused.status == 200, await paused.text()
        assert ((await paused.json())["previous_status"], (await paused.json())["status"]) == ("active", "paused")
    async with rig.db() as s:
        stored = await s.get(Campaign, campaign.id)
        assert stored is not None and stored.status is CampaignStatus.PAUSED
