"""The script editor's API and page over the real app: validate, preview, publish versions, roles, audit,
and a campaign whose calls run its published script (the agent desk end to end)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from storage.engine import create_engine, session_factory
from storage.models import AuditLog, Campaign, CampaignMode
from tests.dialer.runtime_support import add_campaign, add_lead
from tests.web.agent_rig import DeskRig, WsAgent, desk_of, desk_rig
from tests.web.conftest import log_in, session_csrf
from web.scripts.http import default_script_text

Client = TestClient[web.Request, web.Application]

DEFAULT = default_script_text()
VAREJO = DEFAULT.replace("id: padrao", "id: varejo", 1).replace(
    "{{ chamada.saudacao }}! Meu nome é", "{{ chamada.saudacao }}, aqui é a Carteira Varejo! Meu nome é", 1
)
# a next step that does not exist, on a known line (the second choice of "abertura")
BROKEN = DEFAULT.replace("next: terceiro\n", "next: lugar_nenhum\n", 1)


def _line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


async def _login(client: Client, who: str) -> dict[str, str]:
    resp = await log_in(client, who)
    assert resp.status == 303
    return {"X-CSRF-Token": await session_csrf(client)}


async def test_validate_names_step_and_line_of_each_problem(client: Client) -> None:
    csrf = await _login(client, "sofia")
    bad = await client.post("/api/v1/scripts/validate", json={"yaml": BROKEN}, headers=csrf)
    assert bad.status == 200
    body = await bad.json()
    assert body["ok"] is False
    # the line of the `next:` to fix, not the choice's first line
    assert {"step": "abertura", "line": _line_of(BROKEN, "next: lugar_nenhum"),
            "message": "escolha 'terceiro': o próximo passo 'lugar_nenhum' não existe"} in body["errors"]

    good = await (await client.post("/api/v1/scripts/validate", json={"yaml": DEFAULT}, headers=csrf)).json()
    assert good["ok"] is True and good["errors"] == [] and good["steps"][0] == "abertura"

    not_yaml = await (await client.post("/api/v1/scripts/validate", json={"yaml": "id: [x"}, headers=csrf)).json()
    assert not_yaml["ok"] is False and not_yaml["errors"][0]["message"].startswith("YAML inválido: ")

    missing = await client.post("/api/v1/scripts/validate", json={}, headers=csrf)
    assert missing.status == 422 and (await missing.json())["error"]["field"] == "yaml"


async def test_preview_renders_a_step_with_the_sample_customer(client: Client) -> None:
    csrf = await _login(client, "sofia")
    resp = await client.post(
        "/api/v1/scripts/preview", json={"yaml": DEFAULT, "step": "apresentar_divida", "identity_confirmed": True},
        headers=csrf,
    )
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert body["step"] == "apresentar_divida" and "R$" in body["html"]
    assert body["choices"]

    before = await client.post(
        "/api/v1/scripts/preview", json={"yaml": DEFAULT, "step": "apresentar_divida", "identity_confirmed": False},
        headers=csrf,
    )
    assert before.status == 422 and (await before.json())["error"]["field"] == "step"

    unknown = await client.post("/api/v1/scripts/preview", json={"yaml": DEFAULT, "step": "nao_existe"}, headers=csrf)
    assert unknown.status == 422 and "nao_existe" in (await unknown.json())["error"]["message"]


async def test_publish_stores_immutable_versions_and_is_audited(client: Client, db_url: str) -> None:
    csrf = await _login(client, "sofia")
    first = await client.post("/api/v1/scripts/varejo/versions", json={"yaml": VAREJO}, headers=csrf)
    assert first.status == 201, await first.text()
    assert (await first.json())["version"] == 1
    changed = VAREJO.replace("Carteira Varejo", "Carteira Varejo 2")
    second = await client.post("/api/v1/scripts/varejo/versions", json={"yaml": changed}, headers=csrf)
    assert (await second.json())["version"] == 2

    listed = await (await client.get("/api/v1/scripts")).json()
    assert listed["scripts"] == [{"key": "varejo", "versions": [
        {"version": 2, "published_at": listed["scripts"][0]["versions"][0]["published_at"],
         "published_by": listed["scripts"][0]["versions"][0]["published_by"]},
        {"version": 1, "published_at": listed["scripts"][0]["versions"][1]["published_at"],
         "published_by": listed["scripts"][0]["versions"][1]["published_by"]},
    ]}]
    v1 = await (await client.get("/api/v1/scripts/varejo/versions/1")).json()
    assert v1["yaml"] == VAREJO  # the old text is kept
    assert (await client.get("/api/v1/scripts/varejo/versions/3")).status == 404

    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as s:
            audits = list(await s.scalars(select(AuditLog).where(AuditLog.action == "script.publish").order_by(AuditLog.id)))
    finally:
        await engine.dispose()
    assert [(a.entity, a.entity_id, a.after["version"]) for a in audits] == [("script", "varejo", 1), ("script", "varejo", 2)]
    assert audits[0].user_id == listed["scripts"][0]["versions"][1]["published_by"] is not None

    page = await client.get("/supervisor/roteiros")
    html = await page.text()
    assert page.status == 200 and "Roteiros de negociação" in html and "varejo v2" in html
    assert "Carteira Varejo 2" in html  # the editor opens on the newest version


async def test_invalid_or_mismatched_publish_is_refused_with_its_errors(client: Client) -> None:
    csrf = await _login(client, "sofia")
    broken = BROKEN.replace("id: padrao", "id: varejo", 1)
    resp = await client.post("/api/v1/scripts/varejo/versions", json={"yaml": broken}, headers=csrf)
    assert resp.status == 422
    body = await resp.json()
    assert any(e["step"] == "abertura" and "lugar_nenhum" in e["message"] for e in body["errors"])
    wrong_key = await client.post("/api/v1/scripts/outro/versions", json={"yaml": VAREJO}, headers=csrf)
    assert wrong_key.status == 422 and "outro" in (await wrong_key.json())["error"]["message"]
    assert (await (await client.get("/api/v1/scripts")).json())["scripts"] == []
    page = await (await client.get("/supervisor/roteiros")).text()
    assert "Nenhum roteiro publicado" in page and "id: padrao" in page  # the default script is preloaded


async def test_agents_are_refused(client: Client) -> None:
    csrf = await _login(client, "ana")
    assert (await client.post("/api/v1/scripts/validate", json={"yaml": DEFAULT}, headers=csrf)).status == 403
    assert (await client.post("/api/v1/scripts/padrao/versions", json={"yaml": DEFAULT}, headers=csrf)).status == 403
    assert (await client.get("/api/v1/scripts")).status == 403
    assert (await client.get("/supervisor/roteiros")).status == 403


async def test_campaign_script_needs_a_published_key(client: Client, db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine).begin() as s:
            c = Campaign(name="Carteira Teste", mode=CampaignMode.PROGRESSIVE, dial_template="PJSIP/{number}@t",
                         caller_id="0303", pbx_name="default")
            s.add(c)
            await s.flush()
            cid = c.id
    finally:
        await engine.dispose()
    csrf = await _login(client, "sofia")
    missing = await client.put(f"/api/v1/campaigns/{cid}/script", json={"key": "varejo"}, headers=csrf)
    assert missing.status == 422 and (await missing.json())["error"]["field"] == "key"
    assert (await client.put("/api/v1/campaigns/99999/script", json={"key": None}, headers=csrf)).status == 404
    published = await client.post("/api/v1/scripts/varejo/versions", json={"yaml": VAREJO}, headers=csrf)
    assert published.status == 201
    ok = await client.put(f"/api/v1/campaigns/{cid}/script", json={"key": "varejo"}, headers=csrf)
    assert ok.status == 200 and (await ok.json())["key"] == "varejo"
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as s:
            entry = await s.scalar(select(AuditLog).where(AuditLog.action == "campaign.script"))
            stored = await s.scalar(select(Campaign.script_key).where(Campaign.id == cid))
    finally:
        await engine.dispose()
    assert entry is not None and (entry.entity_id, entry.before, entry.after) == (
        str(cid), {"script_key": None}, {"script_key": "varejo"})
    assert stored == "varejo"


# ------------------------------------------------------------------ a call runs the published script


@pytest.fixture
async def rig(db_url: str) -> AsyncIterator[DeskRig]:
    async with desk_rig(db_url) as r:
        yield r


async def _api(http: aiohttp.ClientSession, method: str, path: str, body: Any) -> dict[str, Any]:
    me = await (await http.get("/api/v1/me")).json()
    resp = await http.request(method, path, json=body, headers={"X-CSRF-Token": me["csrf_token"]})
    assert resp.status in (200, 201), await resp.text()
    answer: dict[str, Any] = await resp.json()
    return answer


async def test_a_campaign_on_a_published_script_runs_its_latest_version(rig: DeskRig) -> None:
    sofia = await WsAgent.log_in(rig.url, "sofia")
    ana = await WsAgent.log_in(rig.url, "ana")
    try:
        await _api(sofia.http, "POST", "/api/v1/scripts/varejo/versions", {"yaml": DEFAULT.replace("id: padrao", "id: varejo")})
        await _api(sofia.http, "POST", "/api/v1/scripts/varejo/versions", {"yaml": VAREJO})
        async with rig.db.begin() as s:
            campaign = await add_campaign(s, running=False)
            await add_lead(s, campaign, "5511987650071", name="Maria Conceição da Silva")
        await _api(sofia.http, "PUT", f"/api/v1/campaigns/{campaign.id}/script", {"key": "varejo"})
        await desk_of(rig.app).runtime.set_campaign_running(campaign.id, True)

        await ana.connect()
        await ana.request({"type": "set_state", "state": "ready"})
        pop = await ana.wait_for(lambda f: f["type"] == "screen_pop", "screen-pop")
        frame = await ana.wait_for(lambda f: f["type"] == "script", "script at the pop")
        assert frame["step_id"] == "abertura" and "Carteira Varejo" in frame["text"]
        runtime = desk_of(rig.app).runtime
        assert runtime is not None
        neg = runtime.session_of(rig.users["ana"], pop["call_id"])
        assert neg is not None and (neg.run.script.id, neg.run.script.version) == ("varejo", 2)
    finally:
        await ana.close()
        await sofia.close()
