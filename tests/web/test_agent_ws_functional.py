"""The agent websocket end to end: real aiohttp server, real websocket clients, the simulator over
TCP (through the real AMI gateway and dialer runtime) and a real SQLite file."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import date, timedelta
from decimal import Decimal

import aiohttp
import pytest
from sqlalchemy import select

from storage.models import AuditLog, CallAttempt, CallResult, Lead, Outcome, OutcomeCode
from tests.dialer.runtime_support import add_campaign, add_lead, eventually
from tests.web.agent_rig import DeskRig, WsAgent, desk_of, desk_rig, scenario

PROMISE_DATE = (date.today() + timedelta(days=5)).isoformat()


async def _leads(rig: DeskRig, *numbers: str) -> None:
    async with rig.db.begin() as s:
        campaign = await add_campaign(s, running=False)
        for number in numbers:
            await add_lead(s, campaign, number, name="Maria Conceição da Silva")
    # the running dialer learns of a campaign created after it started when it is switched on
    await desk_of(rig.app).runtime.set_campaign_running(campaign.id, True)


@pytest.fixture
async def rig(db_url: str) -> AsyncIterator[DeskRig]:
    async with desk_rig(db_url) as r:
        yield r


@pytest.fixture
async def ana(rig: DeskRig) -> AsyncIterator[WsAgent]:
    agent = await WsAgent.log_in(rig.url, "ana")
    await agent.connect()
    yield agent
    await agent.close()


async def _ready(agent: WsAgent) -> None:
    await agent.request({"type": "set_state", "state": "ready"})
    await agent.wait_for(lambda f: f["type"] == "agent_state" and f["state"] == "ready", "ready")


def _connected(call_id: str):  # type: ignore[no-untyped-def]
    return lambda f: f["type"] == "call_state" and f["call_id"] == call_id and f["phase"] == "connected"


async def test_call_pop_identity_hangup_dispose_is_stored(rig: DeskRig, ana: WsAgent) -> None:
    await _leads(rig, "5511987650011")
    hello = await ana.wait_for(lambda f: f["type"] == "hello", "hello")
    assert hello["seq"] == 0 and hello["resumed"] is False and hello["name"] == "Ana Souza"
    await _ready(ana)
    pop = await ana.wait_for(lambda f: f["type"] == "screen_pop", "screen-pop")
    call_id = pop["call_id"]
    # before the identity is confirmed: nothing about the debt, only what it takes to ask for the person
    assert pop["details"] is None and pop["identity_confirmed_at"] is None
    assert pop["summary"]["greeting_name"] == "Maria S."
    assert pop["summary"]["phone_masked"] == "(11) *****-0011"
    assert pop["summary"]["attempts_today"] == 0
    raw_pop = json.dumps(pop, ensure_ascii=False)
    assert "1.234,56" not in raw_pop and "Banco Exemplo" not in raw_pop and "Conceição" not in raw_pop

    await ana.wait_for(_connected(call_id), "connected")
    ack = await ana.request({"type": "verify_identity", "call_id": call_id, "method": "data_nascimento", "answer": "17/05/1980"})
    full = await ana.wait_for(lambda f: f["type"] == "screen_pop" and f["details"], "full pop")
    details = full["details"]
    assert details["full_name"] == "Maria Conceição da Silva"
    assert details["masked_cpf"] == "***.456.789-**"
    assert details["total_balance"] == "R$ 1.234,56"
    [debt] = details["debts"]
    assert (debt["balance"], debt["original_amount"], debt["due_date"]) == ("R$ 1.234,56", "R$ 1.000,00", "10/03/2025")
    assert debt["days_past_due"] > 365

    await ana.request({"type": "hangup", "call_id": call_id})
    ended = await ana.wait_for(lambda f: f["type"] == "call_ended", "call ended")
    assert ended["call_id"] == call_id and ended["result"] == "connected"
    await ana.wait_for(lambda f: f["type"] == "agent_state" and f["state"] == "wrap_up", "wrap-up")

    dispose = {
        "type": "dispose",
        "call_id": call_id,
        "code": "PROMESSA",
        "client_key": "chave-idem-0001",
        "promise_amount": "250.00",
        "promise_date": PROMISE_DATE,
        "notes": "Paga via Pix na sexta.",
    }
    first = await ana.request(dispose)
    again = await ana.request(dispose)  # a retry after a lost ack stores nothing new
    assert first["detail"]["duplicate"] is False and again["detail"]["duplicate"] is True
    assert first["detail"]["outcome_id"] == again["detail"]["outcome_id"]
    await ana.wait_for(lambda f: f["type"] == "agent_state" and f["state"] == "ready" and f["seq"] > full["seq"], "ready")

    async with rig.db() as s:
        outcomes = list((await s.execute(select(Outcome))).scalars())
        attempt = await s.get(CallAttempt, call_id)
        audit = (await s.execute(select(AuditLog).where(AuditLog.action == "identity_confirmed"))).scalar_one()
    assert [(o.attempt_id, o.code, o.promise_amount) for o in outcomes] == [(call_id, OutcomeCode.PROMESSA, Decimal("250.00"))]
    assert outcomes[0].agent_id == rig.users["ana"] and outcomes[0].notes == "Paga via Pix na sexta."
    assert attempt is not None and attempt.connected_at is not None and attempt.ended_at is not None
    assert attempt.result is CallResult.CONNECTED
    assert (audit.user_id, audit.entity_id) == (rig.users["ana"], call_id)
    assert audit.after is not None and audit.after["confirmed_at"] == ack["detail"]["confirmed_at"]
    # every frame after hello is numbered 1, 2, 3... with no gap
    seqs = [f["seq"] for f in ana.frames if f["seq"]]
    assert seqs == list(range(1, len(seqs) + 1))


async def test_reconnect_mid_call_replays_what_was_missed(rig: DeskRig, ana: WsAgent) -> None:
    await _leads(rig, "5511987650021")
    await _ready(ana)
    pop = await ana.wait_for(lambda f: f["type"] == "screen_pop", "screen-pop")
    call_id = pop["call_id"]
    await ana.wait_for(_connected(call_id), "connected")
    await ana.drop()
    seen = ana.last_seq
    assert seen is not None

    # while the page is away: the customer is hung up (by the agent's other tab) and the call ends
    other = await WsAgent.log_in(rig.url, "ana")
    await other.connect()
    await other.request({"type": "hangup", "call_id": call_id})
    await other.wait_for(lambda f: f["type"] == "call_ended", "call ended on the other tab")
    await other.close()

    before = len(ana.frames)
    await ana.connect(resume=True)
    hello = await ana.wait_for(lambda f: f["type"] == "hello", "hello", before)
    assert hello["resumed"] is True
    ended = await ana.wait_for(lambda f: f["type"] == "call_ended", "replayed call_ended", before)
    assert ended["call_id"] == call_id
    replayed = [f for f in ana.frames[before:] if f["seq"]]
    # exactly the frames after the last one seen, in order, none twice
    assert [f["seq"] for f in replayed] == list(range(seen + 1, seen + 1 + len(replayed)))
    # and the disposition still works on the resumed socket
    await ana.request(
        {"type": "dispose", "call_id": call_id, "code": "RECUSA", "client_key": "chave-idem-0002"}
    )


async def test_reconnect_with_a_lost_seq_gets_a_snapshot_with_the_pop(rig: DeskRig, ana: WsAgent) -> None:
    await _leads(rig, "5511987650031")
    await _ready(ana)
    pop = await ana.wait_for(lambda f: f["type"] == "screen_pop", "screen-pop")
    await ana.wait_for(_connected(pop["call_id"]), "connected")
    await ana.request({"type": "verify_identity", "call_id": pop["call_id"], "method": "data_nascimento", "answer": "17/05/1980"})
    await ana.drop()

    # a seq from another run of the server (or long gone): the server sends where things stand
    before = len(ana.frames)
    await ana.connect({"type": "hello", "last_seq": 5, "epoch": "outra-execucao"})
    hello = await ana.wait_for(lambda f: f["type"] == "hello", "hello", before)
    assert hello["resumed"] is False
    state = await ana.wait_for(lambda f: f["type"] == "agent_state", "snapshot state", before)
    assert state["state"] == "on_call"
    again = await ana.wait_for(lambda f: f["type"] == "screen_pop", "snapshot pop", before)
    assert again["call_id"] == pop["call_id"]
    # the identity was confirmed before the drop: the snapshot keeps the details open
    assert again["details"] is not None and again["identity_confirmed_at"] is not None
    phase = await ana.wait_for(lambda f: f["type"] == "call_state", "snapshot phase", before)
    assert phase["phase"] == "connected"
    await ana.request({"type": "hangup", "call_id": pop["call_id"]})


async def test_two_agents_never_get_the_same_call(rig: DeskRig, ana: WsAgent) -> None:
    await _leads(rig, *(f"55119876501{i:02d}" for i in range(4)))
    bia = await WsAgent.log_in(rig.url, "bia")
    await bia.connect()
    try:
        await _ready(ana)
        await _ready(bia)
        handled: dict[str, list[str]] = {"ana": [], "bia": []}
        for _ in range(2):
            for name, agent in (("ana", ana), ("bia", bia)):
                start = len(agent.frames)
                pop = await agent.wait_for(
                    lambda f: f["type"] == "screen_pop" and f["call_id"] not in handled[name], f"{name}'s next pop"
                )
                call_id = pop["call_id"]
                handled[name].append(call_id)
                await agent.wait_for(_connected(call_id), f"{name} connected")
                await agent.request({"type": "hangup", "call_id": call_id})
                await agent.wait_for(lambda f: f["type"] == "agent_state" and f["state"] == "wrap_up", "wrap-up", start)
                await agent.request(
                    {"type": "dispose", "call_id": call_id, "code": "RECADO", "client_key": f"chave-{call_id}"}
                )
        assert len(handled["ana"]) == len(handled["bia"]) == 2
        assert not set(handled["ana"]) & set(handled["bia"])
    finally:
        await bia.close()
    async with rig.db() as s:
        stored = list((await s.execute(select(Outcome.attempt_id, Outcome.agent_id))).all())
    assert sorted(a for a, _ in stored) == sorted(handled["ana"] + handled["bia"])
    assert {a: u for a, u in stored} == {
        **{c: rig.users["ana"] for c in handled["ana"]},
        **{c: rig.users["bia"] for c in handled["bia"]},
    }


async def test_no_ready_agent_when_answered_is_stored_as_abandoned(db_url: str) -> None:
    # customers ring 2 s (real): time to pause before the answer
    async with desk_rig(db_url, scenario(ring_s=20.0)) as rig:
        await _leads(rig, "5511987650041")
        ana = await WsAgent.log_in(rig.url, "ana")
        await ana.connect()
        try:
            await _ready(ana)
            await eventually(
                lambda: any(m.get("Context") == "cobra-outbound" for m in rig.sim.received_actions), "originated"
            )
            await ana.request({"type": "set_state", "state": "pause", "reason": "lanche"})

            async def ended() -> CallAttempt | None:
                async with rig.db() as s:
                    return (await s.execute(select(CallAttempt).where(CallAttempt.ended_at.is_not(None)))).scalar()

            deadline = asyncio.get_running_loop().time() + 10
            while (attempt := await ended()) is None:
                assert asyncio.get_running_loop().time() < deadline, "the abandoned call was never stored"
                await asyncio.sleep(0.05)
            assert ana.of("screen_pop") == []
        finally:
            await ana.close()
        async with rig.db() as s:
            lead = (await s.execute(select(Lead))).scalar_one()
        assert attempt.result is CallResult.ABANDONED and attempt.abandoned and attempt.agent_id is None
        assert lead.next_attempt_at == attempt.ended_at + timedelta(hours=72)


@pytest.mark.parametrize(
    ("raw", "field", "code"),
    [
        ("isto não é json", None, "bad_message"),
        ('{"type": "voar"}', "type", "bad_message"),
        ('{"type": "set_state", "state": "pause"}', "reason", "bad_message"),
        ('{"type": "set_state", "state": "pause", "reason": "cochilo"}', "reason", "bad_message"),
        ('{"type": "dispose", "call_id": "x", "code": "PROMESSA", "client_key": "curta"}', "client_key", "bad_message"),
        ('{"type": "dispose", "call_id": "x", "code": "TALVEZ", "client_key": "chave-longa-1"}', "code", "bad_message"),
        ('{"type": "dispose", "call_id": "x", "code": "PROMESSA", "client_key": "chave-longa-1", "promise_amount": "muito"}',
         "promise_amount", "bad_message"),
        ('{"type": "hangup"}', "call_id", "bad_message"),
        ('{"type": "hangup", "call_id": "nenhuma"}', None, "not_on_call"),
        ('{"type": "dispose", "call_id": "x", "code": "PROMESSA", "client_key": "chave-longa-1"}',
         "promise_amount", "invalid_disposition"),
    ],
)
async def test_malformed_or_refused_messages_get_an_error_frame_and_the_socket_stays(
    rig: DeskRig, ana: WsAgent, raw: str, field: str | None, code: str
) -> None:
    await ana.wait_for(lambda f: f["type"] == "hello", "hello")
    await _ready(ana)  # the dialer knows the agent: its refusals are about the request itself
    await ana.send_raw(raw)
    error = await ana.wait_for(lambda f: f["type"] == "error", "error frame")
    assert (error["code"], error["field"]) == (code, field)
    assert error["message"]
    # still open and answering
    await ana.request({"type": "set_state", "state": "pause", "reason": "banheiro"})
    assert ana.ws is not None and not ana.ws.closed


async def test_binary_frame_is_refused_with_an_error(rig: DeskRig, ana: WsAgent) -> None:
    assert ana.ws is not None
    await ana.ws.send_bytes(b"\x00\x01")
    error = await ana.wait_for(lambda f: f["type"] == "error", "error frame")
    assert error["code"] == "bad_message" and "binárias" in error["message"]


async def test_socket_needs_an_agent_session_and_our_origin(rig: DeskRig) -> None:
    async with aiohttp.ClientSession(base_url=rig.url) as anonymous:
        with pytest.raises(aiohttp.WSServerHandshakeError) as no_session:
            await anonymous.ws_connect("/ws/agente", origin=rig.url)
    assert no_session.value.status == 401
    ana = await WsAgent.log_in(rig.url, "ana")
    sofia = await WsAgent.log_in(rig.url, "sofia")
    try:
        with pytest.raises(aiohttp.WSServerHandshakeError) as foreign:
            await ana.http.ws_connect("/ws/agente", origin="https://evil.example.com")
        assert foreign.value.status == 403
        with pytest.raises(aiohttp.WSServerHandshakeError) as supervisor:
            await sofia.http.ws_connect("/ws/agente", origin=rig.url)
        assert supervisor.value.status == 403
        page = await sofia.http.get("/agente", allow_redirects=False)
        assert page.status == 403
    finally:
        await ana.close()
        await sofia.close()


async def test_agent_page_renders_the_desk(rig: DeskRig) -> None:
    ana = await WsAgent.log_in(rig.url, "ana")
    try:
        resp = await ana.http.get("/agente")
        html = await resp.text()
    finally:
        await ana.close()
    assert resp.status == 200 and resp.headers["Cache-Control"] == "no-store"
    for needle in ("Disponível", "Verificar identidade", "Promessa de pagamento", "Retornar ligação", "Desligar",
                   "Ligar", "agente.js", 'value="lanche"', 'data-key="1"', "Ramal"):
        assert needle in html, needle


async def test_requests_while_the_dialer_is_down_get_dialer_unavailable(rig: DeskRig, ana: WsAgent) -> None:
    desk = desk_of(rig.app)
    runtime, desk.runtime = desk.runtime, None
    try:
        await ana.send({"type": "set_state", "state": "ready"})
        error = await ana.wait_for(lambda f: f["type"] == "error", "error frame")
        assert error["code"] == "dialer_unavailable"
    finally:
        desk.runtime = runtime


async def test_agent_socket_declines_compression_a_browser_offers(rig: DeskRig) -> None:
    # browsers offer permessage-deflate; accepted, every one of 500 agents' sockets would hold a zlib
    # compressor and decompressor for its whole life (SPEC §10 P7, bench/memory.py)
    agent = await WsAgent.log_in(rig.url, "ana")
    try:
        ws = await agent.http.ws_connect("/ws/agente", origin=rig.url, compress=15)
        assert ws.compress == 0  # offered, not negotiated
        await ws.send_str(json.dumps({"type": "hello"}))
        hello = await ws.receive_json(timeout=10)
        assert hello["type"] == "hello" and hello["seq"] == 0  # frames still flow, uncompressed
        await ws.close()
    finally:
        await agent.close()
