"""The agent's script moves the recording: on the websocket, the default script's card step mutes
the call's MixMonitor and leaving it unmutes; the gap is stored with the call.

Real aiohttp server and websocket client, the simulator over TCP through the real AMI gateway
and dialer runtime, a real SQLite file, the real WAV the simulator writes.
"""

from __future__ import annotations

import asyncio
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.models import CallAttempt
from storage.repositories.recordings import Gap, recording_gaps
from tests.dialer.runtime_support import add_campaign, add_lead, eventually
from tests.web.agent_rig import GUARD_S, DeskRig, WsAgent, desk_of, desk_rig


@pytest.fixture
async def rig(db_url: str, tmp_path: Path) -> AsyncIterator[DeskRig]:
    async with desk_rig(db_url, recordings_dir=tmp_path / "gravacoes") as r:
        yield r


async def _closed_gap(rig: DeskRig, call_id: str) -> tuple[CallAttempt | None, list[Gap]]:
    """The attempt and its gaps once the gap's end is stored (the writer stores it after the ack)."""
    deadline = asyncio.get_running_loop().time() + GUARD_S
    while True:
        async with rig.db() as s:
            attempt, gaps = await s.get(CallAttempt, call_id), await recording_gaps(s, call_id)
        if (gaps and gaps[-1].end_s is not None) or asyncio.get_running_loop().time() > deadline:
            return attempt, gaps
        await asyncio.sleep(0.02)


def _mutes(rig: DeskRig) -> list[tuple[str | None, str | None]]:
    return [(m.get("Direction"), m.get("State")) for m in rig.sim.received_actions if m.get("Action") == "MixMonitorMute"]


async def test_the_card_step_mutes_the_recording_and_the_gap_is_stored(rig: DeskRig, tmp_path: Path) -> None:
    async with rig.db.begin() as s:
        campaign = await add_campaign(s, running=False)
        await add_lead(s, campaign, "5511987650041")
    await desk_of(rig.app).runtime.set_campaign_running(campaign.id, True)
    ana = await WsAgent.log_in(rig.url, "ana")
    await ana.connect()
    try:
        await ana.request({"type": "set_state", "state": "ready"})
        pop = await ana.wait_for(lambda f: f["type"] == "screen_pop", "screen-pop")
        call_id = pop["call_id"]
        await ana.wait_for(lambda f: f.get("type") == "call_state" and f.get("phase") == "connected", "connected")
        await eventually(lambda: [m for m in rig.sim.received_actions if m.get("Action") == "MixMonitor"], "MixMonitor")
        # the default script, the debtor pays by card: up to the card step
        await ana.request({"type": "script_step", "call_id": call_id, "choice": "pessoa_certa"})
        # the identity is checked by the system (the birth date add_lead stores)
        await ana.request({"type": "verify_identity", "call_id": call_id, "method": "data_nascimento",
                           "answer": "17/05/1980"})
        for choice, capture in (("reconhece", None),
                                ("motivo_financeiro", "DESEMPREGO"), ("promessa", None), ("registrar", "R$ 150 em 10/12"),
                                ("cartao_agora", None)):
            assert _mutes(rig) == [], f"muted before the card step ({choice})"
            step = {"type": "script_step", "call_id": call_id, "choice": choice}
            await ana.request(step if capture is None else {**step, "capture": capture})
        await eventually(lambda: _mutes(rig) == [("both", "1")], "MixMonitorMute on at the card step")
        await ana.request({"type": "script_step", "call_id": call_id, "choice": "dados_informados"})
        await eventually(lambda: _mutes(rig) == [("both", "1"), ("both", "0")], "MixMonitorMute off after it")
        await ana.request({"type": "hangup", "call_id": call_id})
        await ana.wait_for(lambda f: f["type"] == "agent_state" and f["state"] == "wrap_up", "wrap-up")
    finally:
        await ana.close()

    attempt, gaps = await _closed_gap(rig, call_id)
    assert attempt is not None and attempt.recording_path is not None
    assert Path(attempt.recording_path).is_relative_to(tmp_path / "gravacoes")
    assert [(g.step_id, g.end_s is not None and g.end_s > g.start_s >= 0) for g in gaps] == [("dados_cartao", True)]
    path = Path(attempt.recording_path)
    await eventually(path.is_file, "the simulator wrote the WAV")
    with wave.open(str(path), "rb") as w:
        assert w.getnframes() > 0
    # the call record shows the muted stretch (API and the detail page), for a supervisor
    sofia = await WsAgent.log_in(rig.url, "sofia")
    try:
        detail = await (await sofia.http.get(f"/api/v1/calls/{call_id}")).json()
        assert [(g["step_id"], g["end_s"] is not None) for g in detail["recording_gaps"]] == [("dados_cartao", True)]
        page = await (await sofia.http.get(f"/monitoria/chamadas/{call_id}")).text()
        assert "Gravação pausada de" in page and "passo dados_cartao" in page
    finally:
        await sofia.close()
