"""The floor-model findings, through the real runtime, the real AMI client and the simulator over TCP."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update

from dialer.agents.desktop import CallPhase, Disposition
from dialer.agents.state import AgentState
from dialer.ami.actions import Hangup
from dialer.runtime import DialerRuntime
from storage.models import CallAttempt, CallResult, Campaign, CampaignStatus, Outcome
from tests.dialer.runtime_support import (
    RecordingNotifier,
    actions,
    add_agent,
    add_campaign,
    add_lead,
    eventually,
)
from tests.dialer.test_runtime_functional import Rig, rig  # noqa: F401  (rig: the fixture)


def _leg_originates(rig: Rig, extension: str) -> list[Any]:  # noqa: F811
    return [m for m in actions(rig.sim, "Originate") if m.get("Channel") == f"Local/{extension}@agent-sim"]


def _customer_originates(rig: Rig) -> list[Any]:  # noqa: F811
    return [m for m in actions(rig.sim, "Originate") if "@cust-sim" in m.get("Channel", "")]


async def _ready(rig: Rig, user_id: int) -> None:  # noqa: F811
    await rig.runtime.go_ready(user_id)
    await eventually(lambda: rig.runtime.status(user_id).state is AgentState.READY, f"agent {user_id} ready")


async def test_an_agent_whose_leg_drops_mid_call_is_told_and_gets_no_further_call(rig: Rig) -> None:  # noqa: F811
    async with rig.db.begin() as s:
        agent = await add_agent(s, "ana", "7001")
        campaign = await add_campaign(s)
        for i in range(4):
            await add_lead(s, campaign, f"551198765000{i + 1}", cpf="52998224725" if i % 2 else "12345678909")
    await rig.runtime.start()
    await _ready(rig, agent.id)
    connected = await eventually(
        lambda: [r for r in rig.notifier.of("call_state", agent.id) if r.payload[1] is CallPhase.CONNECTED], "a call connected"
    )
    call_id = connected[0].payload[0]
    leg = rig.runtime.floor.agents.get(agent.id).leg_channel  # type: ignore[union-attr]
    assert leg is not None
    await rig.gw.hangup(Hangup(channel=leg))  # the agent's phone drops while the customer talks

    errors = await eventually(lambda: rig.notifier.of("error", agent.id), "the agent told")
    assert errors[0].payload[0] == "agent_leg_lost" and "Telefone desconectado" in errors[0].payload[1]
    await eventually(lambda: rig.runtime.status(agent.id).state is AgentState.WRAP_UP, "wrap-up")
    # Cobra hangs the customer up; the disposition is taken once the call has ended (as the page shows it)
    await eventually(lambda: [r for r in rig.notifier.of("call_ended", agent.id) if r.payload[0] == call_id], "call ended")
    result = await rig.runtime.dispose(agent.id, Disposition(call_id, "RECUSA", "k-leg"))
    assert result.status.state is AgentState.OFFLINE, "no phone: offline, not ready"
    placed = len(_customer_originates(rig))
    await asyncio.sleep(0.5)  # 25 ticks: a ghost agent would have been given calls by now
    assert len(_customer_originates(rig)) == placed
    assert [r.payload[1] for r in rig.notifier.of("call_state", agent.id)].count(CallPhase.CONNECTED) == 1
    async with rig.db() as s:
        attempt = await s.get(CallAttempt, call_id)
        assert attempt is not None and attempt.result is CallResult.CONNECTED


async def test_restart_with_legs_left_behind_adopts_them_and_never_originates_a_second(rig: Rig) -> None:  # noqa: F811
    async with rig.db.begin() as s:
        agent = await add_agent(s, "bia", "7002")
    await rig.runtime.start()
    await _ready(rig, agent.id)
    await rig.runtime.stop()  # a restart: the legs stay in their conferences
    assert len(_leg_originates(rig, "7002")) == 1

    again = DialerRuntime(sessions=rig.db, gateway=rig.gw, notifier=RecordingNotifier(rig.sim), settings=rig.runtime.settings, clock=rig.clock)
    rig.runtime = again
    try:
        await again.start()
        await again.go_ready(agent.id)
        await again.go_ready(agent.id)
        assert again.status(agent.id).state is AgentState.READY
        await asyncio.sleep(0.2)
        assert len(_leg_originates(rig, "7002")) == 1, "re-ready after a restart rang the agent's phone again"
        # and the adopted leg is supervised: hanging it up takes the agent off
        leg = again.floor.agents.get(agent.id).leg_channel  # type: ignore[union-attr]
        assert leg is not None and leg.startswith("Local/7002@agent-sim-")
        await rig.gw.hangup(Hangup(channel=leg))
        await eventually(lambda: again.status(agent.id).state is AgentState.OFFLINE, "offline after the adopted leg drops")

    finally:
        await again.stop()  # the fixture stops only the runtime it made

async def test_two_concurrent_readies_make_one_session_and_one_leg(rig: Rig) -> None:  # noqa: F811
    async with rig.db.begin() as s:
        agent = await add_agent(s, "caio", "7003")
    await rig.runtime.start()
    await asyncio.gather(rig.runtime.go_ready(agent.id), rig.runtime.go_ready(agent.id), rig.runtime.go_ready(agent.id))
    await eventually(lambda: rig.runtime.status(agent.id).state is AgentState.READY, "ready")
    await asyncio.sleep(0.1)
    assert len(_leg_originates(rig, "7003")) == 1


async def test_pause_while_dialing_stops_new_calls_within_a_second_and_start_resumes(rig: Rig) -> None:  # noqa: F811
    async with rig.db.begin() as s:
        agent = await add_agent(s, "dora", "7004")
        campaign = await add_campaign(s)
        for i in range(30):
            await add_lead(s, campaign, f"5511987{i:05d}1")
    await rig.runtime.start()
    await _ready(rig, agent.id)
    await eventually(lambda: len(_customer_originates(rig)) >= 1, "dialing")
    # what `cobra campaign pause` does: a database write, seen by the running dialer
    async with rig.db.begin() as s:
        await s.execute(update(Campaign).where(Campaign.id == campaign.id).values(status=CampaignStatus.PAUSED))
    await eventually(lambda: rig.runtime.floor.campaigns[campaign.id].status == "paused", "pause seen", guard=1.0)
    placed = len(_customer_originates(rig))
    for _ in range(6):  # the agent keeps disposing; nothing new is dialled
        await asyncio.sleep(0.1)
        state = rig.runtime.status(agent.id)
        if state.state is AgentState.WRAP_UP:
            call_id = rig.runtime.current_pop(agent.id).call_id  # type: ignore[union-attr]
            await rig.runtime.dispose(agent.id, Disposition(call_id, "RECUSA", f"k-{call_id}"))
    assert len(_customer_originates(rig)) == placed
    async with rig.db.begin() as s:
        await s.execute(update(Campaign).where(Campaign.id == campaign.id).values(status=CampaignStatus.ACTIVE))
    if rig.runtime.status(agent.id).state is AgentState.WRAP_UP:
        call_id = rig.runtime.current_pop(agent.id).call_id  # type: ignore[union-attr]
        await rig.runtime.dispose(agent.id, Disposition(call_id, "RECUSA", f"k-{call_id}"))
    await eventually(lambda: len(_customer_originates(rig)) > placed, "dialing resumed", guard=1.5)


async def test_a_dispose_whose_caller_gives_up_still_completes_and_a_retry_is_a_duplicate(rig: Rig) -> None:  # noqa: F811
    async with rig.db.begin() as s:
        agent = await add_agent(s, "eva", "7005")
        campaign = await add_campaign(s)
        await add_lead(s, campaign, "5511987650001")
    await rig.runtime.start()
    await _ready(rig, agent.id)
    await eventually(lambda: rig.runtime.status(agent.id).state is AgentState.WRAP_UP, "wrap-up")
    call_id = rig.runtime.current_pop(agent.id).call_id  # type: ignore[union-attr]
    d = Disposition(call_id, "RECUSA", "k-give-up")
    try:
        await asyncio.wait_for(rig.runtime.dispose(agent.id, d), 0.0001)  # the web handler's timeout, at its worst
    except TimeoutError:
        pass
    await eventually(lambda: rig.runtime.status(agent.id).state is AgentState.READY, "wrap-up ended by the stored disposition")
    again = await rig.runtime.dispose(agent.id, d)
    assert again.duplicate and again.status.state is AgentState.READY
    async with rig.db() as s:
        assert await s.scalar(select(func.count()).select_from(Outcome)) == 1
    # another agent reusing that key gets no acknowledgement of someone else's outcome
    async with rig.db.begin() as s:
        other = await add_agent(s, "fabi", "7006")
    await rig.runtime.go_ready(other.id)
    try:
        await rig.runtime.dispose(other.id, d)
        raise AssertionError("another agent's key was acknowledged")
    except Exception as exc:  # noqa: BLE001  (which refusal is not the point: that there is one)
        assert "duplicate" not in str(exc)


async def test_a_script_assigned_by_another_process_is_run_by_the_next_calls(rig: Rig) -> None:  # noqa: F811
    from storage.repositories.scripts import publish_version, set_campaign_script

    text = (Path(__file__).resolve().parents[2] / "scripting" / "scripts" / "padrao.yaml").read_text(encoding="utf-8")
    async with rig.db.begin() as s:
        campaign = await add_campaign(s, running=False)
        await publish_version(s, "varejo", text.replace("id: padrao", "id: varejo"), published_by=None)
    await rig.runtime.start()
    assert rig.runtime.floor.scripts.for_campaign(campaign.id).id == "padrao"
    async with rig.db.begin() as s:  # what another server (or a SQL console) does: no API call reaches this one
        await set_campaign_script(s, campaign.id, "varejo")
    await eventually(lambda: rig.runtime.floor.scripts.for_campaign(campaign.id).id == "varejo", "script re-read")
