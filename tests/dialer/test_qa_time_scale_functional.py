"""The short-call QA flag judges the call's own seconds, whatever speed the PBX runs at.

``cobra demo --speed 20`` runs the simulator twenty times faster than the loop: a customer
who talks 40 s of the call's time hangs up 2 s later on the dialer's clock, which is what the
database stores. Real simulator over TCP, real SQLite file built by the migrations.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialer.agents.desktop import Disposition
from dialer.agents.state import AgentState
from dialer.ami.gateway import AmiGateway, AmiSettings
from dialer.qa.records import talk_seconds
from dialer.runtime import DialerRuntime, DialerSettings
from dialer.simulator.server import SimulatorServer
from storage.engine import create_engine, session_factory
from storage.models import CallAttempt, CallFlag
from tests.dialer.runtime_support import (
    RecordingNotifier,
    add_agent,
    add_campaign,
    add_lead,
    business_clock,
    eventually,
    migrated_copy,
)

TIME_SCALE = 0.05  # cobra demo --speed 20
TALK_S = 40.0  # the call's own seconds: above [qa] short_call_s = 30
# the simulator's connect window, simulated seconds: 1 s of loop time, so a loaded machine still redirects in time
SIM_WINDOW_S = 20.0
SCENARIO = {
    "name": "one long live call",
    "seed": 1,
    "outcomes": {"live": 1.0, "machine": 0.0, "busy": 0.0, "congestion": 0.0, "no_answer": 0.0},
    "ring_to_answer_s": {"dist": "lognormal", "mean": 1.0, "sd": 0.01},
    "ring_to_fail_s": {"dist": "lognormal", "mean": 1.0, "sd": 0.01},
    "no_answer_timeout_s": 20,
    "amd_detect_s": {"dist": "lognormal", "mean": 1.0, "sd": 0.01},
    "talk_s": {"dist": "lognormal", "mean": TALK_S, "sd": 0.01},
    "connect_window_s": SIM_WINDOW_S,
}


@dataclass
class Flagged:
    codes: list[str]
    stored_talk_s: int | None
    anatel_short: bool


async def _one_recusa(tmp_path_factory: pytest.TempPathFactory, name: str, **scales: float) -> Flagged:
    """One call on a simulator at TIME_SCALE, disposed RECUSA by a dialer told ``scales`` (clock_scale, qa_time_scale)."""
    dest = tmp_path_factory.mktemp(name)
    engine = create_engine(migrated_copy(dest / "cobra.db", tmp_path_factory.getbasetemp()))
    db: async_sessionmaker[AsyncSession] = session_factory(engine)
    sim = SimulatorServer(host="127.0.0.1", port=0, username="cobra", secret="cobra", time_scale=TIME_SCALE,
                          scenario=SCENARIO)
    await sim.start()
    gw = AmiGateway(AmiSettings(host="127.0.0.1", port=sim.port, username="cobra", secret="cobra",
                                ping_interval_s=60.0, action_timeout_s=3.0, reconnect_initial_s=0.02, reconnect_max_s=0.2))
    await gw.start()
    # the simulator's window in the dialer's PBX seconds (loop seconds when it is told no clock_scale)
    window_s = SIM_WINDOW_S * TIME_SCALE / scales.get("clock_scale", 1.0)
    settings = DialerSettings(connect_window_s=window_s, ring_timeout_s=25.0, tick_s=0.02, recording=False,
                              qa_short_call_s=30, **scales)  # type: ignore[arg-type]
    runtime = DialerRuntime(sessions=db, gateway=gw, notifier=RecordingNotifier(sim), settings=settings,
                            clock=business_clock())
    try:
        async with db.begin() as s:
            agent = await add_agent(s, "ana", "7001")
            campaign = await add_campaign(s)
            await add_lead(s, campaign, "5511987650001")
        await runtime.start()
        await runtime.go_ready(agent.id)
        await eventually(lambda: runtime.status(agent.id).state is AgentState.WRAP_UP, "the customer hung up", guard=20.0)
        pop = runtime.current_pop(agent.id)
        assert pop is not None
        await runtime.dispose(agent.id, Disposition(pop.call_id, "RECUSA", "k-recusa"))
        await runtime.stop()
        async with db() as s:
            attempt = await s.get(CallAttempt, pop.call_id)
            assert attempt is not None
            flags = (await s.execute(select(CallFlag).where(CallFlag.attempt_id == pop.call_id))).scalars().all()
        return Flagged(sorted(f.code for f in flags), talk_seconds(attempt.connected_at, attempt.ended_at),
                       attempt.short_call)
    finally:
        await runtime.stop()
        await gw.stop()
        await sim.stop()
        await engine.dispose()


async def test_a_demo_at_speed_does_not_flag_a_call_long_in_its_own_time(tmp_path_factory: pytest.TempPathFactory) -> None:
    # what `cobra demo --speed 20` sets (web.demo.service)
    got = await _one_recusa(tmp_path_factory, "demo", qa_time_scale=TIME_SCALE)
    # the database holds the loop's seconds: a couple of them, far under the 30 s threshold
    assert got.stored_talk_s is not None and got.stored_talk_s < 30
    assert "chamada_curta" not in got.codes  # 40 s of the call's time is not a short call


async def test_a_dialer_on_a_fast_simulator_judges_the_calls_seconds(tmp_path_factory: pytest.TempPathFactory) -> None:
    # clock_scale (pacing's loop seconds per PBX second) is what the QA flags follow by default
    got = await _one_recusa(tmp_path_factory, "fast", clock_scale=TIME_SCALE)
    assert "chamada_curta" not in got.codes
    assert got.anatel_short is False


async def test_the_same_seconds_on_a_real_pbx_are_a_short_call(tmp_path_factory: pytest.TempPathFactory) -> None:
    # clock_scale 1: the dialer believes its seconds are the call's (a real Asterisk): a short call
    got = await _one_recusa(tmp_path_factory, "real", clock_scale=1.0)
    assert got.stored_talk_s is not None and got.stored_talk_s < 30
    assert "chamada_curta" in got.codes
