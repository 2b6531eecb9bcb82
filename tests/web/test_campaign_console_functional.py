"""The campaign page's REST routes over a real server and a real SQLite file: bulk boosts with a count
preview (and the next pick honouring them), calling-window overrides, holds by campaign, the change
history, and who may open the pages and routes."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from dialer.leads.hopper import Hopper
from storage.engine import create_engine, session_factory
from storage.models import AuditLog, Campaign, Lead
from tests.dialer.runtime_support import add_campaign, add_lead
from tests.web.conftest import Clock, log_in, session_csrf

Client = TestClient[web.Request, web.Application]

NUMBERS = ("5511987650011", "5521987650022", "5521987650033", "5531987650044")


async def _campaign(db_url: str, numbers: tuple[str, ...] = NUMBERS) -> int:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine).begin() as db:
            campaign = await add_campaign(db, running=False, name="Cartões")
            for i, n in enumerate(numbers):
                await add_lead(db, campaign, n, cpf=("12345678909", "52998224725", "11144477735", "39053344705")[i % 4])
            return int(campaign.id)
    finally:
        await engine.dispose()


async def _as(client: Client, login: str) -> str:
    assert (await log_in(client, login)).status == 303
    return await session_csrf(client)


async def _pick(db_url: str, campaign_id: int, clock: Clock) -> str | None:
    engine = create_engine(db_url)
    try:
        claimed = await Hopper(session_factory(engine)).claim_next(campaign_id, clock.now)
        return None if claimed is None else claimed.external_id
    finally:
        await engine.dispose()


async def _json(resp: Any, status: int) -> Any:
    body = await resp.json()
    assert resp.status == status, body
    return body


async def test_bulk_boost_by_ddd_previews_then_applies_and_the_next_pick_honours_it(
    client: Client, db_url: str, clock: Clock
) -> None:
    cid = await _campaign(db_url)
    token = await _as(client, "sofia")
    h = {"X-CSRF-Token": token}
    preview = await _json(await client.post(f"/api/v1/campaigns/{cid}/boosts/preview",
                                            json={"filter": {"ddds": ["21"]}}, headers=h), 200)
    assert preview["count"] == 2 and preview["filter"] == {"ddds": ["21"]}
    everyone = await _json(await client.post(f"/api/v1/campaigns/{cid}/boosts/preview", json={}, headers=h), 200)
    assert everyone["count"] == 4

    # the count changed since the preview (someone else imported, a lead finished): 409 with the new count
    stale = await client.post(f"/api/v1/campaigns/{cid}/boosts/bulk",
                              json={"filter": {"ddds": ["21"]}, "boost": 300, "expected_count": 3}, headers=h)
    body = await _json(stale, 409)
    assert body["error"]["field"] == "expected_count" and "agora são 2 contas" in body["error"]["message"]

    applied = await _json(await client.post(f"/api/v1/campaigns/{cid}/boosts/bulk",
                                            json={"filter": {"ddds": ["21"]}, "boost": 300, "expected_count": 2},
                                            headers=h), 200)
    assert applied["count"] == 2
    # leads stored with priority 0 (never ranked) must not outrank the boosted ones
    assert await _pick(db_url, cid, clock) in ("ext-5521987650022", "ext-5521987650033")

    entries = await _history(client, cid)
    assert entries[0]["action"] == "boosts.bulk" and entries[0]["login"] == "sofia"
    assert entries[0]["summary"] == "Prioridade extra 300 para 2 contas (DDD 21)"
    assert entries[0]["before"] == {"boosts": {"0": 2}}


async def test_a_single_boost_outranks_leads_never_ranked(client: Client, db_url: str, clock: Clock) -> None:
    cid = await _campaign(db_url)
    token = await _as(client, "sofia")
    resp = await client.put(f"/api/v1/campaigns/{cid}/boosts", json={"boosts": {"ext-5531987650044": 100}},
                            headers={"X-CSRF-Token": token})
    assert resp.status == 200, await resp.text()
    assert await _pick(db_url, cid, clock) == "ext-5531987650044"


async def test_bulk_filters_are_checked(client: Client, db_url: str) -> None:
    cid = await _campaign(db_url)
    h = {"X-CSRF-Token": await _as(client, "sofia")}
    for flt, field in (({"ddds": ["1"]}, "filter.ddds[0]"), ({"buckets": ["2-3"]}, "filter.buckets"),
                       ({"ufs": ["XX"]}, "filter.ufs"), ({"nope": 1}, "filter.nope")):
        body = await _json(await client.post(f"/api/v1/campaigns/{cid}/boosts/preview", json={"filter": flt},
                                             headers=h), 422)
        assert body["error"]["field"] == field, body
    body = await _json(await client.post(f"/api/v1/campaigns/{cid}/boosts/bulk",
                                         json={"filter": {}, "boost": 5000, "expected_count": 1}, headers=h), 422)
    assert body["error"]["field"] == "boost"
    missing = await client.post("/api/v1/campaigns/999/boosts/preview", json={}, headers=h)
    assert (await _json(missing, 404))["error"]["field"] == "campaign_id"


async def _history(client: Client, cid: int) -> list[dict[str, Any]]:
    body = await _json(await client.get(f"/api/v1/campaigns/{cid}/history"), 200)
    items: list[dict[str, Any]] = body["items"]
    return items


async def test_window_override_is_stored_audited_and_read_by_the_hopper(client: Client, db_url: str) -> None:
    cid = await _campaign(db_url)
    h = {"X-CSRF-Token": await _as(client, "sofia")}
    week = {"mon": "09:00-18:00", "tue": "09:00-18:00", "wed": "09:00-18:00", "thu": "09:00-18:00",
            "fri": "09:00-17:00"}
    body = await _json(await client.put(f"/api/v1/campaigns/{cid}/window", json={"window": week}, headers=h), 200)
    assert body["window"] == {**week, "sat": None, "sun": None}
    got = await _json(await client.get(f"/api/v1/campaigns/{cid}"), 200)
    assert got["window_override"] == body["window"] and got["name"] == "Cartões"

    bad = await client.put(f"/api/v1/campaigns/{cid}/window", json={"window": {"mon": "18:00-09:00"}}, headers=h)
    assert (await _json(bad, 422))["error"]["field"] == "window.mon"
    bad = await client.put(f"/api/v1/campaigns/{cid}/window", json={"window": {"xyz": "08:00-09:00"}}, headers=h)
    assert (await _json(bad, 422))["error"]["field"] == "window.xyz"
    closed = await client.put(f"/api/v1/campaigns/{cid}/window", json={"window": {"mon": None}}, headers=h)
    assert (await _json(closed, 422))["error"]["field"] == "window"
    cleared = await _json(await client.put(f"/api/v1/campaigns/{cid}/window", json={"window": None}, headers=h), 200)
    assert cleared["window"] is None

    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as db:
            campaign = await db.get(Campaign, cid)
            assert campaign is not None and campaign.window_override is None
            actions = list(await db.scalars(select(AuditLog.action).where(AuditLog.entity == "campaign")))
    finally:
        await engine.dispose()
    assert actions == ["campaign.window", "campaign.window"]
    entries = await _history(client, cid)
    assert entries[0]["summary"].startswith("Mudou o horário da campanha: seg 09:00-18:00")
    assert entries[0]["summary"].endswith("→ sem restrição da campanha")


async def test_holds_of_the_campaigns_customers(client: Client, db_url: str, clock: Clock) -> None:
    cid = await _campaign(db_url, NUMBERS[:2])
    h = {"X-CSRF-Token": await _as(client, "sofia")}
    made = await _json(await client.post(f"/api/v1/campaigns/{cid}/holds", headers=h, json={
        "external_id": "ext-5511987650011", "kind": "dispute", "reason": "Contesta a dívida no Procon"}), 201)
    listed = await _json(await client.get(f"/api/v1/campaigns/{cid}/holds"), 200)
    assert [(i["id"], i["external_id"], i["kind"]) for i in listed["items"]] == [
        (made["id"], "ext-5511987650011", "dispute")]
    # the held customer is not picked; the other one is
    assert await _pick(db_url, cid, clock) == "ext-5521987650022"

    unknown = await client.post(f"/api/v1/campaigns/{cid}/holds", headers=h,
                                json={"external_id": "nobody", "kind": "lawyer", "reason": "x"})
    assert (await _json(unknown, 422))["error"]["field"] == "external_id"
    released = await _json(await client.delete(f"/api/v1/campaigns/{cid}/holds/{made['id']}", headers=h), 200)
    assert released["released_at"] is not None
    again = await client.delete(f"/api/v1/campaigns/{cid}/holds/{made['id']}", headers=h)
    assert (await _json(again, 409))["error"]["field"] == "hold_id"
    other = await client.delete(f"/api/v1/campaigns/{cid}/holds/9999", headers=h)
    assert (await _json(other, 404))["error"]["field"] == "hold_id"
    assert (await _json(await client.get(f"/api/v1/campaigns/{cid}/holds"), 200))["items"] == []

    entries = await _history(client, cid)
    assert [e["action"] for e in entries] == ["hold.release", "hold.set"]
    assert entries[1]["summary"] == "Suspendeu a cobrança de ext-5511987650011 (contestação: Contesta a dívida no Procon)"


async def test_history_tells_each_step_and_the_floor_history_names_the_campaign(client: Client, db_url: str) -> None:
    cid = await _campaign(db_url, NUMBERS[:1])
    h = {"X-CSRF-Token": await _as(client, "sofia")}
    await _json(await client.post(f"/api/v1/campaigns/{cid}/start", headers=h), 200)
    segs = {"segments": [{"name": "Recentes", "weight": 100, "filters": {"buckets": ["1-30"]}},
                         {"name": "Antigos", "weight": 100, "filters": {}}]}
    await _json(await client.put(f"/api/v1/campaigns/{cid}/segments", json=segs, headers=h), 200)
    await _json(await client.put(f"/api/v1/campaigns/{cid}/pacing", json={"mode": "preview"}, headers=h), 200)
    await _json(await client.post(f"/api/v1/campaigns/{cid}/pause", headers=h), 200)
    summaries = [e["summary"] for e in await _history(client, cid)]
    assert summaries == [
        "Pausou a campanha (ativa → pausada)",
        "Mudou o ritmo de discagem (modo: progressivo → prévia)",
        "Mudou os segmentos: nenhum → Recentes (peso 100), Antigos (peso 100)",
        "Iniciou a campanha (pausada → ativa)",
    ]
    floor = await _json(await client.get("/api/v1/floor/history?limit=2"), 200)
    assert [(e["campaign"], e["action"], e["user_name"]) for e in floor["items"]] == [
        ("Cartões", "campaign.pause", "Sofia Lima"), ("Cartões", "campaign.pacing", "Sofia Lima")]
    bad = await client.get("/api/v1/floor/history?limit=0")
    assert (await _json(bad, 422))["error"]["field"] == "limit"


async def test_agents_and_qa_are_refused_and_admins_may_open_the_console(client: Client, db_url: str) -> None:
    cid = await _campaign(db_url, NUMBERS[:1])
    for login in ("ana", "quito"):
        token = await _as(client, login)
        h = {"X-CSRF-Token": token}
        for path in ("/supervisor/campanhas", f"/supervisor/campanhas/{cid}", "/supervisor"):
            resp = await client.get(path, allow_redirects=False)
            assert resp.status == 403, (login, path, resp.status)
        for method, path, body in (
            ("GET", f"/api/v1/campaigns/{cid}", None), ("GET", f"/api/v1/campaigns/{cid}/history", None),
            ("GET", "/api/v1/floor/history", None), ("GET", f"/api/v1/campaigns/{cid}/holds", None),
            ("POST", f"/api/v1/campaigns/{cid}/boosts/preview", {}),
            ("POST", f"/api/v1/campaigns/{cid}/boosts/bulk", {"boost": 1, "expected_count": 1}),
            ("PUT", f"/api/v1/campaigns/{cid}/window", {"window": None}),
        ):
            resp = await client.request(method, path, json=body, headers=h)
            assert resp.status == 403 and (await resp.json())["error"]["code"] == "forbidden", (login, path)
        await client.post("/logout", data={"csrf_token": token}, allow_redirects=False)
        client.session.cookie_jar.clear()
    await _as(client, "root")
    for path in ("/supervisor", "/supervisor/campanhas", f"/supervisor/campanhas/{cid}"):
        assert (await client.get(path)).status == 200, path
    assert (await client.get("/supervisor/campanhas/999")).status == 404
    assert (await client.get("/supervisor/campanhas/abc")).status == 404


async def test_the_campaign_page_names_the_campaign_and_the_bar_links_the_list(client: Client, db_url: str) -> None:
    cid = await _campaign(db_url, NUMBERS[:1])
    await _as(client, "sofia")
    page = await (await client.get(f"/supervisor/campanhas/{cid}")).text()
    assert 'data-testid="campaign-name">Cartões<' in page and f'data-campaign-id="{cid}"' in page
    assert 'href="/supervisor/campanhas"' in page
    # nothing of the lead changed by opening it
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as db:
            assert list(await db.scalars(select(Lead.boost))) == [0]
    finally:
        await engine.dispose()


async def test_the_next_pick_follows_the_window_both_ways(client: Client, db_url: str, clock: Clock) -> None:
    cid = await _campaign(db_url, NUMBERS[:1])  # a São Paulo number; the clock is Monday 09:00 there
    h = {"X-CSRF-Token": await _as(client, "sofia")}
    closed_now = {"mon": "10:00-12:00", "tue": "10:00-12:00"}
    assert (await client.put(f"/api/v1/campaigns/{cid}/window", json={"window": closed_now}, headers=h)).status == 200
    assert await _pick(db_url, cid, clock) is None  # outside the campaign's window: held back until 10:00
    assert (await client.put(f"/api/v1/campaigns/{cid}/window", json={"window": None}, headers=h)).status == 200
    # the restriction is gone: the lead held back by it is dialable at the next pick, not at 10:00
    assert await _pick(db_url, cid, clock) == "ext-5511987650011"
