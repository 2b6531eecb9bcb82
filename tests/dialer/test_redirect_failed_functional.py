"""A Redirect that Asterisk refuses frees the agent at once (robust2): real simulator over TCP, real SQLite file.

The simulator's connect window here (60 simulated seconds, 6 s of loop time) is longer than the
dialer's connect guard (5 s of loop time), so before the fix only the guard freed the agent (and
hung the waiting customer up). No timing is asserted: what happened before what is.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialer.agents.desktop import CallPhase
from dialer.agents.state import AgentState
from dialer.ami.gateway import AmiGateway, AmiSettings
from dialer.ami.wire import Message
from dialer.floor.base import CONNECT_GUARD_MIN_S
from dialer.runtime import DialerRuntime, DialerSettings
from dialer.simulator.requests import Sink, error
from dialer.simulator.server import SimulatorServer
from storage.engine import create_engine, session_factory
from storage.models import CallAttempt, CallResult
from tests.dialer.runtime_support import (
    RecordingNotifier,
    actions,
    add_agent,
    add_campaign,
    add_lead,
    business_clock,
    eventually,
    migrated_copy,
)

TIME_SCALE = 0.1
SIM_WINDOW_S = 60.0  # the simulator's cobra-outbound Wait (simulated seconds): 6 s of loop time
DIALER_WINDOW_S = 0.3  # loop seconds: the guard is max(5 s, 3 x this)
GUARD_S = 30.0  # waits that reach this fail the test (guards, not measurements)


def scenario() -> dict[str, Any]:
    """Every customer answers after 1 simulated second and stays on the line until dropped or connected."""
    fixed = lambda mean: {"dist": "lognormal", "mean": mean, "sd": 0.0}  # noqa: E731
    return {
        "name": "redirect-refused",
        "seed": 1,
        "outcomes": {"live": 1.0},
        "ring_to_answer_s": fixed(1.0),
        "ring_to_fail_s": fixed(1.0),
        "no_answer_timeout_s": 20,
        "amd_detect_s": fixed(1.0),
        "talk_s": fixed(1000.0),
        "connect_window_s": SIM_WINDOW_S,
    }


@dataclass
class Rig:
    sim: SimulatorServer
    db: async_sessionmaker[AsyncSession]
    notifier: RecordingNotifier
    runtime: DialerRuntime


@pytest.fixture
async def rig(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Rig]:
    engine = create_engine(migrated_copy(tmp_path / "cobra.db", tmp_path_factory.getbasetemp()))
    sim = SimulatorServer(host="127.0.0.1", port=0, scenario=scenario(), time_scale=TIME_SCALE)
    await sim.start()
    gw = AmiGateway(
        AmiSettings(host="127.0.0.1", port=sim.port, username="cobra", secret="cobra", ping_interval_s=60.0,
                    action_timeout_s=3.0, reconnect_initial_s=0.02, reconnect_max_s=0.2)
    )
    await gw.start()
    notifier = RecordingNotifier(sim)
    settings = DialerSettings(connect_window_s=DIALER_WINDOW_S, ring_timeout_s=25.0, tick_s=0.02, recording=False)
    db = session_factory(engine)
    runtime = DialerRuntime(sessions=db, gateway=gw, notifier=notifier, settings=settings, clock=business_clock())
    yield Rig(sim, db, notifier, runtime)
    await runtime.stop()
    await gw.stop()
    await sim.stop()
    await engine.dispose()


async def stored_end(rig: Rig, attempt_id: str) -> CallAttempt:
    """The attempt once its end is stored (the writer commits in the background)."""

    async def ended() -> CallAttempt:
        while True:
            async with rig.db() as s:
                row = await s.get(CallAttempt, attempt_id)
                if row is not None and row.ended_at is not None:
                    return row
            await asyncio.sleep(0.05)

    return await asyncio.wait_for(ended(), GUARD_S)


def refuse_the_first_redirect(sim: SimulatorServer, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Asterisk's generic refusal ("Redirect failed") for the first Redirect; the channel stays where it is."""
    refused: list[str] = []
    handle = sim.pbx._action_redirect

    def redirect(a: Message, reply: Sink) -> None:
        if not refused:
            refused.append(a.get("Channel") or "")
            reply(error(a, "Redirect failed"))
            return
        handle(a, reply)

    monkeypatch.setattr(sim.pbx, "_action_redirect", redirect)
    return refused


async def test_a_refused_redirect_frees_the_agent_for_the_next_call_before_the_guard(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert SIM_WINDOW_S * TIME_SCALE > max(CONNECT_GUARD_MIN_S, 3 * DIALER_WINDOW_S), "the guard must come first"
    refused = refuse_the_first_redirect(rig.sim, monkeypatch)
    async with rig.db.begin() as s:
        agent = await add_agent(s, "rita", "7005")
        campaign = await add_campaign(s)
        await add_lead(s, campaign, "5511987650101", priority=2)
        await add_lead(s, campaign, "5511987650102", priority=1)
    await rig.runtime.start()
    await rig.runtime.go_ready(agent.id)

    pops = await eventually(lambda: len(rig.notifier.pops(agent.id)) >= 2 and rig.notifier.pops(agent.id),
                            "the agent's second call", guard=GUARD_S)
    # taken while the first customer was still waiting in the dialplan: neither the guard (which hangs
    # them up) nor the dialplan's drop freed the agent, the refusal did
    first_channel = refused[0]
    assert first_channel in rig.sim.pbx.channels, "the first customer was hung up: the guard freed the agent"
    first, second = pops[0].call_id, pops[1].call_id
    ended = rig.notifier.of("call_ended", agent.id)
    assert [r.payload[0] for r in ended] == [first]
    def told(r: Any) -> tuple[str, object]:
        what = {"agent_state": lambda p: p.state, "screen_pop": lambda p: p.call_id, "call_ended": lambda p: p[0]}
        return r.kind, what[r.kind](r.payload)

    kinds = [told(r) for r in rig.notifier.records
             if r.user_id == agent.id and r.kind in ("call_ended", "agent_state", "screen_pop")]
    assert kinds.index(("call_ended", first)) < kinds.index(("agent_state", AgentState.READY), 2) < kinds.index(
        ("screen_pop", second))
    async with rig.db() as s:
        attempt = await s.get(CallAttempt, first)
        assert attempt is not None and attempt.ended_at is None, "not stored before its end"

    # the second call connects; the first is dropped by the dialplan at its window: one abandon, stored once
    await eventually(lambda: rig.runtime.status(agent.id).state is AgentState.ON_CALL, "the second call connected",
                     guard=GUARD_S)
    assert (second, CallPhase.CONNECTED) in [r.payload for r in rig.notifier.of("call_state", agent.id)]
    assert [a.get("Channel") for a in actions(rig.sim, "Hangup")] == [], "the dialer hung nobody up"

    stored = await stored_end(rig, first)
    assert stored.result is CallResult.ABANDONED and stored.abandoned and stored.connected_at is None
    assert first not in rig.runtime.floor.calls
    assert rig.runtime.status(agent.id).state is AgentState.ON_CALL, "the first call's end left the agent alone"


async def test_a_customer_gone_as_the_redirect_arrives_is_stored_once_and_the_agent_goes_on(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the flaky CI run: "Redirect: Channel does not exist" — the customer's Hangup is on the wire before the error,
    # and whichever the dialer reads first, the call is stored once and the agent is told once and called again
    gone: list[str] = []
    handle = rig.sim.pbx._action_redirect

    def redirect(a: Message, reply: Sink) -> None:
        ch = rig.sim.pbx.channels.get(a.get("Channel") or "")
        if not gone and ch is not None:
            gone.append(ch.name)
            rig.sim.pbx._hangup(ch, 16)  # the customer hangs up a moment before the Redirect is read
        handle(a, reply)  # Asterisk's answer for a channel that no longer exists

    monkeypatch.setattr(rig.sim.pbx, "_action_redirect", redirect)
    async with rig.db.begin() as s:
        agent = await add_agent(s, "rui", "7006")
        campaign = await add_campaign(s)
        await add_lead(s, campaign, "5511987650201", priority=2)
        await add_lead(s, campaign, "5511987650202", priority=1)
    await rig.runtime.start()
    await rig.runtime.go_ready(agent.id)
    await eventually(lambda: rig.runtime.status(agent.id).state is AgentState.ON_CALL, "the second call connected",
                     guard=GUARD_S)
    first, second = (p.call_id for p in rig.notifier.pops(agent.id))
    assert gone and gone[0] not in rig.sim.pbx.channels
    assert [r.payload[0] for r in rig.notifier.of("call_ended", agent.id)] == [first], "told once"
    stored = await stored_end(rig, first)
    # hung up by the customer inside the window: answered, not an abandon, and no hangup of ours
    assert stored is not None and stored.result is CallResult.ANSWERED and not stored.abandoned
    assert stored.hangup_side == "customer"
    assert [a.get("Channel") for a in actions(rig.sim, "Hangup")] == []
    assert first not in rig.runtime.floor.calls and second in rig.runtime.floor.calls
