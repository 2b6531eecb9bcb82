"""The régua over HTTP: the supervisor page and its forms, the API, the gateway's replies
(opt-out), the one-click satisfaction link, the agency export."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select, update

from dialer.regua.daily import next_run_at
from storage.engine import create_engine, session_factory
from storage.models import (
    AuditLog,
    Lead,
    LeadState,
    OutboxMessage,
    OutboxStatus,
    SatisfactionSurvey,
)
from tests.regua.portfolio import Portfolio, seed
from tests.web.conftest import FAST_HASHER, Clock, form_token, log_in, session_csrf
from web.app import create_app
from web.auth.settings import Auth, AuthSettings
from web.config import Config, DatabaseConfig, ReguaConfig, SmtpConfig
from web.demo.smtp_sink import SmtpSink
from web.regua.state import REGUA

Client = TestClient[web.Request, web.Application]
SECRET = "segredo-do-gateway"


@pytest.fixture
def config(db_url: str) -> Config:
    regua = ReguaConfig.model_validate({"inbound_secret": SECRET, "link_secret": "chave-dos-links",
                                        "public_url": "https://cobra.example.com.br"})
    return Config(database=DatabaseConfig.model_validate({"url": db_url}), regua=regua)


async def _seed(db_url: str) -> Portfolio:
    engine = create_engine(db_url)
    try:
        return await seed(session_factory(engine))
    finally:
        await engine.dispose()


async def _messages(db_url: str) -> list[OutboxMessage]:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as db:
            return list((await db.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars())
    finally:
        await engine.dispose()


def _at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour + 3, tzinfo=UTC)  # hour:00 in Brasília


async def test_only_managers_open_the_page_and_it_previews_tomorrow(client: Client, clock: Clock, db_url: str) -> None:
    await _seed(db_url)
    clock.now = _at(date(2026, 3, 10))
    await log_in(client, "ana")
    assert (await client.get("/supervisor/regua")).status == 403
    await client.post("/logout", data={"csrf_token": await session_csrf(client)})
    await log_in(client, "sofia")
    page = await client.get("/supervisor/regua")
    assert page.status == 200
    html = await page.text()
    assert "Quem recebe o quê em 11/03/2026" in html
    assert re.search(r"D\+1 Aviso de atraso</td><td>SMS</td><td>2</td>", html)  # Ana, and Bruno caught up
    preview = await (await client.get("/api/v1/regua/preview")).json()
    assert preview["date"] == "2026-03-11"
    assert {s["key"]: s["count"] for s in preview["steps"]}["aviso-d1"] == 2
    bad = await client.get("/api/v1/regua/preview?date=11/03")
    assert bad.status == 422 and (await bad.json())["error"]["field"] == "date"


async def test_run_outbox_failure_reason_and_the_retry_button(client: Client, clock: Clock, db_url: str) -> None:
    await _seed(db_url)
    clock.now = _at(date(2026, 3, 11))
    await log_in(client, "sofia")
    token = await session_csrf(client)
    run = await client.post("/api/v1/regua/run", json={"date": "2026-03-11"}, headers={"X-CSRF-Token": token})
    assert run.status == 200 and (await run.json())["messages"] == 2
    again = await client.post("/api/v1/regua/run", json={"date": "2026-03-11"}, headers={"X-CSRF-Token": token})
    assert (await again.json())["decided"] == 0
    first = (await _messages(db_url))[0]
    engine = create_engine(db_url)
    try:
        async with session_factory(engine).begin() as db:
            await db.execute(update(OutboxMessage).where(OutboxMessage.id == first.id).values(
                status=OutboxStatus.FAILED, attempts=6, last_error="gateway HTTP 503: indisponível"))
    finally:
        await engine.dispose()
    page = await client.get("/supervisor/regua?situacao=failed")
    html = await page.text()
    assert "gateway HTTP 503: indisponível" in html and "Reenviar" in html
    retry = await client.post(f"/supervisor/regua/mensagens/{first.id}/reenviar", data={"csrf_token": form_token(html)},
                              allow_redirects=False)
    assert retry.status == 303 and "aviso=" in retry.headers["Location"]
    assert (await _messages(db_url))[0].status is OutboxStatus.QUEUED
    twice = await client.post(f"/api/v1/regua/outbox/{first.id}/retry", headers={"X-CSRF-Token": token})
    assert twice.status == 409
    listed = await (await client.get("/api/v1/regua/outbox?status=queued")).json()
    assert listed["counts"]["queued"] == 2 and len(listed["items"]) == 2


async def test_a_reply_keyword_from_the_gateway_stops_the_channel(client: Client, clock: Clock, db_url: str) -> None:
    p = await _seed(db_url)
    clock.now = _at(date(2026, 3, 10))
    reply = {"channel": "sms", "from": "+5511987654321", "text": " Sair! "}
    assert (await client.post("/api/v1/regua/inbound", json=reply)).status == 403
    assert (await client.post("/api/v1/regua/inbound", json=reply, headers={"X-Cobra-Secret": "x"})).status == 403
    chat = await client.post("/api/v1/regua/inbound", json={**reply, "text": "quanto devo?"},
                             headers={"X-Cobra-Secret": SECRET})
    assert await chat.json() == {"keyword": False, "opted_out": 0}
    stop = await client.post("/api/v1/regua/inbound", json=reply, headers={"X-Cobra-Secret": SECRET})
    assert await stop.json() == {"keyword": True, "opted_out": 1}
    await log_in(client, "sofia")
    preview = await (await client.get("/api/v1/regua/preview?date=2026-03-11")).json()
    assert [i["name"] for i in preview["items"] if i["rule"] == "aviso-d1"] == ["Bruno Lima"]
    assert {"rule": "aviso-d1", "reason": "canal bloqueado pelo cliente", "count": 1} in preview["skipped"]
    # a supervisor stops e-mail for Carla by CPF, and resumes it
    token = await session_csrf(client)
    body = {"customer": "123.456.789-09", "channel": "email", "reason": "pediu por telefone"}
    added = await client.post("/api/v1/regua/opt-outs", json=body, headers={"X-CSRF-Token": token})
    assert added.status == 201 and (await added.json())["customer_id"] == p.carla
    html = await (await client.get("/supervisor/regua")).text()
    assert "Carla Dias: e-mail (supervisão: pediu por telefone)" in html
    resumed = await client.delete("/api/v1/regua/opt-outs", json=body, headers={"X-CSRF-Token": token})
    assert (await resumed.json())["changed"] is True
    missing = await client.post("/api/v1/regua/opt-outs", json={**body, "customer": "nobody"}, headers={"X-CSRF-Token": token})
    assert missing.status == 404 and (await missing.json())["error"]["field"] == "customer"


async def test_the_satisfaction_link_stores_one_rating(client: Client, clock: Clock, db_url: str) -> None:
    p = await _seed(db_url)
    clock.now = _at(date(2026, 2, 21))  # the day after Davi's agreement
    await log_in(client, "sofia")
    html = await (await client.get("/supervisor/regua")).text()
    form = {"csrf_token": form_token(html), "enabled": "on", "name": "Pesquisa de satisfação", "offset_days": "1",
            "subject": "Como foi o seu atendimento?", "body": "Nota de 1 a 5: {{ link_avaliacao }}"}
    saved = await client.post("/supervisor/regua/passos/satisfacao", data=form, allow_redirects=False)
    assert saved.status == 303 and "aviso=" in saved.headers["Location"]
    token = await session_csrf(client)
    run = await client.post("/api/v1/regua/run", json={}, headers={"X-CSRF-Token": token})
    assert (await run.json())["per_rule"] == {"satisfacao": 1}
    [message] = [m for m in await _messages(db_url) if m.recipient == "davi@example.com"]
    link = re.search(r"https://cobra\.example\.com\.br(/avaliacao/[0-9a-f.]+)", message.body)
    assert link is not None
    await client.post("/logout", data={"csrf_token": token})  # the customer has no session
    page = await client.get(link.group(1))
    assert page.status == 200 and "Como foi o seu atendimento?" in await page.text()
    rated = await client.post(link.group(1), data={"nota": "4"})
    assert "Recebemos a sua nota: 4 de 5." in await rated.text()
    again = await client.post(link.group(1), data={"nota": "1"})
    assert "já avaliou este atendimento com nota 4" in await again.text()
    assert (await client.post(link.group(1), data={"nota": "9"})).status == 422
    forged = link.group(1)[:-3] + ("000" if not link.group(1).endswith("000") else "111")
    assert (await client.get(forged)).status == 404
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as db:
            survey = (await db.execute(select(SatisfactionSurvey))).scalar_one()
            assert (survey.agreement_id, survey.rating) == (p.agreement, 4)
    finally:
        await engine.dispose()


async def test_a_hand_off_leaves_the_dialer_and_is_exported(client: Client, clock: Clock, db_url: str) -> None:
    p = await _seed(db_url)
    day = date(2026, 3, 10) + timedelta(days=90)  # Ana's D+90
    clock.now = _at(day)
    await log_in(client, "sofia")
    token = await session_csrf(client)
    report = await (await client.post("/api/v1/regua/run", json={}, headers={"X-CSRF-Token": token})).json()
    assert report["handed_off"] == 2  # Ana on the day, Bruno (D+90 on 05/06) caught up
    html = await (await client.get("/supervisor/regua")).text()
    assert "Assessoria Parceira" in html
    csv_response = await client.get("/supervisor/regua/assessorias/exportar?nome=Assessoria%20Parceira")
    assert csv_response.status == 200 and csv_response.content_type == "text/csv"
    text = (await csv_response.read()).decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0].startswith("id_externo;nome;cpf")
    assert len(lines) == 3
    assert any(line.startswith("ana;Ana Souza;52998224725;ana@example.com;SP;+5511987654321;CT-ANA;Banco Exemplo;"
                               "500,00;10/03/2026") for line in lines)
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as db:
            lead = (await db.execute(select(Lead).where(Lead.customer_id == p.ana))).scalar_one()
            assert (lead.state, lead.last_result) == (LeadState.STOPPED, "TERCEIRIZADO")  # out of the dialer
    finally:
        await engine.dispose()
    new_only = await client.get("/supervisor/regua/assessorias/exportar?nome=Assessoria%20Parceira&novas=1")
    assert len((await new_only.read()).decode("utf-8-sig").splitlines()) == 1  # exported already: header only


async def test_with_the_regua_enabled_the_service_catches_up_at_start_and_sends(
    aiohttp_client: Any, clock: Clock, db_url: str
) -> None:
    await _seed(db_url)
    clock.now = _at(date(2026, 3, 5))  # Ana's D-5 reminder is due today
    async with SmtpSink(port=0) as sink:
        regua = ReguaConfig.model_validate({"enabled": True, "send_poll_s": 0.05, "run_at": "07:00"})
        smtp = SmtpConfig.model_validate({"host": "127.0.0.1", "port": sink.port, "from_address": "c@cobra.test"})
        config = Config(database=DatabaseConfig.model_validate({"url": db_url}), regua=regua, smtp=smtp)
        app = create_app(config, auth=Auth(settings=AuthSettings(), hasher=FAST_HASHER), clock=clock)
        await aiohttp_client(app)  # starts the app: the daily run's start-up catch-up, then the sender
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 20
        runtime = app[REGUA]
        assert runtime.daily is not None
        # the sender may deliver a committed message before the run (short transactions) stores its report
        while not sink.mails or runtime.daily.last is None:
            assert loop.time() < deadline, "the start-up run's e-mail never arrived"
            await asyncio.sleep(0.05)
        assert runtime.daily.last is not None
        assert runtime.daily.last.per_rule["lembrete-d-5"] == 1
    assert [m.rcpt_to for m in sink.mails] == [("ana@example.com",)]


def test_the_daily_run_is_next_at_run_at_in_brasilia() -> None:
    run_at = time(7)
    assert next_run_at(datetime(2026, 3, 5, 9, 59, tzinfo=UTC), run_at) == datetime(2026, 3, 5, 10, 0, tzinfo=UTC)
    assert next_run_at(datetime(2026, 3, 5, 10, 0, tzinfo=UTC), run_at) == datetime(2026, 3, 6, 10, 0, tzinfo=UTC)


async def test_a_supervisor_narrows_a_step_on_the_page(client: Client, clock: Clock, db_url: str) -> None:
    await _seed(db_url)
    clock.now = _at(date(2026, 3, 10))
    await log_in(client, "sofia")
    html = await (await client.get("/supervisor/regua")).text()
    form = {"csrf_token": form_token(html), "enabled": "on", "name": "Aviso de atraso", "offset_days": "1",
            "body": "Olá {{ cliente.primeiro_nome }}", "buckets": "1-30", "creditors": "",
            "campaigns": "Carteira régua", "min_balance": "1.000,00",
            "max_balance": "", "tags_any": "", "tags_none": ""}
    saved = await client.post("/supervisor/regua/passos/aviso-d1", data=form, allow_redirects=False)
    assert saved.status == 303 and "aviso=" in saved.headers["Location"]
    preview = await (await client.get("/api/v1/regua/preview?date=2026-03-11")).json()
    assert [i["name"] for i in preview["items"] if i["rule"] == "aviso-d1"] == ["Bruno Lima"]  # R$ 1.200,00; Ana R$ 500
    rules = {r["key"]: r for r in (await (await client.get("/api/v1/regua/rules")).json())["rules"]}
    assert rules["aviso-d1"]["conditions"]["min_balance"] == "1000.00"
    assert rules["aviso-d1"]["form"]["min_balance"] == "1.000,00"
    assert rules["aviso-d1"]["conditions"]["campaigns"] == ["Carteira régua"]
    bad = await client.post("/supervisor/regua/passos/aviso-d1", data={**form, "body": "{{ nada }}"},
                            allow_redirects=False)
    assert "erro=" in bad.headers["Location"]
    page = await client.get(bad.headers["Location"])
    assert "modelo inválido" in await page.text()
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as db:
            entries = (await db.execute(select(AuditLog).where(AuditLog.action == "regua.rules"))).scalars().all()
    finally:
        await engine.dispose()
    assert len(entries) == 1 and entries[0].user_id is not None  # who changed the step, before and after
    assert entries[0].before is not None and entries[0].after is not None
