"""Link-loss trials over real TCP: a front (proxy) between the gateway and the PBX simulator.

Issue 14, item 2: with a proxy in front of an Asterisk that is down, a connection is
accepted and closed before login, or accepted and never answered, or cut while an
Originate waits for its outcome. Each case runs 100 times against one gateway; the link
must always come back once the front behaves again, and the PBX must never receive an
Originate twice for one ActionID (nothing is re-sent after a reconnect).
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import random
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from dialer.ami.actions import Originate
from dialer.ami.gateway import AmiGateway, AmiSettings, LinkChanged, LinkState
from dialer.errors import AmiLinkLost, AmiNotConnected
from dialer.simulator.server import SimulatorServer
from tests.dialer.ami_front import Front, Mode

TRIALS = 100
# Guard for waits that should end quickly; reaching it fails the trial (not a measurement)
GUARD_S = 5.0
TIME_SCALE = 0.02

pytestmark = pytest.mark.slow


@dataclass
class Rig:
    sim: SimulatorServer
    front: Front
    gw: AmiGateway


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    sim = SimulatorServer(host="127.0.0.1", port=0, username="cobra", secret="cobra", time_scale=TIME_SCALE)
    await sim.start()
    front = Front(sim.port)
    await front.start()
    # small timings keep each trial short; the watchdog stays out of the way
    settings = AmiSettings(
        host="127.0.0.1",
        port=front.port,
        ping_interval_s=60.0,
        action_timeout_s=2.0,
        login_timeout_s=0.05,
        connect_timeout_s=1.0,
        reconnect_initial_s=0.001,
        reconnect_max_s=0.01,
        queue_size=100_000,
    )
    gw = AmiGateway(settings)
    await gw.start()
    try:
        yield Rig(sim, front, gw)
    finally:
        await gw.stop()
        await front.stop()
        await sim.stop()


async def _until(condition: object, what: str) -> None:
    async def poll() -> None:
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.001)

    try:
        await asyncio.wait_for(poll(), GUARD_S)
    except TimeoutError:
        raise AssertionError(f"never happened: {what}") from None


async def _back_up(rig: Rig, trial: int) -> None:
    """The front behaves again: the link must come up and carry a round trip."""
    rig.front.mode = Mode.PASS
    try:
        await rig.gw.wait_up(GUARD_S)
    except Exception as exc:
        raise AssertionError(f"trial {trial}: link stuck in {rig.gw.status}") from exc
    assert await rig.gw.ping() >= 0


def _originate_ids(sim: SimulatorServer) -> Counter[str]:
    return Counter(m.get("ActionID") or "" for m in sim.received_actions if m.get("Action") == "Originate")


def _pbx_has(sim: SimulatorServer, action_id: str, data: bytes) -> bool:
    return _originate_ids(sim)[action_id] > 0


def _drain(gw: AmiGateway) -> list[LinkState]:
    items = [gw.queue.get_nowait() for _ in range(gw.queue.qsize())]
    return [i.state for i in items if isinstance(i, LinkChanged)]


def _assert_changes_in_order(states: list[LinkState]) -> None:
    """One LinkChanged per change, and never UP without logging in first."""
    assert all(a is not b for a, b in itertools.pairwise(states)), states
    for before, after in itertools.pairwise(states):
        if after is LinkState.UP:
            assert before is LinkState.LOGGING_IN, states


async def test_a_front_that_accepts_and_closes_before_login(rig: Rig) -> None:
    rnd = random.Random(2)
    for trial in range(TRIALS):
        seen = rig.front.accepted
        rig.front.mode = Mode.CLOSE
        # at once, or a moment later (before or after the gateway's Login reaches it)
        rig.front.close_after_s = rnd.choice([None, None, 0.0005, 0.002])
        rig.front.abort_close = rnd.random() < 0.3
        rig.front.drop_all()  # the PBX behind restarts: the live link goes first
        await _until(lambda s=seen: rig.front.accepted >= s + 2, f"trial {trial}: two refused attempts")
        await _back_up(rig, trial)
    assert rig.gw.failed_attempts == 0 and rig.gw.last_error is None
    _assert_changes_in_order(_drain(rig.gw))


async def test_a_front_that_accepts_and_never_answers(rig: Rig) -> None:
    rnd = random.Random(3)
    for trial in range(TRIALS):
        seen = rig.front.accepted
        rig.front.mode = Mode.SILENT
        # never closes (the login timeout must act), or closes around the login timeout (0.05 s)
        rig.front.close_after_s = rnd.choice([None, None, 0.03, 0.05, 0.07])
        rig.front.abort_close = rnd.random() < 0.3
        rig.front.drop_all()
        await _until(lambda s=seen: rig.front.accepted >= s + 1, f"trial {trial}: a silent attempt")
        # switch back while the gateway still waits for a Login reply on the silent socket
        await _back_up(rig, trial)
    assert rig.gw.status.state is LinkState.UP
    _assert_changes_in_order(_drain(rig.gw))


async def test_a_front_that_cuts_mid_originate_never_places_a_call_twice(rig: Rig) -> None:
    rnd = random.Random(4)
    ids: list[str] = []
    lost = 0
    for trial in range(TRIALS):
        action = Originate(
            channel="Local/5511999990003@cust-sim",  # rings until its timeout: still pending at the cut
            context="cobra-outbound",
            exten="s",
            timeout_ms=60_000,
            caller_id="Cobra <551130000000>",
            action_id=f"orig-{trial}",
            channel_id=f"att-{trial}",
        )
        ids.append(action.action_id)
        rig.front.cut_on_originate = True
        rig.front.cut_after_pbx_has_it = rnd.random() < 0.7
        rig.front.pbx_has = functools.partial(_pbx_has, rig.sim, action.action_id)
        try:
            await asyncio.wait_for(rig.gw.originate(action), GUARD_S)
        except AmiLinkLost as exc:
            assert exc.action_id == action.action_id and exc.channel_id == f"att-{trial}"
            lost += 1
        except AmiNotConnected:
            pytest.fail(f"trial {trial}: the link was not up before the Originate")
        await _back_up(rig, trial)
        assert rig.gw.pending_originates == {}
    assert lost == TRIALS and rig.front.cuts == TRIALS
    # a round trip after the last reconnect: whatever the gateway wrote has been read
    await rig.gw.ping()
    counts = _originate_ids(rig.sim)
    assert [a for a, n in counts.items() if n > 1] == [], "an Originate reached the PBX twice"
    assert set(counts) <= set(ids)
    assert len(counts) >= 50, "most cuts came after the PBX had the Originate"
    _assert_changes_in_order(_drain(rig.gw))
