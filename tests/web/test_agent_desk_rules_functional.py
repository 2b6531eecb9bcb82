"""The desk's rules end to end (issue 11): identity attempts and the override as supervisors see them,
promise bounds, callbacks inside the calling window, and the agent's own day. Real app, dialer,
simulator over TCP and SQLite, through the agent websocket."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from dialer.clocks import BRASILIA
from storage.models import AuditLog, Callback
from tests.dialer.runtime_support import add_campaign, add_lead
from tests.web.agent_rig import DeskRig, WsAgent, desk_of, desk_rig


@pytest.fixture
async def rig(db_url: str) -> AsyncIterator[DeskRig]:
    async with desk_rig(db_url) as r:
        yield r


async def _agent(rig: DeskRig, login: str) -> WsAgent:
    agent = await WsAgent.log_in(rig.url, login)
    await agent.connect()
    return agent


async def _on_call(rig: DeskRig, ana: WsAgent, number: str) -> str:
    async with rig.db.begin() as s:
        campaign = await add_campaign(s, running=False)
        await add_lead(s, campaign, number, name="Maria Conceição da Silva", birth_date=date(1980, 5, 17))
    await desk_of(rig.app).runtime.set_campaign_running(campaign.id, True)
    await ana.request({"type": "set_state", "state": "ready"})
    pop = await ana.wait_for(lambda f: f["type"] == "screen_pop", "screen-pop")
    call_id: str = pop["call_id"]
    await ana.wait_for(lambda f: f["type"] == "call_state" and f.get("phase") == "connected", "connected")
    return call_id


async def _error(agent: WsAgent, message: dict[str, Any]) -> dict[str, Any]:
    ref = await agent.send(message)
    answer = await agent.wait_for(lambda f: f.get("ref") == ref, f"answer to {message['type']}")
    assert answer["type"] == "error", answer
    return answer


async def _wrap_up(ana: WsAgent, call_id: str) -> None:
    await ana.request({"type": "hangup", "call_id": call_id})
    await ana.wait_for(lambda f: f["type"] == "agent_state" and f["state"] == "wrap_up", "wrap-up")


def _server_today(ana: WsAgent) -> date:
    hello = next(f for f in ana.frames if f["type"] == "hello")
    return datetime.fromisoformat(hello["server_time"]).astimezone(BRASILIA).date()


async def test_three_wrong_answers_lock_and_an_override_is_audited_and_on_the_floor(rig: DeskRig) -> None:
    ana = await _agent(rig, "ana")
    sofia = await WsAgent.log_in(rig.url, "sofia")  # a supervisor: the floor API, no desk socket
    try:
        call_id = await _on_call(rig, ana, "5511987650081")
        identity = await ana.wait_for(lambda f: f["type"] == "identity", "identity frame")
        assert [m[0] for m in identity["identity"]["methods"]] == ["data_nascimento", "cpf"]
        assert "1980" not in str(identity) and "123" not in str(identity), "no answer on file reaches the page"
        for answer in ("01/01/1990", "02/01/1990", "03/01/1990"):
            ack = await ana.request({"type": "verify_identity", "call_id": call_id, "method": "data_nascimento",
                                     "answer": answer})
            assert ack["detail"]["matched"] is False
        assert ack["detail"]["status"] == "bloqueada"
        locked = await _error(ana, {"type": "verify_identity", "call_id": call_id, "method": "data_nascimento",
                                    "answer": "17/05/1980"})
        assert locked["code"] == "identity_refused" and "bloqueada" in locked["message"]
        debt = await _error(ana, {"type": "simulate_offer", "call_id": call_id})
        assert "identidade" in debt["message"]
        assert all(f["type"] != "screen_pop" or f["details"] is None for f in ana.frames)

        short = await _error(ana, {"type": "override_identity", "call_id": call_id, "reason": "ok"})
        assert short["field"] == "reason"
        await ana.request({"type": "override_identity", "call_id": call_id,
                           "reason": "Cliente confirmou pelo protocolo do credor"})
        await ana.wait_for(lambda f: f["type"] == "screen_pop" and f["details"], "full pop after the override")

        floor = await (await sofia.http.get("/api/v1/floor")).json()
        row = next(a for a in floor["agents"] if a["login"] == "ana")
        assert row["identity"] == "liberada_sem_verificacao"
        assert row["identity_override_reason"] == "Cliente confirmou pelo protocolo do credor"
        async with rig.db() as s:
            actions = [(a.action, a.after) for a in (await s.execute(
                select(AuditLog).where(AuditLog.entity_id == call_id).order_by(AuditLog.id))).scalars()]
        assert [a for a, _ in actions] == ["identity_attempt"] * 3 + ["identity_override", "identity_confirmed"]
        assert actions[3][1]["reason"] == "Cliente confirmou pelo protocolo do credor"
        assert actions[3][1]["failed_attempts"] == 3
    finally:
        await ana.close()
        await sofia.close()


async def test_promise_bounds_callback_window_and_the_agents_day(rig: DeskRig) -> None:
    ana = await _agent(rig, "ana")
    try:
        day0 = await ana.wait_for(lambda f: f["type"] == "my_day", "my day")
        assert day0["callbacks"] == [] and "Retornos: 0" in day0["line"]
        call_id = await _on_call(rig, ana, "5511987650082")
        await ana.request({"type": "verify_identity", "call_id": call_id, "method": "cpf", "answer": "123"})
        offers = await ana.wait_for(lambda f: f["type"] == "offers", "offers")
        limits = offers["quote"]["promise"]
        assert limits["maximum"] == offers["quote"]["debt"]["figures"]["total"]
        await _wrap_up(ana, call_id)
        today = _server_today(ana)

        too_much = await _error(ana, {"type": "dispose", "call_id": call_id, "code": "PROMESSA", "client_key": "k-promessa-1",
                                      "promise_amount": "999999.00", "promise_date": today.isoformat()})
        assert too_much["field"] == "promise_amount" and "total atualizado" in too_much["message"]
        too_late = await _error(ana, {"type": "dispose", "call_id": call_id, "code": "PROMESSA", "client_key": "k-promessa-1",
                                      "promise_amount": "100.00", "promise_date": (today + timedelta(days=200)).isoformat()})
        assert too_late["field"] == "promise_date" and "prazo máximo" in too_late["message"]

        night = datetime.combine(today, time(22, 30), tzinfo=BRASILIA)
        refused = await _error(ana, {"type": "dispose", "call_id": call_id, "code": "RETORNAR", "client_key": "k-retorno-1",
                                     "callback_at": night.isoformat()})
        assert refused["field"] == "callback_at" and refused["code"] == "outside_window"
        assert "Próximo horário permitido" in refused["message"]

        morning = datetime.combine(today + timedelta(days=1), time(10, 0), tzinfo=BRASILIA)
        while morning.weekday() >= 5:
            morning += timedelta(days=1)
        mark = len(ana.frames)
        await ana.request({"type": "dispose", "call_id": call_id, "code": "RETORNAR", "client_key": "k-retorno-1",
                           "callback_at": morning.isoformat(), "notes": "Ligar depois do almoço"})
        day = await ana.wait_for(lambda f: f["type"] == "my_day", "my day after the disposition", mark)
        assert day["callbacks"][0]["customer"] == "Maria S." and day["callbacks"][0]["overdue"] is False
        assert day["callbacks"][0]["at"] == morning.strftime("%d/%m/%Y %H:%M")
        assert "Contatos hoje: 1" in day["line"]
        async with rig.db() as s:
            assert (await s.execute(select(Callback))).scalar_one().owner_agent_id == rig.users["ana"]
    finally:
        await ana.close()
