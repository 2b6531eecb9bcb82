"""Quality monitoring over the real server and a real SQLite file: records, detail, CSV, reviews, scorecards, queue."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from dialer.qa.services import flag_call
from storage.engine import create_engine, session_factory
from storage.models import AuditLog, CallAttempt, CallFlag
from storage.repositories import audit
from tests.web.conftest import Clock, log_in, session_csrf
from tests.web.qa_data import Seeded, seed_calls
from web.qa.services import RESULT_LABELS

Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def seeded(app: web.Application, db_url: str, clock: Clock) -> Seeded:
    s = await seed_calls(db_url, clock.now)
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as db:
            for call_id in s.calls:
                await flag_call(db, call_id, short_call_s=30, at=clock.now)
            await db.commit()
    finally:
        await engine.dispose()
    return s


async def _get(client: Client, path: str, **params: str) -> tuple[int, Any]:
    resp = await client.get(path, params=params)
    return resp.status, await resp.json()


async def test_an_agent_gets_403_and_qa_lists_calls_newest_first(client: Client, seeded: Seeded) -> None:
    await log_in(client, "ana")
    for path in ("/api/v1/calls", "/api/v1/calls.csv", f"/api/v1/calls/{seeded.calls[0]}", "/api/v1/qa/queue",
                 "/api/v1/scorecards", "/api/v1/qa/ranking", "/monitoria", "/monitoria/fila"):
        assert (await client.get(path)).status == 403, path
    client.session.cookie_jar.clear()
    await log_in(client, "quito")
    status, body = await _get(client, "/api/v1/calls")
    assert status == 200
    assert [i["id"] for i in body["items"]] == seeded.calls
    assert body["next"] is None
    first = body["items"][0]
    assert first["agent"] == "ana" and first["outcome"] == "ACORDO" and first["campaign"]["name"] == "Carteira A"
    assert first["customer"] == "Maria S." and first["phone"] == "(11) *****-4321"
    assert first["talk_s"] == 300 and first["amount"] == "2100.00"
    assert first["recording"] == f"/api/v1/calls/{seeded.calls[0]}/recording"
    assert first["reviewed"] is False and first["flags"] == ["desconto_sem_aprovacao"]
    assert body["items"][3]["recording"] is None


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"outcome": "PROMESSA"}, ["promessa"]),
        ({"agent": "ana", "outcome": "CONTESTA"}, ["contesta"]),
        ({"agent": "ninguem"}, []),
        ({"min_amount": "1000", "max_amount": "1300"}, ["promessa"]),
        ({"min_amount": "2000,00"}, ["acordo"]),
        ({"max_talk": "29"}, ["curta"]),
        ({"flagged": "true"}, ["acordo", "promessa", "curta"]),
    ],
)
async def test_each_filter_narrows_the_records(
    client: Client, seeded: Seeded, params: dict[str, str], expected: list[str]
) -> None:
    await log_in(client, "quito")
    status, body = await _get(client, "/api/v1/calls", **params)
    assert status == 200, body
    assert [i["id"] for i in body["items"]] == [seeded.by_name[n] for n in expected]


async def test_campaign_result_date_and_talk_filters(client: Client, seeded: Seeded, clock: Clock) -> None:
    await log_in(client, "quito")
    _, body = await _get(client, "/api/v1/calls", campaign=str(seeded.other_campaign_id))
    assert [i["id"] for i in body["items"]] == [seeded.calls[5]]
    _, body = await _get(client, "/api/v1/calls", result="busy")
    assert [i["id"] for i in body["items"]] == [seeded.calls[7]]
    today = clock.now.date().isoformat()  # 12:00 UTC = 09:00 in Brasília: the same day
    _, body = await _get(client, "/api/v1/calls", **{"from": today, "to": today})
    assert [i["id"] for i in body["items"]] == seeded.calls[:5]
    _, body = await _get(client, "/api/v1/calls", min_talk="100", max_talk="250")
    assert [i["id"] for i in body["items"]] == [seeded.calls[1]]
    _, body = await _get(client, "/api/v1/calls", flagged="false", reviewed="false", outcome="CONTESTA")
    assert [i["id"] for i in body["items"]] == [seeded.calls[4]]


async def test_the_cursor_walks_every_record_once(client: Client, seeded: Seeded) -> None:
    await log_in(client, "quito")
    seen: list[str] = []
    params = {"limit": "3"}
    pages = 0
    while True:
        status, body = await _get(client, "/api/v1/calls", **params)
        assert status == 200
        seen += [i["id"] for i in body["items"]]
        pages += 1
        if body["next"] is None:
            break
        params = {"limit": "3", "cursor": body["next"]}
    assert seen == seeded.calls and pages == 3


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-13-01"}, "from"),
        ({"from": "2026-03-02", "to": "2026-03-01"}, "to"),
        ({"outcome": "NADA"}, "outcome"),
        ({"result": "x"}, "result"),
        ({"campaign": "abc"}, "campaign"),
        ({"min_talk": "-1"}, "min_talk"),
        ({"min_amount": "dez"}, "min_amount"),
        ({"flagged": "talvez"}, "flagged"),
        ({"cursor": "bm90IGEgY3Vyc29y"}, "cursor"),
        ({"limit": "1000"}, "limit"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_a_bad_filter_is_422_naming_it(client: Client, seeded: Seeded, params: dict[str, str], field: str) -> None:
    await log_in(client, "quito")
    status, body = await _get(client, "/api/v1/calls", **params)
    assert status == 422 and body["error"]["field"] == field, body


async def test_the_detail_has_timeline_script_run_and_negotiation(client: Client, seeded: Seeded) -> None:
    await log_in(client, "sofia")
    status, d = await _get(client, f"/api/v1/calls/{seeded.by_name['acordo']}")
    assert status == 200
    assert [e["kind"] for e in d["timeline"]] == ["created", "originate", "ring", "answer", "connect", "hangup", ]
    hangup = d["timeline"][-1]
    assert hangup["cause"] == 16 and hangup["side"] == "customer" and "pelo cliente" in hangup["label"]
    assert d["amd"] == {"status": "HUMAN", "cause": "HUMAN-1-1"}
    assert d["identity"]["seconds_after_connect"] == 20.0
    assert d["identity"]["status"] == "confirmada" and d["identity"]["override_reason"] is None
    assert [s["step_id"] for s in d["script_run"]["steps"]] == ["saudacao", "motivo"]
    assert d["script_run"]["captures"] == {"motivo": "desemprego"}
    assert d["agreement"]["total"] == "2100.00" and d["agreement"]["discount_pct"] == "40.00"
    assert d["outcome"]["notes"].startswith("Cliente pediu boleto")
    assert [f["code"] for f in d["flags"]] == ["desconto_sem_aprovacao"]
    status, body = await _get(client, "/api/v1/calls/" + "f" * 32)
    assert status == 404 and body["error"]["field"] == "call_id"
    status, body = await _get(client, "/api/v1/calls/123")
    assert status == 422 and body["error"]["field"] == "call_id"


async def test_a_call_still_on_offers_no_recording_link(client: Client, seeded: Seeded, db_url: str, clock: Clock) -> None:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine).begin() as db:
            done = await db.get(CallAttempt, seeded.by_name["acordo"])
            assert done is not None
            # talking now: MixMonitor runs, the file is written when the channel goes
            on = CallAttempt(id="e" * 32, campaign_id=done.campaign_id, customer_id=done.customer_id, agent_id=done.agent_id,
                             mode=done.mode, number=done.number, created_at=clock.now, originated_at=clock.now,
                             answered_at=clock.now, connected_at=clock.now, result="connected",
                             recording_path="/var/spool/asterisk/monitor/x.wav")
            db.add(on)
    finally:
        await engine.dispose()
    await log_in(client, "quito")
    _, page = await _get(client, "/api/v1/calls")
    items = {i["id"]: i for i in page["items"]}
    assert items["e" * 32]["recording"] is None
    assert items[seeded.by_name["acordo"]]["recording"] == f"/api/v1/calls/{seeded.by_name['acordo']}/recording"
    _, detail = await _get(client, "/api/v1/calls/" + "e" * 32)
    assert detail["recording"] is None
    rows = (await (await client.get("/api/v1/calls.csv")).read()).decode("utf-8-sig").split("\r\n")
    [on_row] = [r.split(";") for r in rows if r.startswith("e" * 32)]
    assert on_row[12] == ""


async def test_an_identity_released_by_override_is_not_read_as_verified(
    client: Client, seeded: Seeded, db_url: str
) -> None:
    call_id = seeded.by_name["acordo"]
    reason = "Titular sem data de nascimento no cadastro; confirmou o endereço"
    engine = create_engine(db_url)
    try:
        async with session_factory(engine).begin() as db:
            # what web.agent.http writes when the agent releases the identity without a match
            await audit.record(db, user_id=None, action="identity_override", entity="call_attempt", entity_id=call_id,
                               after={"customer_id": 1, "reason": reason, "failed_attempts": 1})
    finally:
        await engine.dispose()
    await log_in(client, "quito")
    status, d = await _get(client, f"/api/v1/calls/{call_id}")
    assert status == 200
    assert d["identity"]["status"] == "liberada_sem_verificacao" and d["identity"]["override_reason"] == reason
    assert d["identity"]["seconds_after_connect"] == 20.0
    page = await (await client.get(f"/monitoria/chamadas/{call_id}")).text()
    identity = page.split('data-testid="identity">', 1)[1].split("</dd>", 1)[0]
    assert "liberada sem verificação" in identity and "confirmada" not in identity
    assert "Titular sem data de nascimento no cadastro; confirmou o endereço" in identity
    # another call, verified by a match, still says so
    other = await (await client.get(f"/monitoria/chamadas/{seeded.by_name['promessa']}")).text()
    assert "liberada sem verificação" not in other


async def test_csv_export_has_bom_semicolons_brazilian_amounts_and_is_audited(
    client: Client, seeded: Seeded, db_url: str
) -> None:
    await log_in(client, "quito")
    resp = await client.get("/api/v1/calls.csv", params={"outcome": "PROMESSA"})
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/csv")
    raw = await resp.read()
    assert raw.startswith("\ufeff".encode())
    lines = raw.decode("utf-8-sig").split("\r\n")
    assert lines[0].split(";")[:4] == ["id", "inicio", "operador", "campanha"]
    row = lines[1].split(";")
    assert row[0] == seeded.by_name["promessa"] and row[1] == "02/03/2026 08:50:00"  # 11:50 UTC in Brasília
    assert row[6] == "Conectada"  # the pages' pt-BR label, not the stored code
    assert row[7] == "PROMESSA" and row[8] == "200" and row[9] == "1234,56" and row[10] == "sim"
    assert row[4] == "Maria S." and row[5] == "(11) *****-4321" and row[12] == f"/api/v1/calls/{row[0]}/recording"
    assert lines[2] == ""
    # a note with ';' never reaches the CSV unquoted; the full export has every call
    full = (await (await client.get("/api/v1/calls.csv")).read()).decode("utf-8-sig").split("\r\n")
    assert len(full) == 1 + len(seeded.calls) + 1
    assert all(len(line.split(";")) == 13 for line in full if line)
    assert {line.split(";")[6] for line in full[1:] if line} <= {*RESULT_LABELS.values(), ""}
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as db:
            entries = (await db.execute(select(AuditLog).where(AuditLog.action == "calls_exported"))).scalars().all()
    finally:
        await engine.dispose()
    assert [e.after["rows"] for e in entries] == [1, 8]  # type: ignore[index]
    assert entries[0].after["filters"] == {"outcome": "PROMESSA"}  # type: ignore[index]


async def test_a_review_scores_zeroes_on_a_critical_item_and_reaches_the_agent(
    client: Client, seeded: Seeded, db_url: str
) -> None:
    await log_in(client, "quito")
    csrf = await session_csrf(client)
    call_id = seeded.by_name["acordo"]
    answers: dict[str, bool | None] = {
        "identificou": True, "gravacao": True, "identidade": True, "divida_clara": False,
        "sem_constrangimento": True, "oferta_politica": None, "confirmou_acordo": True,  # 70 of the 85 that apply
    }
    resp = await client.post(f"/api/v1/calls/{call_id}/reviews", json={"answers": answers, "feedback": "Bom trabalho"},
                             headers={"X-CSRF-Token": csrf})
    assert resp.status == 201, await resp.text()
    review = await resp.json()
    assert review["score"] == "82.35" and review["zeroed"] is False and review["reviewer"] == "quito"
    answers.update(oferta_politica=True, confirmou_acordo=False, sem_constrangimento=False)  # 75, but critical
    resp = await client.post(f"/api/v1/calls/{call_id}/reviews", json={"answers": answers},
                             headers={"X-CSRF-Token": csrf})
    assert (await resp.json())["score"] == "0.00"
    resp = await client.post(f"/api/v1/calls/{call_id}/reviews", json={"answers": {"identificou": True}},
                             headers={"X-CSRF-Token": csrf})
    assert resp.status == 422 and (await resp.json())["error"]["field"] == "answers.gravacao"
    resp = await client.post(f"/api/v1/calls/{call_id}/reviews", json={"answers": answers})
    assert resp.status == 403  # no CSRF token
    status, body = await _get(client, "/api/v1/calls", reviewed="true")
    assert [i["id"] for i in body["items"]] == [call_id]
    status, rank = await _get(client, "/api/v1/qa/ranking")
    assert rank["items"] == [{"position": 1, "agent": "ana", "name": "Ana Souza", "reviews": 2, "average": "41.18",
                              "zeroed": 1}]
    client.session.cookie_jar.clear()
    await log_in(client, "ana")
    status, mine = await _get(client, "/api/v1/me/reviews")
    assert status == 200
    assert [r["score"] for r in mine["items"]] == ["0.00", "82.35"]
    assert mine["items"][1]["feedback"] == "Bom trabalho"
    resp = await client.post(f"/api/v1/calls/{call_id}/reviews", json={"answers": answers},
                             headers={"X-CSRF-Token": await session_csrf(client)})
    assert resp.status == 403
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as db:
            audited = (await db.execute(select(AuditLog).where(AuditLog.action == "call_reviewed"))).scalars().all()
    finally:
        await engine.dispose()
    assert [(a.entity_id, a.after["score"]) for a in audited] == [(call_id, "82.35"), (call_id, "0.00")]  # type: ignore[index]


async def test_scorecards_are_edited_and_validated(client: Client, seeded: Seeded) -> None:
    await log_in(client, "quito")
    csrf = {"X-CSRF-Token": await session_csrf(client)}
    _, cards = await _get(client, "/api/v1/scorecards")
    assert [c["key"] for c in cards["items"]] == ["cobranca"] and len(cards["items"][0]["items"]) == 7
    body = {"name": "Ficha curta", "items": [{"key": "educado", "label": "Foi educado", "weight": 3, "critical": True},
                                             {"key": "claro", "label": "Foi claro", "weight": 1}]}
    resp = await client.put("/api/v1/scorecards/curta", json=body, headers=csrf)
    assert resp.status == 200
    _, card = await _get(client, "/api/v1/scorecards/curta")
    assert card["name"] == "Ficha curta" and [i["key"] for i in card["items"]] == ["educado", "claro"]
    resp = await client.post(f"/api/v1/calls/{seeded.calls[1]}/reviews", headers=csrf,
                             json={"scorecard": "curta", "answers": {"educado": True, "claro": False}})
    assert (await resp.json())["score"] == "75.00"
    body["items"][1]["key"] = "educado"
    resp = await client.put("/api/v1/scorecards/curta", json=body, headers=csrf)
    assert resp.status == 422 and (await resp.json())["error"]["field"] == "items[1].key"
    resp = await client.put("/api/v1/scorecards/curta", json={"name": "x", "items": []}, headers=csrf)
    assert resp.status == 422 and (await resp.json())["error"]["field"] == "items"
    resp = await client.put("/api/v1/scorecards/Bad-Key", json=body, headers=csrf)
    assert resp.status == 422 and (await resp.json())["error"]["field"] == "key"
    assert (await client.get("/api/v1/scorecards/nenhuma")).status == 404


async def test_the_queue_lists_risky_calls_and_the_weekly_sample(client: Client, seeded: Seeded) -> None:
    await log_in(client, "quito")
    status, queue = await _get(client, "/api/v1/qa/queue")
    assert status == 200
    reasons = {i["id"]: i["reasons"] for i in queue["items"]}
    assert reasons[seeded.by_name["acordo"]][:2] == ["sinalizada", "acordo_alto"]
    assert "contestacao" in reasons[seeded.by_name["contesta"]]
    assert "sinalizada" in reasons[seeded.by_name["curta"]]
    sampled = [i for i, r in reasons.items() if "amostra" in r]
    assert len(sampled) == 2  # [qa] sample_per_agent_week: one agent, two calls
    again = (await _get(client, "/api/v1/qa/queue"))[1]
    assert [i["id"] for i in again["items"]] == [i["id"] for i in queue["items"]]  # the same picks all week
    page = await client.get("/monitoria/fila")
    assert page.status == 200 and "Fila de revisão" in await page.text()


async def test_flags_are_recomputed_from_the_data(seeded: Seeded, db_url: str, clock: Clock) -> None:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as db:
            rows = (await db.execute(select(CallFlag.attempt_id, CallFlag.code).order_by(CallFlag.code))).all()
            flags = {(seeded_name, code) for seeded_name, call_id in seeded.by_name.items()
                     for attempt_id, code in rows if attempt_id == call_id}
            assert flags == {
                ("acordo", "desconto_sem_aprovacao"),
                ("promessa", "divida_antes_identidade"),
                ("promessa", "promessa_acima_saldo"),
                ("curta", "chamada_curta"),
            }
            # a stricter rule later: recomputing replaces, never duplicates
            assert await flag_call(db, seeded.by_name["contesta"], short_call_s=100, at=clock.now)
            assert not await flag_call(db, seeded.by_name["contesta"], short_call_s=30, at=clock.now)
            await db.commit()
    finally:
        await engine.dispose()


async def test_pages_render_for_reviewers(client: Client, seeded: Seeded) -> None:
    await log_in(client, "quito")
    for path in ("/monitoria", "/monitoria/ficha", f"/monitoria/chamadas/{seeded.by_name['acordo']}"):
        resp = await client.get(path)
        assert resp.status == 200, path
    html = await (await client.get(f"/monitoria/chamadas/{seeded.by_name['acordo']}")).text()
    assert f'<audio controls preload="none" src="/api/v1/calls/{seeded.by_name["acordo"]}/recording"' in html
    assert "Desconto acima da alçada sem aprovação" in html and "R$ 2.100,00" in html
    assert (await client.get("/monitoria/chamadas/" + "0" * 32)).status == 404
