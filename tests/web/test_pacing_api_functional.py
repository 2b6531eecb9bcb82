"""The pacing API and the what-if page over the real app: figures, audited changes, roles."""

from __future__ import annotations

import asyncio
from datetime import datetime

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from storage.engine import create_engine, session_factory
from storage.models import AuditLog, CallAttempt, CallResult, Campaign, CampaignMode, User
from tests.web.conftest import Clock, log_in, session_csrf

Client = TestClient[web.Request, web.Application]


async def _campaign(db_url: str, now: datetime) -> int:
    """A campaign with four calls at ``now`` (the app's clock: its "today" is the figures' today)."""
    engine = create_engine(db_url)
    try:
        async with session_factory(engine).begin() as s:
            c = Campaign(name="Carteira Varejo", mode=CampaignMode.PROGRESSIVE, dial_template="PJSIP/{number}@trunk",
                         caller_id="0303", pbx_name="default")
            s.add(c)
            await s.flush()
            for i, (result, abandoned, short, caller) in enumerate(
                [
                    (CallResult.CONNECTED, False, False, "0303"),
                    (CallResult.CONNECTED, False, True, "0303"),
                    (CallResult.ABANDONED, True, True, "0303"),
                    (CallResult.MACHINE, False, True, "551130000000"),
                ]
            ):
                s.add(CallAttempt(campaign_id=c.id, mode=CampaignMode.PROGRESSIVE, number=f"+55119000000{i:02d}",
                                  caller_id=caller, created_at=now, originated_at=now, answered_at=now, ended_at=now, result=result,
                                  abandoned=abandoned, short_call=short))
            return c.id
    finally:
        await engine.dispose()


async def _login(client: Client, who: str) -> str:
    resp = await log_in(client, who)
    assert resp.status == 303
    return await session_csrf(client)


async def test_get_returns_the_figures_from_storage_when_no_dialer_runs(client: Client, db_url: str, clock: Clock) -> None:
    cid = await _campaign(db_url, clock.now)
    await _login(client, "sofia")
    resp = await client.get(f"/api/v1/campaigns/{cid}/pacing")
    assert resp.status == 200
    body = await resp.json()
    assert (body["mode"], body["max_dial_level"], body["abandon_cap"], body["amd_enabled"]) == ("progressive", 3.0, 0.03, False)
    assert (body["live"], body["state"], body["calls_in_flight"]) == (False, "off", 0)
    assert body["abandons"] == {"live_today": 3, "abandoned_today": 1, "rate_today": 0.3333,
                                "live_30d": 3, "abandoned_30d": 1, "rate_30d": 0.3333}
    assert body["short_calls_today"] == {
        "completed": 4, "short": 3, "ratio": 0.75,
        "by_caller_id": [
            {"caller_id": "0303", "completed": 3, "short": 2, "ratio": 0.6667},
            {"caller_id": "551130000000", "completed": 1, "short": 1, "ratio": 1.0},
        ],
    }
    missing = await client.get("/api/v1/campaigns/9999/pacing")
    assert missing.status == 404


async def test_put_changes_the_settings_and_is_audited(client: Client, db_url: str, clock: Clock) -> None:
    cid = await _campaign(db_url, clock.now)
    token = await _login(client, "sofia")
    resp = await client.put(f"/api/v1/campaigns/{cid}/pacing", json={"mode": "predictive", "max_dial_level": 2.5},
                            headers={"X-CSRF-Token": token})
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert (body["mode"], body["max_dial_level"], body["abandon_cap"]) == ("predictive", 2.5, 0.03)

    bad = await client.put(f"/api/v1/campaigns/{cid}/pacing", json={"abandon_cap": 0.5}, headers={"X-CSRF-Token": token})
    assert bad.status == 422
    assert (await bad.json())["error"]["field"] == "abandon_cap"
    unknown = await client.put(f"/api/v1/campaigns/{cid}/pacing", json={"turbo": True}, headers={"X-CSRF-Token": token})
    assert (await unknown.json())["error"]["field"] == "turbo"
    no_csrf = await client.put(f"/api/v1/campaigns/{cid}/pacing", json={"mode": "manual"})
    assert no_csrf.status == 403

    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as s:
            campaign = await s.get(Campaign, cid)
            audits = (await s.execute(select(AuditLog).where(AuditLog.entity == "campaign"))).scalars().all()
            sofia = (await s.execute(select(User).where(User.login == "sofia"))).scalar_one()
    finally:
        await engine.dispose()
    assert campaign is not None and campaign.mode is CampaignMode.PREDICTIVE and campaign.max_dial_level == 2.5
    assert len(audits) == 1
    a = audits[0]
    assert (a.user_id, a.action, a.entity, a.entity_id) == (sofia.id, "campaign.pacing", "campaign", str(cid))
    assert a.before == {"mode": "progressive", "max_dial_level": 3.0, "abandon_cap": 0.03, "amd_enabled": False}
    assert a.after == {"mode": "predictive", "max_dial_level": 2.5, "abandon_cap": 0.03, "amd_enabled": False}


async def test_agents_may_not_change_pacing(client: Client, db_url: str, clock: Clock) -> None:
    cid = await _campaign(db_url, clock.now)
    token = await _login(client, "ana")
    resp = await client.put(f"/api/v1/campaigns/{cid}/pacing", json={"mode": "predictive"}, headers={"X-CSRF-Token": token})
    assert resp.status == 403
    assert (await client.get(f"/api/v1/campaigns/{cid}/pacing")).status == 403
    assert (await client.get("/supervisor/simulacao")).status == 403


async def test_simulation_page_runs_the_what_if_tool(client: Client, db_url: str, clock: Clock) -> None:
    await _campaign(db_url, clock.now)
    await _login(client, "sofia")
    page = await client.get("/supervisor/simulacao")
    assert page.status == 200
    html = await page.text()
    assert "Carteira Varejo" in html and "Simular" in html
    resp = await client.get("/supervisor/simulacao", params={"campanha": "Carteira Varejo", "agentes": "2,3",
                                                             "teto": "3", "horas": "0,25"})
    html = await resp.text()
    assert resp.status == 200
    # the campaign has 4 calls: the typical scenario stands in, and says so
    assert "cenário mid-floor" in html and "só 4 chamadas" in html
    assert 'data-testid="linha-2"' in html and 'data-testid="linha-3"' in html
    bad = await (await client.get("/supervisor/simulacao", params={"agentes": "0"})).text()
    assert "inteiro de 1 a 200" in bad


async def test_two_partial_puts_at_once_both_take_effect(client: Client, db_url: str, clock: Clock) -> None:
    # finding 6 of the floor-model issue: read-merge-write without a lock lost one of two concurrent changes
    cid = await _campaign(db_url, clock.now)
    token = await _login(client, "sofia")
    headers = {"X-CSRF-Token": token}
    for _ in range(5):
        level, cap = await asyncio.gather(
            client.put(f"/api/v1/campaigns/{cid}/pacing", json={"max_dial_level": 2.0}, headers=headers),
            client.put(f"/api/v1/campaigns/{cid}/pacing", json={"abandon_cap": 0.02}, headers=headers),
        )
        assert (level.status, cap.status) == (200, 200)
        final = await (await client.get(f"/api/v1/campaigns/{cid}/pacing")).json()
        assert (final["max_dial_level"], final["abandon_cap"]) == (2.0, 0.02)
        reset = await client.put(
            f"/api/v1/campaigns/{cid}/pacing", json={"max_dial_level": 3.0, "abandon_cap": 0.03}, headers=headers
        )
        assert reset.status == 200
