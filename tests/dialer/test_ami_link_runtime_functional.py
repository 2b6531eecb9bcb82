"""The dialer through a front that fails like a proxy before a restarting Asterisk.

The runtime is unchanged: it pauses on the gateway's ``LinkChanged`` items. Here the
front accepts and closes every connection for a while (the case that used to leave the
link in ``logging_in`` for good): dialing must pause, no attempt may be created while the
link is down, and dialing must resume once the front behaves, without any Originate
reaching the PBX twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialer.agents.state import AgentState
from dialer.ami.gateway import AmiGateway, AmiSettings
from dialer.clocks import business_clock
from dialer.runtime import DialerRuntime, DialerSettings
from dialer.simulator.server import SimulatorServer
from storage.engine import create_engine, session_factory
from storage.models import CallAttempt
from tests.dialer.ami_front import Front, Mode
from tests.dialer.runtime_support import (
    RecordingNotifier,
    actions,
    add_agent,
    add_campaign,
    add_lead,
    eventually,
    migrated_copy,
)

TIME_SCALE = 0.02

pytestmark = pytest.mark.slow


@dataclass
class Rig:
    sim: SimulatorServer
    front: Front
    gw: AmiGateway
    runtime: DialerRuntime
    db: async_sessionmaker[AsyncSession]


@pytest.fixture
async def rig(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Rig]:
    url = migrated_copy(tmp_path / "cobra.db", tmp_path_factory.getbasetemp())
    engine = create_engine(url)
    sim = SimulatorServer(host="127.0.0.1", port=0, username="cobra", secret="cobra", time_scale=TIME_SCALE)
    await sim.start()
    front = Front(sim.port)
    await front.start()
    gw = AmiGateway(
        AmiSettings(
            host="127.0.0.1",
            port=front.port,
            ping_interval_s=60.0,
            action_timeout_s=3.0,
            login_timeout_s=0.1,
            reconnect_initial_s=0.01,
            reconnect_max_s=0.05,
        )
    )
    await gw.start()
    db = session_factory(engine)
    settings = DialerSettings(ring_timeout_s=25.0, tick_s=0.02, recordings_dir=tmp_path / "recordings")
    runtime = DialerRuntime(
        sessions=db, gateway=gw, notifier=RecordingNotifier(sim), settings=settings, clock=business_clock()
    )
    try:
        yield Rig(sim, front, gw, runtime, db)
    finally:
        await runtime.stop()
        await gw.stop()
        await front.stop()
        await sim.stop()
        await engine.dispose()


async def _attempts(rig: Rig) -> int:
    async with rig.db() as s:
        return int((await s.execute(select(func.count()).select_from(CallAttempt))).scalar_one())


def _customer_originates(rig: Rig) -> int:
    return sum(1 for m in actions(rig.sim, "Originate") if "@cust-sim" in m.get("Channel", ""))


async def test_dialing_pauses_while_the_front_refuses_and_resumes_after(rig: Rig) -> None:
    async with rig.db.begin() as s:
        agent = await add_agent(s, "ana", "7001")
        campaign = await add_campaign(s)
        for i in range(60):
            # numbers ending in 3 ring until the ring timeout (0.5 s here): the calls keep coming
            await add_lead(s, campaign, f"551198{i:06d}3")
    await rig.runtime.start()
    await rig.runtime.go_ready(agent.id)
    await eventually(lambda: rig.runtime.status(agent.id).state is AgentState.READY, "agent ready")
    await eventually(lambda: _customer_originates(rig) >= 2, "dialing")

    rig.front.mode = Mode.CLOSE  # the PBX behind the front restarts
    rig.front.drop_all()
    await eventually(lambda: not rig.runtime.floor.link_up, "dialing paused")
    seen = rig.front.accepted
    await eventually(lambda: rig.front.accepted >= seen + 3, "three refused reconnects")
    during = await _attempts(rig)
    seen = rig.front.accepted
    await eventually(lambda: rig.front.accepted >= seen + 5, "five more refused reconnects")
    assert await _attempts(rig) == during, "attempts were created while the link was down"
    assert not rig.gw.connected and rig.gw.failed_attempts >= 5

    placed = _customer_originates(rig)
    rig.front.mode = Mode.PASS
    await eventually(lambda: rig.runtime.floor.link_up, "link back")
    await eventually(lambda: _customer_originates(rig) > placed, "dialing resumed")
    await rig.gw.ping()  # whatever the gateway wrote has been read by the PBX
    counts = Counter(m.get("ActionID") for m in actions(rig.sim, "Originate"))
    assert [a for a, n in counts.items() if n > 1] == []
