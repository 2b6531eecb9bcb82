"""Recording decisions of the floor model, without a loop or a socket, and the MixMonitorMute action."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dialer.ami.actions import MixMonitorMute
from dialer.calls.events import CallConnected, CallEnded
from dialer.errors import AmiValueError
from dialer.floor import effects as fx
from dialer.floor.model import Floor
from dialer.floor.recording import recording_path
from dialer.floor.session import ScriptBook
from dialer.floor.settings import DialerSettings
from tests.dialer.test_floor_model import Clocks, answered_call, campaign, ready_agent
from tests.dialer.test_recording_functional import CARD_SCRIPT


def _floor(clocks: Clocks, *, record: bool = True) -> Floor:
    f = Floor(DialerSettings(recordings_dir=Path("/srv/gravacoes"), connect_window_s=2.0), wall=clocks.wall,
              mono=clocks.mono, scripts=ScriptBook(CARD_SCRIPT))
    f.running = True
    f.link_up = True
    f.campaign_changed(replace(campaign(), record=record))
    return f


def _connected(floor: Floor) -> list[fx.Effect]:
    ready_agent(floor, 1)
    answered_call(floor)
    return floor.apply_events([CallConnected("c1", "7001", "agent7001", floor._mono(), 0.2)])


def test_mixmonitor_mute_headers_are_the_documented_fields() -> None:
    channel = "Local/5511999990001@cust-sim-0000000d;1"
    assert MixMonitorMute(channel, True, action_id="m-1").headers() == [
        ("Action", "MixMonitorMute"), ("ActionID", "m-1"), ("Channel", channel), ("Direction", "both"), ("State", "1"),
    ]
    assert MixMonitorMute(channel, False, "read", action_id="m-2").headers()[-2:] == [("Direction", "read"), ("State", "0")]
    with pytest.raises(AmiValueError, match=r"^direction: "):
        MixMonitorMute(channel, True, "all").headers()
    with pytest.raises(AmiValueError, match=r"^channel: "):
        MixMonitorMute(channel + "\r\nAction: Command", True).headers()


def test_the_file_goes_under_the_day_of_the_connect_in_brasilia() -> None:
    late = datetime(2026, 3, 3, 2, 30, tzinfo=UTC)  # 23:30 of 02/03 in Brasília
    assert recording_path("/srv/gravacoes", "ab" * 16, late) == f"/srv/gravacoes/2026/03/02/{'ab' * 16}.wav"
    assert recording_path("rel/dir/", "x", datetime(2026, 12, 31, 12, tzinfo=UTC)) == "rel/dir/2026/12/31/x.wav"


def test_a_connected_call_of_a_recording_campaign_gets_mixmonitor_and_the_path_stored() -> None:
    clocks = Clocks()
    out = _connected(_floor(clocks))
    [record] = [e for e in out if isinstance(e, fx.SendRecord)]
    [stored] = [e for e in out if isinstance(e, fx.StoreConnected)]
    assert record.action.channel == "Local/5511999990001@cust-sim-c1;1" and record.action.options == "b"
    assert record.action.file == stored.recording_path == recording_path("/srv/gravacoes", "c1", stored.at)
    assert not [e for e in out if isinstance(e, fx.SendRecordMute)]  # the greeting is not sensitive


def test_a_campaign_that_does_not_record_gets_no_mixmonitor() -> None:
    out = _connected(_floor(Clocks(), record=False))
    assert not [e for e in out if isinstance(e, fx.SendRecord)]
    assert [e.recording_path for e in out if isinstance(e, fx.StoreConnected)] == [None]


def test_entering_and_leaving_a_sensitive_step_mutes_then_unmutes_with_the_gap() -> None:
    clocks = Clocks()
    floor = _floor(clocks)
    _connected(floor)
    clocks.t += 10
    session = floor.override_identity(1, "c1", "teste sem dados de identidade")  # abertura -> identidade -> cartao (sensitive)
    out = floor.script_moved(1, "c1")
    assert [(e.action.muted, e.action.direction) for e in out if isinstance(e, fx.SendRecordMute)] == [(True, "both")]
    assert [(e.muted, e.offset_s, e.step_id) for e in out if isinstance(e, fx.StoreRecordingGap)] == [(True, 10.0, "cartao")]
    assert floor.script_moved(1, "c1") == []  # still on it: nothing more
    clocks.t += 5
    session.run.choose("feito", clocks.wall())
    out = floor.script_moved(1, "c1")
    assert [e.action.muted for e in out if isinstance(e, fx.SendRecordMute)] == [False]
    assert [(e.muted, e.offset_s) for e in out if isinstance(e, fx.StoreRecordingGap)] == [(False, 15.0)]
    assert floor.script_moved(2, "c1") == []  # someone else's call: nothing


def test_a_call_that_ends_muted_closes_its_gap_at_the_end() -> None:
    clocks = Clocks()
    floor = _floor(clocks)
    _connected(floor)
    floor.override_identity(1, "c1", "teste sem dados de identidade")
    floor.script_moved(1, "c1")
    clocks.t += 7
    out = floor.apply_events([CallEnded("c1", 16, "Normal Clearing", clocks.t, True, True, False, 8.0, 7.0)])
    assert [(e.muted, e.offset_s) for e in out if isinstance(e, fx.StoreRecordingGap)] == [(False, 7.0)]
    assert not [e for e in out if isinstance(e, fx.SendRecordMute)]  # the channel is gone: nothing to unmute
