"""Negotiation on the agent websocket end to end: script steps, offers, live approval, ACORDO/PROMESSA, Pix.

Real aiohttp server, real websocket client, the simulator over TCP through the real AMI
gateway and dialer runtime, a real SQLite file; the supervisor's decision goes through the
real approval broker the console uses.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, update

from scripting.pix import decode_pix_payload
from storage.models import (
    Agreement,
    AgreementInstallment,
    Outcome,
    OutcomeCode,
    Promise,
    ScriptRunRecord,
    User,
)
from tests.dialer.runtime_support import add_campaign, add_lead
from tests.web.agent_rig import DeskRig, WsAgent, desk_of, desk_rig
from web.agent.negotiation import PixReceiver
from web.supervisor_console.http import APPROVALS


async def _leads(rig: DeskRig, number: str) -> None:
    async with rig.db.begin() as s:
        campaign = await add_campaign(s, running=False)
        await add_lead(s, campaign, number, name="Maria Conceição da Silva")
        # alçada: the agent grants up to 10 %, the supervisor up to 30 %
        await s.execute(update(User).where(User.login == "ana").values(discount_limit_pct=Decimal("10")))
        await s.execute(update(User).where(User.login == "sofia").values(discount_limit_pct=Decimal("30")))
    await desk_of(rig.app).runtime.set_campaign_running(campaign.id, True)


@pytest.fixture
async def rig(db_url: str) -> AsyncIterator[DeskRig]:
    async with desk_rig(db_url) as r:
        desk_of(r.app).pix = PixReceiver(key="+5511999998888", name="Cobra Assessoria", city="Sao Paulo")
        yield r


@pytest.fixture
async def ana(rig: DeskRig) -> AsyncIterator[WsAgent]:
    agent = await WsAgent.log_in(rig.url, "ana")
    await agent.connect()
    yield agent
    await agent.close()


async def _on_call(rig: DeskRig, ana: WsAgent, number: str) -> str:
    await _leads(rig, number)
    await ana.request({"type": "set_state", "state": "ready"})
    pop = await ana.wait_for(lambda f: f["type"] == "screen_pop", "screen-pop")
    call_id: str = pop["call_id"]
    await ana.wait_for(
        lambda f: f["type"] == "call_state" and f["call_id"] == call_id and f["phase"] == "connected", "connected"
    )
    return call_id


async def _error(ana: WsAgent, message: dict[str, Any]) -> dict[str, Any]:
    ref = await ana.send(message)
    answer = await ana.wait_for(lambda f: f.get("ref") == ref, f"answer to {message['type']}")
    assert answer["type"] == "error", answer
    return answer


async def _frame(ana: WsAgent, kind: str, start: int, what: str, **match: Any) -> dict[str, Any]:
    """The first ``kind`` frame from ``ana.frames[start]`` on matching ``match``."""
    return await ana.wait_for(lambda f: f["type"] == kind and all(f.get(k) == v for k, v in match.items()), what, start)


async def _wrap_up(ana: WsAgent, call_id: str) -> None:
    await ana.request({"type": "hangup", "call_id": call_id})
    await ana.wait_for(lambda f: f["type"] == "agent_state" and f["state"] == "wrap_up", "wrap-up")


async def test_script_offers_approval_and_agreement_are_stored(rig: DeskRig, ana: WsAgent) -> None:
    call_id = await _on_call(rig, ana, "5511987650031")
    first = await ana.wait_for(lambda f: f["type"] == "script", "script at the pop")
    assert first["step_id"] == "abertura" and first["identity_confirmed"] is False
    assert "Ana" in first["text"] and "gravada" in first["text"]
    assert [c["id"] for c in first["choices"]] == ["pessoa_certa", "terceiro", "nao_conhece"]
    assert "R$" not in first["text"]

    # no offers before the identity is confirmed
    refused = await _error(ana, {"type": "simulate_offer", "call_id": call_id})
    assert (refused["code"], refused["field"]) == ("not_allowed", "call_id")
    assert ana.of("offers") == []

    mark = len(ana.frames)
    await ana.request({"type": "verify_identity", "call_id": call_id, "method": "data_nascimento", "answer": "17/05/1980"})
    offers = await _frame(ana, "offers", mark, "offers after identity")
    quote = offers["quote"]
    assert quote["debt"]["total_text"].startswith("R$ ")
    labels = [line[0] for line in quote["debt"]["lines"]]
    assert labels[0].lower().startswith("valor original") and any("multa" in label.lower() for label in labels)
    assert quote["limits"]["agent_pct"] == "10.00" and quote["limits"]["supervisor_pct"] == "30.00"
    assert quote["offers"][0]["kind"] == "a_vista" and len(quote["offers"]) > 1
    assert offers["pix"] is not None
    pix = decode_pix_payload(offers["pix"]["payload"])
    assert f"{pix.amount:.2f}" == quote["offers"][0]["payments"][0]["amount"]
    assert offers["pix"]["svg"].startswith("<svg")
    script = await _frame(ana, "script", mark, "script past the identity gate")
    assert script["step_id"] == "apresentar_divida" and script["identity_confirmed"] is True
    assert quote["debt"]["total_text"] in script["text"]

    await ana.request({"type": "script_step", "call_id": call_id, "choice": "reconhece"})
    bad = await _error(ana, {"type": "script_step", "call_id": call_id, "choice": "motivo_financeiro", "capture": "XYZ"})
    assert bad["field"] == "choice" and "XYZ" in bad["message"]
    step = await ana.request({"type": "script_step", "call_id": call_id, "choice": "motivo_financeiro", "capture": "DESEMPREGO"})
    assert step["detail"]["step_id"] == "oferta"

    # 20 %: above the agent's 10 %, within the supervisor's 30 %
    mark = len(ana.frames)
    sim = await ana.request({"type": "simulate_offer", "call_id": call_id, "discount_pct": "20"})
    assert sim["detail"]["authority"] == "needs_supervisor"
    priced = await _frame(ana, "offers", mark, "offers at 20 %")
    assert priced["quote"]["discount_pct"] == "20"
    asked = await ana.request({"type": "request_approval", "call_id": call_id, "discount_pct": "20"})
    assert asked["detail"]["status"] == "pending"
    request_id = asked["detail"]["request_id"]
    await _frame(ana, "approval_result", 0, "pending", status="pending", request_id=request_id)

    # closing above the limit without the approval is refused and stores nothing
    await _wrap_up(ana, call_id)
    early = await _error(ana, {
        "type": "dispose", "call_id": call_id, "code": "ACORDO", "client_key": "acordo-0001-a",
        "agreement": {"kind": "a_vista", "discount_pct": "20"},
    })
    assert early["code"] == "not_allowed"

    await rig.app[APPROVALS].decide(request_id, supervisor_id=rig.users["sofia"], approve=True)
    approved = await _frame(ana, "approval_result", 0, "approved", status="approved")
    assert approved["allowed"] is True and approved["decided_by_name"] == "Sofia Lima"

    done = await ana.request({
        "type": "dispose", "call_id": call_id, "code": "ACORDO", "client_key": "acordo-0001-b",
        "agreement": {"kind": "a_vista", "discount_pct": "20"},
    })
    assert done["detail"]["duplicate"] is False and done["detail"]["agreement_id"]

    async with rig.db() as s:
        agreement = (await s.execute(select(Agreement))).scalar_one()
        schedule = list((await s.execute(select(AgreementInstallment))).scalars())
        outcome = (await s.execute(select(Outcome))).scalar_one()
        run = (await s.execute(select(ScriptRunRecord))).scalar_one()
    assert (agreement.attempt_id, agreement.approval_id, agreement.discount_pct) == (call_id, request_id, Decimal("20.00"))
    assert agreement.agent_id == rig.users["ana"]
    assert [i.amount for i in schedule] == [Decimal(priced["quote"]["offers"][0]["payments"][0]["amount"])]
    assert outcome.code is OutcomeCode.ACORDO and outcome.attempt_id == call_id
    assert (run.attempt_id, run.script_id, run.identity_confirmed_at is not None) == (call_id, "padrao", True)
    assert [st["step_id"] for st in run.steps] == ["abertura", "identidade", "apresentar_divida", "motivo", "oferta"]
    assert run.captures == {"motivo_atraso": "DESEMPREGO"}


async def test_promise_with_pix_is_stored_with_the_run(rig: DeskRig, ana: WsAgent) -> None:
    call_id = await _on_call(rig, ana, "5511987650032")
    await ana.request({"type": "verify_identity", "call_id": call_id, "method": "data_nascimento", "answer": "17/05/1980"})
    await ana.request({"type": "pix_code", "call_id": call_id, "amount": "150.00"})
    pix = await _frame(ana, "pix", 0, "pix for the promise")
    assert pix["pix"]["amount"] == "R$ 150,00"
    assert decode_pix_payload(pix["pix"]["payload"]).amount == Decimal("150.00")

    await _wrap_up(ana, call_id)
    acordo_without_offer = await _error(ana, {"type": "dispose", "call_id": call_id, "code": "ACORDO", "client_key": "k-0002-aa"})
    assert acordo_without_offer["field"] == "agreement"
    due = date.today() + timedelta(days=3)
    done = await ana.request({
        "type": "dispose", "call_id": call_id, "code": "PROMESSA", "client_key": "promessa-0002",
        "promise_amount": "150.00", "promise_date": due.isoformat(),
    })
    assert done["detail"]["promise_id"]
    async with rig.db() as s:
        promise = (await s.execute(select(Promise))).scalar_one()
        run = (await s.execute(select(ScriptRunRecord))).scalar_one()
    assert (promise.attempt_id, promise.amount, promise.due_date) == (call_id, Decimal("150.00"), due)
    assert run.attempt_id == call_id and run.identity_confirmed_at is not None


async def test_plan_within_the_agents_limit_is_stored_with_its_schedule(rig: DeskRig, ana: WsAgent) -> None:
    call_id = await _on_call(rig, ana, "5511987650033")
    # on the script's identity step the gate choice can't be taken on trust: the system checks the answer
    await ana.request({"type": "script_step", "call_id": call_id, "choice": "pessoa_certa"})
    refused = await _error(ana, {"type": "script_step", "call_id": call_id, "choice": "dados_conferem"})
    assert refused["field"] == "choice" and "Verificar identidade" in refused["message"]
    mark = len(ana.frames)
    wrong = await ana.request({"type": "verify_identity", "call_id": call_id, "method": "cpf", "answer": "999"})
    assert wrong["detail"]["matched"] is False and wrong["detail"]["attempts_left"] == 2
    assert all(f["type"] != "screen_pop" or f["details"] is None for f in ana.frames[mark:])
    await ana.request({"type": "verify_identity", "call_id": call_id, "method": "cpf", "answer": "123"})
    await _frame(ana, "screen_pop", mark, "full pop")
    script = [f for f in ana.frames[mark:] if f["type"] == "script"][-1]
    assert script["step_id"] != "identidade", "a match takes the script through its identity step"
    offers = await _frame(ana, "offers", mark, "offers")
    plan = next(o for o in offers["quote"]["offers"] if o["installments_count"] == 6)
    mark = len(ana.frames)
    await ana.request({"type": "simulate_offer", "call_id": call_id, "installments": 6})
    chosen = await _frame(ana, "offers", mark, "offers with the plan chosen")
    assert chosen["quote"]["offers"] == offers["quote"]["offers"]  # choosing a plan does not narrow the list
    assert decode_pix_payload(chosen["pix"]["payload"]).amount == Decimal(plan["payments"][0]["amount"])

    await _wrap_up(ana, call_id)
    await ana.request({
        "type": "dispose", "call_id": call_id, "code": "ACORDO", "client_key": "acordo-0003",
        "agreement": {"kind": "parcelado", "installments": 6, "discount_pct": offers["quote"]["discount_pct"]},
    })
    async with rig.db() as s:
        agreement = (await s.execute(select(Agreement))).scalar_one()
        schedule = list((await s.execute(select(AgreementInstallment).order_by(AgreementInstallment.number))).scalars())
    assert agreement.approval_id is None and agreement.total == Decimal(plan["total"])
    assert [(i.due_date.isoformat(), str(i.amount)) for i in schedule] == [
        (p["due_on"], p["amount"]) for p in plan["payments"]
    ]
