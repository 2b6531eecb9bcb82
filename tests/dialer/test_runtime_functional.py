"""DialerRuntime end to end: real simulator over TCP, real SQLite file built by migrations."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialer.agents.desktop import CallPhase, Disposition
from dialer.agents.state import AgentState, PauseReason
from dialer.ami.gateway import AmiGateway, AmiSettings
from dialer.calls.retry import promise_retry_at
from dialer.floor.recording import recording_path
from dialer.runtime import (
    DialerRuntime,
    DialerSettings,
    InvalidDisposition,
    NotOnCall,
    WrongCall,
)
from dialer.simulator.server import SimulatorServer
from storage.engine import create_engine, session_factory
from storage.models import (
    AgentStateChange,
    CallAttempt,
    CallFlag,
    CallResult,
    CampaignMode,
    Lead,
    LeadState,
    Outcome,
    Phone,
    PhoneStatus,
)
from tests.dialer.runtime_support import (
    GUARD_S,
    RecordingNotifier,
    actions,
    add_agent,
    add_campaign,
    add_lead,
    business_clock,
    eventually,
    migrated_copy,
)

# The simulator runs 10 times faster: a customer answers 0.1 s after the originate
TIME_SCALE = 0.1
SIM_CONNECT_WINDOW_S = 3.0  # the simulator's cobra-outbound Wait (simulated seconds)


@dataclass
class Rig:
    sim: SimulatorServer
    gw: AmiGateway
    db: async_sessionmaker[AsyncSession]
    notifier: RecordingNotifier
    runtime: DialerRuntime
    recordings: Path
    clock: Callable[[], datetime]


@pytest.fixture
async def rig(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Rig]:
    url = migrated_copy(tmp_path / "cobra.db", tmp_path_factory.getbasetemp())
    engine = create_engine(url)
    sim = SimulatorServer(host="127.0.0.1", port=0, username="cobra", secret="cobra", time_scale=TIME_SCALE)
    await sim.start()
    gw = AmiGateway(
        AmiSettings(
            host="127.0.0.1",
            port=sim.port,
            username="cobra",
            secret="cobra",
            ping_interval_s=60.0,
            action_timeout_s=3.0,
            reconnect_initial_s=0.02,
            reconnect_max_s=0.2,
        )
    )
    await gw.start()
    notifier = RecordingNotifier(sim)
    recordings = tmp_path / "recordings"
    settings = DialerSettings(
        # the same window the simulator's dialplan waits before dropping the call
        connect_window_s=SIM_CONNECT_WINDOW_S * TIME_SCALE,
        ring_timeout_s=25.0,
        tick_s=0.02,
        recordings_dir=recordings,
    )
    db = session_factory(engine)
    clock = business_clock()
    runtime = DialerRuntime(sessions=db, gateway=gw, notifier=notifier, settings=settings, clock=clock)
    yield Rig(sim, gw, db, notifier, runtime, recordings, clock)
    await runtime.stop()
    await gw.stop()
    await sim.stop()
    await engine.dispose()


async def _ready(rig: Rig, user_id: int) -> None:
    await rig.runtime.go_ready(user_id)
    await eventually(lambda: rig.runtime.status(user_id).state is AgentState.READY, f"agent {user_id} ready")


async def _attempt(rig: Rig, attempt_id: str) -> CallAttempt:
    async with rig.db() as s:
        attempt = await s.get(CallAttempt, attempt_id)
        assert attempt is not None
        return attempt


async def _ended_attempts(rig: Rig) -> list[CallAttempt]:
    async with rig.db() as s:
        return list((await s.execute(select(CallAttempt).where(CallAttempt.ended_at.is_not(None)))).scalars())


async def _wait_ended(rig: Rig, n: int) -> list[CallAttempt]:
    """The ended attempts once there are ``n`` of them (polling the database)."""
    deadline = asyncio.get_running_loop().time() + GUARD_S
    while len(ended := await _ended_attempts(rig)) < n:
        assert asyncio.get_running_loop().time() < deadline, f"only {len(ended)} of {n} attempts ended"
        await asyncio.sleep(0.02)
    return ended


async def test_go_ready_brings_the_agent_leg_up_and_logout_hangs_it_up(rig: Rig) -> None:
    async with rig.db.begin() as s:
        agent = await add_agent(s, "ana", "7001")
    await rig.runtime.start()
    await rig.runtime.go_ready(agent.id)
    assert rig.runtime.status(agent.id).state in (AgentState.CONNECTING, AgentState.READY)
    await eventually(lambda: rig.runtime.status(agent.id).state is AgentState.READY, "READY after ConfbridgeJoin")
    originate = actions(rig.sim, "Originate")[0]
    assert originate.get("Channel") == "Local/7001@agent-sim"
    assert (originate.get("Context"), originate.get("Exten")) == ("cobra-agent-bridge", "7001")

    await rig.runtime.pause(agent.id, PauseReason.LANCHE)
    assert rig.runtime.status(agent.id).state is AgentState.PAUSED
    await rig.runtime.go_ready(agent.id)  # leg still up: straight back to ready
    assert rig.runtime.status(agent.id).state is AgentState.READY
    assert len(actions(rig.sim, "Originate")) == 1

    await rig.runtime.logout(agent.id)
    assert rig.runtime.status(agent.id).state is AgentState.OFFLINE
    hangups = await eventually(lambda: actions(rig.sim, "Hangup"), "Hangup of the agent leg")
    assert hangups[0].get("Channel", "").startswith("Local/7001@agent-sim")
    await rig.runtime.stop()
    async with rig.db() as s:
        rows = (await s.execute(select(AgentStateChange).order_by(AgentStateChange.id))).scalars().all()
    assert [(r.from_state.value, r.to_state.value) for r in rows] == [
        ("offline", "connecting"),
        ("connecting", "ready"),
        ("ready", "paused"),
        ("paused", "ready"),
        ("ready", "offline"),
    ]
    assert rows[2].reason == "lanche"
    states = [r.payload.state for r in rig.notifier.of("agent_state", agent.id)]
    assert states == [AgentState.CONNECTING, AgentState.READY, AgentState.PAUSED, AgentState.READY, AgentState.OFFLINE]


async def test_progressive_call_pops_before_redirect_connects_and_is_disposed_once(rig: Rig) -> None:
    async with rig.db.begin() as s:
        agent = await add_agent(s, "bia", "7002")
        campaign = await add_campaign(s)
        lead = await add_lead(s, campaign, "5511987650001", name="José Antônio Pereira")
    await rig.runtime.start()
    await _ready(rig, agent.id)

    await eventually(lambda: rig.runtime.status(agent.id).state is AgentState.WRAP_UP, "call connected then ended")
    pop_record = rig.notifier.of("screen_pop", agent.id)[0]
    pop = pop_record.payload
    assert pop_record.redirects_seen == 0, "the simulator saw the Redirect before the pop was sent"
    redirect = actions(rig.sim, "Redirect")[0]
    assert (redirect.get("Context"), redirect.get("Exten")) == ("cobra-agent-bridge", "7002")
    assert pop.customer.first_name == "José" and pop.customer.masked_cpf == "***.456.789-**"
    assert pop.total_balance == Decimal("1234.56") and pop.debts[0].contract == "CT-0001"
    assert pop.phone_e164 == "+5511987650001" and pop.mode == "progressive"
    phases = [r.payload[1] for r in rig.notifier.of("call_state", agent.id)]
    assert phases == [CallPhase.CONNECTING, CallPhase.CONNECTED]
    ended = rig.notifier.of("call_ended", agent.id)[0].payload
    assert ended[0] == pop.call_id and ended[1] == "connected"
    assert rig.runtime.current_pop(agent.id) == pop

    originate = next(a for a in actions(rig.sim, "Originate") if a.get("Context") == "cobra-outbound")
    assert originate.get("ActionID") == pop.call_id == originate.get("ChannelId")
    assert originate.get("Channel") == "Local/5511987650001@cust-sim"
    assert f"COBRA_CALL={pop.call_id}" in originate.get_all("Variable")
    assert f"COBRA_CONNECT_WINDOW={SIM_CONNECT_WINDOW_S * TIME_SCALE:g}" in originate.get_all("Variable")
    monitor = await eventually(lambda: actions(rig.sim, "MixMonitor"), "MixMonitor sent")
    assert pop.call_id in monitor[0].get("File", "")

    with pytest.raises(InvalidDisposition) as bad:
        await rig.runtime.dispose(agent.id, Disposition(pop.call_id, "PROMESSA", "k1", promise_amount=Decimal(300)))
    assert bad.value.field == "promise_date"
    promised = rig.clock().date() + timedelta(days=5)
    d = Disposition(pop.call_id, "PROMESSA", "k-promise", promise_amount=Decimal("300.00"), promise_date=promised)
    first = await rig.runtime.dispose(agent.id, d)
    again = await rig.runtime.dispose(agent.id, d)
    assert not first.duplicate and again.duplicate and again.outcome_id == first.outcome_id
    assert rig.runtime.status(agent.id).state is AgentState.READY
    assert rig.runtime.current_pop(agent.id) is None

    await rig.runtime.stop()
    attempt = await _attempt(rig, pop.call_id)
    assert attempt.result is CallResult.CONNECTED and attempt.agent_id == agent.id
    assert attempt.originated_at and attempt.answered_at and attempt.connected_at and attempt.ended_at
    assert attempt.originated_at <= attempt.answered_at <= attempt.connected_at <= attempt.ended_at
    assert attempt.wrapup_ended_at is not None and attempt.hangup_cause == 16
    assert attempt.short_call is True  # the simulated customer talks 4 simulated seconds
    assert attempt.recording_path == recording_path(str(rig.recordings), pop.call_id, attempt.connected_at)
    async with rig.db() as s:
        outcomes = (await s.execute(select(Outcome))).scalars().all()
        flags = (await s.execute(select(CallFlag).where(CallFlag.attempt_id == pop.call_id))).scalars().all()
        stored_lead = await s.get(Lead, lead.id)
    assert len(outcomes) == 1 and outcomes[0].code.value == "PROMESSA" and outcomes[0].promise_date == promised
    # QA: the timeline's side, and the flags stored with the outcome (a promise with no identity check, 4 s of talk)
    assert attempt.hangup_side == "customer"
    assert attempt.ringing_at is None or attempt.originated_at <= attempt.ringing_at <= attempt.answered_at
    assert sorted(f.code for f in flags) == ["chamada_curta", "divida_antes_identidade"]
    assert stored_lead is not None and stored_lead.state is LeadState.DIALABLE
    assert stored_lead.next_attempt_at == promise_retry_at(promised)
    assert stored_lead.attempts == 1 and stored_lead.claimed_by is None


async def test_no_ready_agent_when_answered_is_an_abandon_with_72h_gap(rig: Rig) -> None:
    async with rig.db.begin() as s:
        agent = await add_agent(s, "caio", "7003")
        campaign = await add_campaign(s)
        lead = await add_lead(s, campaign, "5511987650011")
    await rig.runtime.start()
    await _ready(rig, agent.id)
    await eventually(lambda: any(a.get("Context") == "cobra-outbound" for a in actions(rig.sim, "Originate")), "dialled")
    await rig.runtime.pause(agent.id, PauseReason.BANHEIRO)  # before the customer answers
    [attempt] = await _wait_ended(rig, 1)
    await rig.runtime.stop()
    assert attempt.result is CallResult.ABANDONED and attempt.abandoned
    assert attempt.answered_at is not None and attempt.connected_at is None and attempt.agent_id is None
    assert rig.notifier.pops() == [] and actions(rig.sim, "Redirect") == []
    async with rig.db() as s:
        stored = await s.get(Lead, lead.id)
    assert stored is not None and stored.next_attempt_at == attempt.ended_at + timedelta(hours=72)
    assert stored.last_result == "abandoned"


async def test_busy_no_answer_and_congestion_are_stored_with_their_gaps(rig: Rig) -> None:
    async with rig.db.begin() as s:
        agent = await add_agent(s, "duda", "7004")
        campaign = await add_campaign(s)
        leads = {
            "busy": await add_lead(s, campaign, "5511987650002", priority=1),
            "congestion": await add_lead(s, campaign, "5511987650004", priority=2),
            "no_answer": await add_lead(s, campaign, "5511987650003", priority=3),
        }
    await rig.runtime.start()
    await _ready(rig, agent.id)
    attempts = await _wait_ended(rig, 3)
    await rig.runtime.stop()
    gaps = {"busy": timedelta(minutes=15), "no_answer": timedelta(hours=2), "congestion": timedelta(minutes=15)}
    by_lead = {a.lead_id: a for a in attempts}
    async with rig.db() as s:
        for result, lead in leads.items():
            attempt = by_lead[lead.id]
            assert attempt.result.value == result
            assert attempt.answered_at is None and attempt.originate_reason is not None
            stored = await s.get(Lead, lead.id)
            assert stored is not None and stored.next_attempt_at == attempt.ended_at + gaps[result]
    assert rig.notifier.pops() == []
    assert rig.runtime.status(agent.id).state is AgentState.READY


async def test_two_agents_never_share_a_call_nor_hold_two(rig: Rig) -> None:
    async with rig.db.begin() as s:
        a = await add_agent(s, "eva", "7005")
        b = await add_agent(s, "fabio", "7006")
        campaign = await add_campaign(s)
        for i in range(5):
            await add_lead(s, campaign, f"55119876500{i}1")
    await rig.runtime.start()
    await _ready(rig, a.id)
    await _ready(rig, b.id)
    disposed: set[str] = set()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while True:
        ended = await _ended_attempts(rig)
        if len(ended) >= 5 and all(rig.runtime.status(u).state is not AgentState.WRAP_UP for u in (a.id, b.id)):
            break
        assert loop.time() < deadline, f"{len(ended)} attempts ended"
        for user in (a.id, b.id):
            pop = rig.runtime.current_pop(user)
            if rig.runtime.status(user).state is AgentState.WRAP_UP and pop is not None and pop.call_id not in disposed:
                disposed.add(pop.call_id)
                await rig.runtime.dispose(user, Disposition(pop.call_id, "RECUSA", f"k-{pop.call_id}"))
        await asyncio.sleep(0.01)
    await rig.runtime.stop()
    pops = rig.notifier.of("screen_pop")
    call_ids = [r.payload.call_id for r in pops]
    assert len(call_ids) == len(set(call_ids)), "a call was popped to two agents"
    for user in (a.id, b.id):
        open_call: str | None = None
        for r in rig.notifier.records:
            if r.user_id != user:
                continue
            if r.kind == "screen_pop":
                assert open_call is None, f"agent {user} got a second call while holding one"
                open_call = r.payload.call_id
            elif r.kind == "agent_state" and r.payload.state is AgentState.READY:
                open_call = None
    async with rig.db() as s:
        outcomes = (await s.execute(select(func.count()).select_from(Outcome))).scalar_one()
    connected = [x for x in ended if x.result is CallResult.CONNECTED]
    assert outcomes == len(connected) == len(disposed) >= 2


async def test_preview_pop_first_then_dial_into_the_agent_conference(rig: Rig) -> None:
    async with rig.db.begin() as s:
        agent = await add_agent(s, "gil", "7007")
        campaign = await add_campaign(s, CampaignMode.PREVIEW)
        await add_lead(s, campaign, "5511987650021")
    await rig.runtime.start()
    await _ready(rig, agent.id)
    await eventually(lambda: rig.runtime.status(agent.id).state is AgentState.RESERVED, "preview reserved")
    pop = rig.runtime.current_pop(agent.id)
    assert pop is not None and pop.mode == "preview"
    assert rig.notifier.of("call_state", agent.id)[0].payload == (pop.call_id, CallPhase.PREVIEW)
    assert [a for a in actions(rig.sim, "Originate") if a.get("Channel", "").startswith("Local/5511")] == []
    with pytest.raises(WrongCall):
        await rig.runtime.dial_preview(agent.id, "not-this-one")
    await rig.runtime.dial_preview(agent.id, pop.call_id)
    await eventually(lambda: rig.runtime.status(agent.id).state is AgentState.ON_CALL, "preview connected")
    customer = [a for a in actions(rig.sim, "Originate") if a.get("Channel", "").startswith("Local/5511")]
    assert (customer[0].get("Context"), customer[0].get("Exten")) == ("cobra-agent-bridge", "7007")
    assert actions(rig.sim, "Redirect") == []
    await eventually(lambda: rig.runtime.status(agent.id).state is AgentState.WRAP_UP, "customer hung up")
    result = await rig.runtime.dispose(agent.id, Disposition(pop.call_id, "RECADO", "k-prev"))
    assert not result.duplicate
    await rig.runtime.stop()
    attempt = await _attempt(rig, pop.call_id)
    assert attempt.mode is CampaignMode.PREVIEW and attempt.result is CallResult.CONNECTED
    assert attempt.originated_at is not None and attempt.agent_id == agent.id


async def test_hangup_and_telefone_errado_mark_the_phone_wrong(rig: Rig) -> None:
    async with rig.db.begin() as s:
        agent = await add_agent(s, "hugo", "7008")
        campaign = await add_campaign(s, CampaignMode.PREVIEW)
        lead = await add_lead(s, campaign, "5511987650031")
    await rig.runtime.start()
    await _ready(rig, agent.id)
    await eventually(lambda: rig.runtime.current_pop(agent.id), "preview pop")
    pop = rig.runtime.current_pop(agent.id)
    assert pop is not None
    with pytest.raises(NotOnCall):
        await rig.runtime.hangup(agent.id, pop.call_id)  # not dialled yet
    await rig.runtime.dial_preview(agent.id, pop.call_id)
    await eventually(lambda: rig.runtime.status(agent.id).state is AgentState.ON_CALL, "connected")
    await rig.runtime.hangup(agent.id, pop.call_id)
    await eventually(lambda: rig.runtime.status(agent.id).state is AgentState.WRAP_UP, "hung up by the agent")
    hangup = [h for h in actions(rig.sim, "Hangup") if h.get("Channel", "").startswith("Local/5511")]
    assert hangup, "the customer channel was not hung up"
    await rig.runtime.dispose(agent.id, Disposition(pop.call_id, "TELEFONE_ERRADO", "k-wrong"))
    await rig.runtime.stop()
    async with rig.db() as s:
        phone = (await s.execute(select(Phone).where(Phone.customer_id == lead.customer_id))).scalar_one()
    assert phone.status is PhoneStatus.WRONG


async def test_retornar_owned_callback_goes_back_to_its_agent(rig: Rig) -> None:
    async with rig.db.begin() as s:
        a = await add_agent(s, "ines", "7009")
        b = await add_agent(s, "joao", "7010")
        campaign = await add_campaign(s)
        await add_lead(s, campaign, "5511987650041")
    await rig.runtime.start()
    await _ready(rig, a.id)  # a has been ready longest: gets the first call
    await eventually(lambda: rig.runtime.status(a.id).state is AgentState.WRAP_UP, "first call done")
    await _ready(rig, b.id)  # b is now the longest idle agent
    first = rig.runtime.current_pop(a.id)
    assert first is not None
    due = rig.clock() + timedelta(seconds=1)
    result = await rig.runtime.dispose(
        a.id, Disposition(first.call_id, "RETORNAR", "k-cb", callback_at=due, callback_own=True)
    )
    assert result.callback_id is not None
    second = await eventually(lambda: [p for p in rig.notifier.pops() if p.call_id != first.call_id], "callback call")
    assert [r.user_id for r in rig.notifier.of("screen_pop") if r.payload.call_id == second[0].call_id] == [a.id]
    assert rig.notifier.pops(b.id) == []
    await rig.runtime.stop()
