"""KPIs from a real call: the dialer, the simulator over TCP and the agent's websocket write the rows the report reads.

One call is dialled, connected to the agent, worked through the script (identity, reason for
default) and disposed as a promise; the report of that day then counts it as an attempt, a
contact, a right-party contact with a promise and a financial reason, with handle time and the
agent's occupancy from the state history the floor stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from dialer.pacing.live import BRASILIA_OFFSET_S, local_day
from storage.models import AgentStateChange, CallAttempt
from storage.repositories.kpis import Grouping
from tests.dialer.runtime_support import add_campaign, add_lead
from tests.web.agent_rig import GUARD_S, DeskRig, WsAgent, desk_of, desk_rig
from web.keys import CLOCK
from web.kpis.services import KpiRequest, build_report


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


async def _stored(rig: DeskRig, call_id: str) -> CallAttempt:
    """The attempt once the writer has stored its wrap-up end (a guard, not a measurement)."""
    deadline = asyncio.get_running_loop().time() + GUARD_S
    while True:
        async with rig.db() as s:
            attempt = await s.get(CallAttempt, call_id)
        if attempt is not None and attempt.wrapup_ended_at is not None:
            return attempt
        assert asyncio.get_running_loop().time() < deadline, "the wrap-up end was never stored"
        await asyncio.sleep(0.05)


async def test_a_worked_call_shows_in_the_days_kpis(rig: DeskRig, ana: WsAgent) -> None:
    async with rig.db.begin() as s:
        campaign = await add_campaign(s, running=False)
        await add_lead(s, campaign, "5511987650071", name="Maria Conceição da Silva")
    await desk_of(rig.app).runtime.set_campaign_running(campaign.id, True)
    await ana.request({"type": "set_state", "state": "ready"})
    pop = await ana.wait_for(lambda f: f["type"] == "screen_pop", "screen-pop")
    call_id: str = pop["call_id"]
    await ana.wait_for(lambda f: f["type"] == "call_state" and f["call_id"] == call_id and f["phase"] == "connected",
                       "connected")
    await ana.request({"type": "verify_identity", "call_id": call_id, "method": "data_nascimento", "answer": "17/05/1980"})
    await ana.request({"type": "script_step", "call_id": call_id, "choice": "reconhece"})
    await ana.request({"type": "script_step", "call_id": call_id, "choice": "motivo_financeiro", "capture": "DESEMPREGO"})
    await ana.request({"type": "hangup", "call_id": call_id})
    await ana.wait_for(lambda f: f["type"] == "agent_state" and f["state"] == "wrap_up", "wrap-up")
    now = rig.app[CLOCK]()
    due = local_day(now.timestamp(), BRASILIA_OFFSET_S) + timedelta(days=3)
    await ana.request({"type": "dispose", "call_id": call_id, "code": "PROMESSA", "client_key": "kpi-promessa-01",
                       "promise_amount": "150.00", "promise_date": due.isoformat()})
    attempt = await _stored(rig, call_id)
    assert attempt.connected_at is not None

    today = local_day(rig.app[CLOCK]().timestamp(), BRASILIA_OFFSET_S)
    async with rig.db() as s:
        changes = list((await s.scalars(select(AgentStateChange).where(AgentStateChange.user_id == rig.users["ana"]))).all())
        by_agent = await build_report(s, KpiRequest(today, today, Grouping.AGENT), now=rig.app[CLOCK]())
        by_campaign = await build_report(s, KpiRequest(today, today, Grouping.CAMPAIGN, campaign.id), now=rig.app[CLOCK]())
    assert {c.to_state.value for c in changes} >= {"ready", "on_call", "wrap_up"}

    [row] = by_agent.rows
    f = row.figures
    assert row.label == "Ana Souza (ana)"
    assert (f.attempts, f.live_answers, f.contacts, f.right_party) == (1, 1, 1, 1)
    assert (f.promises, f.promise_rate, f.negotiated) == (1, 1.0, Decimal("150.00"))
    assert f.abandon_rate == 0.0 and f.aht_s is not None and f.aht_s > 0
    assert f.occupancy is not None and 0 < f.occupancy <= 1
    assert (f.reasons_company, f.reasons_financial) == (0, 1)
    assert [(i.code, i.calls) for i in by_agent.reasons.items] == [("DESEMPREGO", 1)]
    assert by_campaign.total.attempts == 1 and by_campaign.total.occupancy is None
