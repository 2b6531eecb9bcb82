"""The live pacing bridge (pure): snapshots from the runtime's floor, ledger, short calls, settings."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from dialer.pacing.live import (
    AgentPhase,
    AgentView,
    CallPhase,
    CallView,
    CampaignPacing,
    DayCounts,
    Floor,
    PacingSettings,
    SettingsError,
    ShortCalls,
    build_snapshot,
    day_bounds,
    floor_of,
    local_day,
)
from dialer.pacing.pacer import PacingMode, PacingState
from dialer.pacing.stats import DialResult

# 02/06/2025 15:00 UTC = 12:00 in Brasília
NOON = datetime(2025, 6, 2, 15, 0, tzinfo=UTC).timestamp()


def _pacing(mode: PacingMode = PacingMode.PREDICTIVE, cap: float = 0.03) -> CampaignPacing:
    return CampaignPacing(PacingSettings(mode, 3.0, cap), ring_timeout_s=25.0, connect_window_s=2.0)


def test_snapshot_counts_the_floor_with_elapsed_times_in_pbx_seconds() -> None:
    pacing = _pacing()
    now = 100.0  # loop time
    agents = [
        AgentView(AgentPhase.READY, 90.0),
        AgentView(AgentPhase.READY, 99.0),
        AgentView(AgentPhase.TALK, 98.5),  # 1.5 loop s = 150 PBX s at clock scale 0.01
        AgentView(AgentPhase.WRAP, 99.8),
        AgentView(AgentPhase.AWAY, 10.0),  # paused / held: not in the pool
    ]
    calls = [
        CallView(CallPhase.RINGING, 99.9),
        CallView(CallPhase.RINGING, 99.95),
        CallView(CallPhase.IN_AMD, 99.0),
        CallView(CallPhase.WAITING, 99.0),
        CallView(CallPhase.WITH_AGENT, 98.0),  # its agent counts as talking
    ]
    snap = build_snapshot(agents, calls, now=now, clock_scale=0.01, pacing=pacing, pbx_now=NOON)
    assert snap.agents_ready == 2
    assert snap.talk_elapsed_s == pytest.approx((150.0,))
    assert snap.wrap_elapsed_s == pytest.approx((20.0,))
    assert snap.ringing_elapsed_s == pytest.approx((10.0, 5.0))
    assert (snap.in_amd, snap.answered_waiting) == (1, 1)
    assert snap.agents_logged_in == 4 and snap.calls_in_progress == 4
    assert snap.dialing_for_s == 0.0  # warm-up clock starts at the first predictive snapshot
    later = build_snapshot(agents, calls, now=now, clock_scale=0.01, pacing=pacing, pbx_now=NOON + 300)
    assert later.dialing_for_s == 300.0

    floor = floor_of(agents, calls)
    assert floor == Floor(2, 1, 1, 2, 1, 1)
    assert floor.agents_logged_in == 4 and floor.calls_in_flight == 4


def test_decisions_warm_up_then_progressive_count() -> None:
    pacing = _pacing()
    agents = [AgentView(AgentPhase.READY, 0.0)] * 3
    snap = build_snapshot(agents, [CallView(CallPhase.RINGING, 0.0)], now=1.0, clock_scale=1.0, pacing=pacing, pbx_now=NOON)
    d = pacing.decide(snap)
    assert (d.calls, d.state) == (2, PacingState.WARM_UP)  # 3 ready − 1 in flight
    assert pacing.last_decision == d
    pacing.reconfigure(PacingSettings(PacingMode.MANUAL, 3.0, 0.03))
    assert pacing.decide(snap).calls == 0


def test_ledger_seeded_and_fed_live_answers_and_abandons_apart_from_machines() -> None:
    pacing = _pacing()
    pacing.load_days([DayCounts(date(2025, 6, 1), 100, 2), DayCounts(date(2025, 5, 1), 50, 5)])  # 32 days back: out
    pacing.call_ended(NOON, live=True, abandoned=False, duration_s=90.0, caller_id="0303")
    pacing.call_ended(NOON, live=True, abandoned=True, duration_s=4.0, caller_id="0303")
    pacing.call_ended(NOON, live=False, abandoned=False, duration_s=3.0, caller_id="551130000000")  # AMD machine
    counts = pacing.ledger.counts(NOON)
    assert (counts.live_today, counts.abandons_today) == (2, 1)
    assert (counts.live_30d, counts.abandons_30d) == (102, 3)
    assert pacing.short_calls_on(date(2025, 6, 2)) == (ShortCalls("0303", 2, 1), ShortCalls("551130000000", 1, 1))

    figures = pacing.figures(7, running=True, floor=Floor(1, 2, 1, 3, 0, 1), pbx_now=NOON)
    assert figures.state == PacingState.WARM_UP.value  # predictive, nothing decided yet
    assert figures.abandon_rate_today == 0.5 and figures.dial_level == pytest.approx((4 + 2) / 4)
    d = figures.as_dict()
    assert d["calls_in_flight"] == 4 and d["short_calls_today"]["ratio"] == pytest.approx(0.6667)
    assert pacing.figures(7, running=False, floor=Floor(), pbx_now=NOON).state == "off"


def test_stats_fed_by_dial_results_amd_and_handles() -> None:
    pacing = _pacing()
    pacing.dial_result(DialResult.LIVE, 8.0)
    pacing.dial_result(DialResult.MACHINE, 6.0)
    pacing.amd_verdict(False)
    pacing.handle_done(120.0, 15.0)
    st = pacing.stats.summary()
    assert (st.attempts, st.answers, st.handles) == (2, 2, 1)
    assert st.talk.mean == pytest.approx(120.0, rel=0.1)


def test_cap_change_reaches_the_ledger_and_leaving_predictive_restarts_warm_up() -> None:
    pacing = _pacing()
    pacing.dialing_for(NOON)
    assert pacing.dialing_for(NOON + 700) == 700
    pacing.reconfigure(PacingSettings("progressive", 2.0, 0.02))  # type: ignore[arg-type]
    assert pacing.ledger.cap == 0.02 and pacing.pacer.config.max_dial_level == 2.0
    pacing.reconfigure(PacingSettings(PacingMode.PREDICTIVE, 2.0, 0.02))
    assert pacing.dialing_for(NOON + 800) == 0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"mode": "turbo"}, "mode"),
        ({"max_dial_level": 0.5}, "max_dial_level"),
        ({"max_dial_level": 11}, "max_dial_level"),
        ({"max_dial_level": "3"}, "max_dial_level"),
        ({"abandon_cap": 0}, "abandon_cap"),
        ({"abandon_cap": 0.06}, "abandon_cap"),
        ({"abandon_cap": float("nan")}, "abandon_cap"),
        ({"amd_enabled": "sim"}, "amd_enabled"),
    ],
)
def test_settings_refuse_bad_values_naming_the_field(kwargs: dict[str, object], field: str) -> None:
    values: dict[str, object] = {"mode": "predictive", "max_dial_level": 3.0, "abandon_cap": 0.03, "amd_enabled": False}
    values.update(kwargs)
    with pytest.raises(SettingsError) as bad:
        PacingSettings(**values)  # type: ignore[arg-type]
    assert bad.value.field == field


def test_local_day_and_bounds_are_brasilia_days() -> None:
    late = datetime(2025, 6, 2, 2, 30, tzinfo=UTC).timestamp()  # 23:30 on 01/06 in Brasília
    assert local_day(late) == date(2025, 6, 1)
    start, end = day_bounds(date(2025, 6, 1))
    assert (start, end) == (datetime(2025, 6, 1, 3, tzinfo=UTC), datetime(2025, 6, 2, 3, tzinfo=UTC))
