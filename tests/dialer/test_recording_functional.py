"""Call recordings end to end: real simulator over TCP, the real AMI client, real SQLite (migrated).

MixMonitor on every connected call of a recording campaign (file under the date layout, the
simulator writes a real WAV), none for a campaign that does not record, and MixMonitorMute
around a sensitive script step with the gap stored and silent in the file.
"""

from __future__ import annotations

import asyncio
import wave
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialer.agents.desktop import CallPhase
from dialer.agents.state import AgentState
from dialer.ami.gateway import AmiGateway, AmiSettings
from dialer.floor.recording import recording_path
from dialer.floor.session import ScriptBook
from dialer.runtime import DialerRuntime, DialerSettings
from dialer.simulator.server import SimulatorServer
from scripting.script import check_script
from storage.engine import create_engine, session_factory
from storage.models import CallAttempt, User
from storage.repositories.recordings import recording_gaps
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

# A quarter of real time: the last-digit-1 customer talks 4.5 simulated seconds (1.1 s here)
TIME_SCALE = 0.25
SIM_CONNECT_WINDOW_S = 3.0

CARD_SCRIPT = check_script(
    """\
id: cartao
version: 1
title: Cartão
steps:
  - id: abertura
    title: Abertura
    text: Olá, esta ligação está sendo gravada.
    choices:
      - {id: sim, label: É a pessoa, next: identidade}
  - id: identidade
    title: Identidade
    gate: identity_confirmed
    text: Confirme a data de nascimento.
    choices:
      - {id: ok, label: Confere, next: cartao, confirms_identity: true}
      - {id: nao, label: Não confere, dispose: RECADO}
  - id: cartao
    title: Dados do cartão
    sensitive: true
    text: Informe o número do cartão.
    choices:
      - {id: feito, label: Feito, next: fim}
  - id: fim
    title: Fim
    text: Obrigado.
    choices:
      - {id: acordo, label: Acordo, dispose: ACORDO}
"""
)


@dataclass
class Rig:
    sim: SimulatorServer
    db: async_sessionmaker[AsyncSession]
    notifier: RecordingNotifier
    runtime: DialerRuntime
    recordings: Path
    clock: Callable[[], datetime]


@pytest.fixture
async def rig(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Rig]:
    url = migrated_copy(tmp_path / "cobra.db", tmp_path_factory.getbasetemp())
    engine = create_engine(url)
    sim = SimulatorServer(host="127.0.0.1", port=0, time_scale=TIME_SCALE)
    await sim.start()
    gw = AmiGateway(
        AmiSettings(host="127.0.0.1", port=sim.port, username="cobra", secret="cobra", ping_interval_s=60.0,
                    action_timeout_s=3.0, reconnect_initial_s=0.02, reconnect_max_s=0.2)
    )
    await gw.start()
    notifier = RecordingNotifier(sim)
    recordings = tmp_path / "gravacoes"
    settings = DialerSettings(
        connect_window_s=SIM_CONNECT_WINDOW_S,  # PBX seconds (clock_scale below converts)
        tick_s=0.02,
        recordings_dir=recordings,
        clock_scale=TIME_SCALE,  # gaps in the simulator's seconds: the file's own time
    )
    clock = business_clock()
    db = session_factory(engine)
    runtime = DialerRuntime(
        sessions=db, gateway=gw, notifier=notifier, settings=settings, clock=clock, scripts=ScriptBook(CARD_SCRIPT)
    )
    yield Rig(sim, db, notifier, runtime, recordings, clock)
    await runtime.stop()
    await gw.stop()
    await sim.stop()
    await engine.dispose()


async def _one_call(rig: Rig, *, record: bool = True) -> tuple[User, str]:
    async with rig.db.begin() as s:
        agent = await add_agent(s, "ana", "7001")
        campaign = await add_campaign(s)
        campaign.record = record
        await add_lead(s, campaign, "5511987650001")
    await rig.runtime.start()
    await rig.runtime.go_ready(agent.id)
    await eventually(
        lambda: any(r.payload[1] is CallPhase.CONNECTED for r in rig.notifier.of("call_state", agent.id)), "connected"
    )
    return agent, rig.notifier.pops(agent.id)[0].call_id


async def _attempt(rig: Rig, call_id: str) -> CallAttempt:
    async with rig.db() as s:
        attempt = await s.get(CallAttempt, call_id)
        assert attempt is not None
        return attempt


def _frames(path: Path) -> tuple[wave.Wave_read, bytes]:
    with wave.open(str(path), "rb") as w:
        return w, w.readframes(w.getnframes())


async def test_a_connected_call_is_recorded_with_mixmonitor_and_the_simulator_writes_the_wav(rig: Rig) -> None:
    agent, call_id = await _one_call(rig)
    await eventually(lambda: rig.runtime.status(agent.id).state is AgentState.WRAP_UP, "call ended")
    await rig.runtime.stop()
    attempt = await _attempt(rig, call_id)
    assert attempt.connected_at is not None and attempt.customer_channel is not None
    expected = recording_path(str(rig.recordings), call_id, attempt.connected_at)
    # <dir>/YYYY/MM/DD/<attempt id>.wav, the day of the connect in Brasília
    assert expected.startswith(str(rig.recordings) + "/") and expected.endswith(f"/{call_id}.wav")
    assert len(Path(expected).relative_to(rig.recordings).parts) == 4
    sent = actions(rig.sim, "MixMonitor")
    assert len(sent) == 1
    assert sent[0].get("Channel") == attempt.customer_channel
    assert sent[0].get("File") == expected and sent[0].get("Options") == "b"
    assert attempt.recording_path == expected
    # the simulator wrote a real WAV of the conversation when the customer hung up
    path = Path(expected)
    assert rig.sim.recordings == [path] and path.is_file()
    w, frames = _frames(path)
    assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 8000)
    assert w.getnframes() > 8000 and any(frames)  # seconds of sound, not an empty file
    assert actions(rig.sim, "MixMonitorMute") == []  # no sensitive step was visited
    async with rig.db() as s:
        assert await recording_gaps(s, call_id) == []


async def test_a_campaign_that_does_not_record_sends_no_mixmonitor(rig: Rig) -> None:
    agent, call_id = await _one_call(rig, record=False)
    await eventually(lambda: rig.runtime.status(agent.id).state is AgentState.WRAP_UP, "call ended")
    await rig.runtime.stop()
    assert actions(rig.sim, "MixMonitor") == []
    assert (await _attempt(rig, call_id)).recording_path is None
    assert rig.sim.recordings == [] and not rig.recordings.exists()


async def test_a_sensitive_step_mutes_the_recording_and_the_gap_is_stored_and_silent(rig: Rig) -> None:
    agent, call_id = await _one_call(rig)
    await eventually(lambda: actions(rig.sim, "MixMonitor"), "MixMonitor sent")
    # the identity check moves the run onto the card step (sensitive): muted
    session = rig.runtime.override_identity(agent.id, call_id, "teste sem dados de identidade")
    assert session.run.current_step.id == "cartao"
    mute = await eventually(lambda: actions(rig.sim, "MixMonitorMute"), "MixMonitorMute on")
    channel = actions(rig.sim, "MixMonitor")[0].get("Channel")
    assert [(m.get("Channel"), m.get("Direction"), m.get("State")) for m in mute] == [(channel, "both", "1")]
    await asyncio.sleep(0.1)  # the card data is read (a stretch of the call, not a measurement)
    session.run.choose("feito", rig.clock())
    rig.runtime.script_moved(agent.id, call_id)
    unmute = await eventually(lambda: actions(rig.sim, "MixMonitorMute")[1:], "MixMonitorMute off")
    assert [(m.get("Channel"), m.get("Direction"), m.get("State")) for m in unmute] == [(channel, "both", "0")]
    rig.runtime.script_moved(agent.id, call_id)  # no step change: nothing more is sent
    await eventually(lambda: rig.runtime.status(agent.id).state is AgentState.WRAP_UP, "call ended")
    await rig.runtime.stop()
    assert len(actions(rig.sim, "MixMonitorMute")) == 2
    async with rig.db() as s:
        gaps = await recording_gaps(s, call_id)
    assert len(gaps) == 1 and gaps[0].step_id == "cartao"
    gap = gaps[0]
    assert gap.end_s is not None and 0 <= gap.start_s < gap.end_s
    # the file is silent in the middle of the gap
    attempt = await _attempt(rig, call_id)
    assert attempt.recording_path is not None
    _, frames = _frames(Path(attempt.recording_path))
    mid_a = int((gap.start_s + (gap.end_s - gap.start_s) * 0.25) * 8000) * 2
    mid_b = int((gap.start_s + (gap.end_s - gap.start_s) * 0.75) * 8000) * 2
    assert mid_b > mid_a and not any(frames[mid_a:mid_b])
    assert any(frames[int((gap.end_s + 0.05) * 8000) * 2 :])  # the conversation is heard again after it
