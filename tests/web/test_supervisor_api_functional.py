"""Supervisor REST API over a real server and a real SQLite file: segments, boosts, upload, holds, audit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from dialer.leads.hopper import Hopper, PickReason
from storage.engine import create_engine, session_factory
from storage.models import AuditLog, Campaign, CampaignMode, Customer, User
from tests.web.conftest import Clock, log_in, session_csrf

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "portfolios" / "messy_latin1_semicolon.csv"
Client = TestClient[web.Request, web.Application]


async def add_campaign(db_url: str) -> int:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as db:
            campaign = Campaign(name="Cartões", mode=CampaignMode.PROGRESSIVE, dial_template="Local/{number}@x",
                                caller_id="1", pbx_name="sim")
            db.add(campaign)
            await db.commit()
            return campaign.id
    finally:
        await engine.dispose()


async def audit(db_url: str) -> list[tuple[str, str | None, Any, Any, str]]:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as db:
            rows = await db.execute(
                select(AuditLog.action, AuditLog.entity_id, AuditLog.before, AuditLog.after, User.login)
                .join(User, User.id == AuditLog.user_id)
                .where(AuditLog.entity != "login")  # logins are audited too; these tests are about the changes
                .order_by(AuditLog.id)
            )
            return [tuple(r) for r in rows]  # type: ignore[misc]
    finally:
        await engine.dispose()


async def upload(client: Client, token: str, cid: int, *, dry_run: bool = False) -> aiohttp.ClientResponse:
    form = aiohttp.FormData()
    form.add_field("file", FIXTURE.read_bytes(), filename="carteira.csv", content_type="text/csv")
    if dry_run:
        form.add_field("dry_run", "true")
    return await client.post(f"/api/v1/campaigns/{cid}/import", data=form, headers={"X-CSRF-Token": token})


async def test_upload_segments_boosts_and_the_next_pick(client: Client, db_url: str, clock: Clock) -> None:
    cid = await add_campaign(db_url)
    assert (await log_in(client, "sofia")).status == 303
    token = await session_csrf(client)

    dry = await upload(client, token, cid, dry_run=True)
    assert dry.status == 200 and (await dry.json())["dry_run"] is True
    resp = await upload(client, token, cid)
    figures = await resp.json()
    assert resp.status == 200, figures
    assert (figures["imported_customers"], figures["debts"], figures["balance_total"]) == (4, 5, "17680.61")
    assert figures["rejects"][0] == {"linha": 4, "coluna": "cpf", "codigo": "cpf_invalido",
                                     "motivo": "CPF com dígitos verificadores errados: '529.982.247-24'."}
    # the summary `cobra import` prints: not every row accepted, the first rejects with line, column, reason
    assert (figures["all_accepted"], figures["rejected_rows"]) == (False, 7)
    assert figures["first_rejects"][0] == figures["rejects"][0]
    assert figures["summary"].startswith("12 linha(s) lida(s), 5 aceita(s): 4 cliente(s) novo(s), 0 atualizado(s), "
                                         "5 dívida(s). 7 linha(s) rejeitada(s). Primeiras: linha 4, coluna cpf: CPF ")

    body = {"segments": [{"name": "Prioridade", "weight": 90, "filters": {"tags_any": ["prioridade"]}},
                         {"name": "Antigos", "weight": 50, "filters": {"buckets": ["360+"]}}]}
    put = await client.put(f"/api/v1/campaigns/{cid}/segments", json=body, headers={"X-CSRF-Token": token})
    assert put.status == 200, await put.text()
    assert (await put.json())["leads_reranked"] == 4
    got = await (await client.get(f"/api/v1/campaigns/{cid}/segments")).json()
    assert [s["name"] for s in got["segments"]] == ["Prioridade", "Antigos"] and got["boosts"] == {}

    engine = create_engine(db_url)
    try:
        hopper = Hopper(session_factory(engine))
        when = clock.now.replace(year=2026, month=12, day=1, hour=15)  # a Tuesday, 12:00 in São Paulo
        first = await hopper.claim_next(cid, when)
        assert first is not None and first.external_id == "C009" and first.reason is PickReason.SEGMENT
        await hopper.release(first.lead_id, when)
        boost = await client.put(f"/api/v1/campaigns/{cid}/boosts", json={"boosts": {"C011": 500}},
                                 headers={"X-CSRF-Token": token})
        assert boost.status == 200 and (await boost.json())["changed"] == {"C011": 500}
        second = await hopper.claim_next(cid, when)
        assert second is not None and second.external_id == "C011" and second.reason is PickReason.BOOST
    finally:
        await engine.dispose()

    entries = await audit(db_url)
    assert [(e[0], e[4]) for e in entries] == [("portfolio.import", "sofia"), ("portfolio.import", "sofia"),
                                               ("segments.replace", "sofia"), ("boosts.set", "sofia")]
    # both imports, the dry run too: who, through which door, which file, the figures
    for entry, dry_run in zip(entries[:2], (True, False), strict=True):
        after = entry[3]
        assert (after["source"], after["by"], after["file"], after["dry_run"]) == ("api", "web:sofia", "carteira.csv",
                                                                                   dry_run)
        assert (after["rows"], after["rejected_rows"], after["debts"]) == (12, 7, 5)
    entries = entries[1:]
    assert entries[1][2] == {"segments": []} and entries[1][3]["segments"][1]["filters"] == {"buckets": ["360+"]}
    assert (entries[2][2], entries[2][3]) == ({"C011": 0}, {"C011": 500})


async def test_errors_name_the_field_and_roles_are_enforced(client: Client, db_url: str) -> None:
    cid = await add_campaign(db_url)
    await log_in(client, "sofia")
    token = await session_csrf(client)
    headers = {"X-CSRF-Token": token}
    bad = await client.put(f"/api/v1/campaigns/{cid}/segments", headers=headers, json={
        "segments": [{"name": "A", "weight": 10, "filters": {"buckets": ["1-31"]}}, {"name": "B", "weight": 5000}]})
    assert bad.status == 422
    error = (await bad.json())["error"]
    assert (error["code"], error["field"]) == ("invalid", "segments[1].weight")
    assert error["message"] == "segments[1].weight: deve ser no máximo 1000"
    bad = await client.put(f"/api/v1/campaigns/{cid}/segments", headers=headers, json={
        "segments": [{"name": "A", "weight": 10, "filters": {"buckets": ["1-31"]}}]})
    assert (await bad.json())["error"] == {
        "code": "invalid", "field": "segments[0].filters.buckets",
        "message": "segments[0].filters.buckets: unknown bucket '1-31'; use a vencer, 1-30, 31-60, 61-90, 91-180, "
                   "181-360, 360+"}
    unknown = await client.put(f"/api/v1/campaigns/{cid}/boosts", headers=headers, json={"boosts": {"X9": 10}})
    assert unknown.status == 422 and (await unknown.json())["error"]["field"] == "boosts.X9"
    assert (await client.get("/api/v1/campaigns/999/segments")).status == 404
    no_csrf = await client.put(f"/api/v1/campaigns/{cid}/boosts", json={"boosts": {"X9": 10}})
    assert no_csrf.status == 403
    not_multipart = await client.post(f"/api/v1/campaigns/{cid}/import", headers=headers, json={})
    assert not_multipart.status == 415
    await client.post("/logout", headers=headers)
    await log_in(client, "ana")  # an agent
    agent_token = await session_csrf(client)
    refused = await client.put(f"/api/v1/campaigns/{cid}/segments", json={"segments": []},
                               headers={"X-CSRF-Token": agent_token})
    assert refused.status == 403


async def test_holds_set_and_release_with_audit(client: Client, db_url: str) -> None:
    cid = await add_campaign(db_url)
    await log_in(client, "root")
    token = await session_csrf(client)
    headers = {"X-CSRF-Token": token}
    assert (await upload(client, token, cid)).status == 200
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as db:
            customer_id = await db.scalar(select(Customer.id).where(Customer.external_id == "C001"))
    finally:
        await engine.dispose()
    bad = await client.post(f"/api/v1/customers/{customer_id}/holds", headers=headers,
                            json={"kind": "ferias", "reason": "x"})
    assert bad.status == 422 and (await bad.json())["error"]["field"] == "kind"
    created = await client.post(f"/api/v1/customers/{customer_id}/holds", headers=headers,
                                json={"kind": "lawyer", "reason": "Advogado constituído"})
    hold = await created.json()
    assert created.status == 201 and hold["kind"] == "lawyer" and hold["released_at"] is None
    released = await client.delete(f"/api/v1/customers/{customer_id}/holds/{hold['id']}", headers=headers)
    assert released.status == 200 and (await released.json())["released_at"] is not None
    again = await client.delete(f"/api/v1/customers/{customer_id}/holds/{hold['id']}", headers=headers)
    assert again.status == 409
    missing = await client.post("/api/v1/customers/999999/holds", headers=headers, json={"kind": "lawyer", "reason": "x"})
    assert missing.status == 404
    actions = [e[0] for e in await audit(db_url)]
    assert actions == ["portfolio.import", "hold.set", "hold.release"]
