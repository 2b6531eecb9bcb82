"""The configured third identity question ([identity]) on the agent desk: its label reaches the page, the
stored field it names decides the match, and the answer on file never leaves the server. Real app, dialer,
simulator over TCP and SQLite, through the agent websocket."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from dialer.floor.identity import OtherField, OtherQuestion
from storage.models import AuditLog, Debt
from tests.dialer.runtime_support import add_campaign, add_lead
from tests.web.agent_rig import WsAgent, desk_of, desk_rig

QUESTION = OtherQuestion("Número de um dos contratos", OtherField.CONTRACT)


async def test_the_configured_question_is_asked_and_checked_against_its_field(db_url: str) -> None:
    async with desk_rig(db_url, identity_question=QUESTION) as rig:
        ana = await WsAgent.log_in(rig.url, "ana")
        await ana.connect()
        try:
            async with rig.db.begin() as s:
                campaign = await add_campaign(s, running=False)
                lead = await add_lead(s, campaign, "5511987650091", birth_date=date(1980, 5, 17))
                contract = (await s.execute(select(Debt.contract).where(Debt.customer_id == lead.customer_id))).scalar_one()
            await desk_of(rig.app).runtime.set_campaign_running(campaign.id, True)
            await ana.request({"type": "set_state", "state": "ready"})
            pop = await ana.wait_for(lambda f: f["type"] == "screen_pop", "screen-pop")
            call_id = pop["call_id"]
            await ana.wait_for(lambda f: f["type"] == "call_state" and f.get("phase") == "connected", "connected")

            identity = await ana.wait_for(lambda f: f["type"] == "identity", "identity frame")
            assert identity["identity"]["methods"] == [
                ["data_nascimento", "Data de nascimento"],
                ["cpf", "3 primeiros dígitos do CPF"],
                ["outra", "Número de um dos contratos"],
            ]
            assert contract not in str(ana.frames), "the answer on file never reaches the page before a match"

            wrong = await ana.request({"type": "verify_identity", "call_id": call_id, "method": "outra",
                                       "answer": "ext-5511987650091"})  # the customer code: not what is asked
            assert wrong["detail"]["matched"] is False
            right = await ana.request({"type": "verify_identity", "call_id": call_id, "method": "outra",
                                       "answer": f"  {contract.lower()} "})
            assert right["detail"]["matched"] is True and right["detail"]["status"] == "verificada"
            await ana.wait_for(lambda f: f["type"] == "screen_pop" and f["details"], "the debt after the match")
            async with rig.db() as s:
                audited = [a.after or {} for a in (await s.execute(
                    select(AuditLog).where(AuditLog.entity_id == call_id, AuditLog.action == "identity_attempt")
                    .order_by(AuditLog.id))).scalars()]
            assert [a["matched"] for a in audited] == [False, True] and all(a["method"] == "outra" for a in audited)
            assert contract not in str(audited), "the audit never keeps the answer"
        finally:
            await ana.close()
