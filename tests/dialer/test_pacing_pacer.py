from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.pacing.abandons import AbandonCounts
from dialer.pacing.pacer import Pacer, PacingConfig, PacingMode, PacingSnapshot, PacingState
from dialer.pacing.stats import LogNormalFit, StatsSummary

CAP = 0.03


def warm_stats(p_live: float = 0.25, samples: int = 500) -> StatsSummary:
    return StatsSummary(
        p_live=p_live,
        p_machine=0.1,
        p_fail=0.07,
        p_no_answer=1.0 - p_live - 0.17,
        p_human_after_amd=0.0,
        answer_time=LogNormalFit.from_mean_sd(9.0, 5.0, samples),
        fail_time=LogNormalFit.from_mean_sd(5.0, 3.0, samples),
        talk=LogNormalFit.from_mean_sd(150.0, 100.0, samples),
        wrap=LogNormalFit.from_mean_sd(20.0, 10.0, samples),
        attempts=samples * 3,
        answers=samples,
    )


def snapshot(
    *,
    ready: int = 0,
    talk: tuple[float, ...] = (),
    wrap: tuple[float, ...] = (),
    ringing: tuple[float, ...] = (),
    waiting: int = 0,
    in_amd: int = 0,
    counts: AbandonCounts | None = None,
    stats: StatsSummary | None = None,
    dialing_for_s: float = 3600.0,
) -> PacingSnapshot:
    return PacingSnapshot(
        agents_ready=ready,
        talk_elapsed_s=talk,
        wrap_elapsed_s=wrap,
        ringing_elapsed_s=ringing,
        stats=stats or warm_stats(),
        abandons=counts or AbandonCounts(cap=CAP, live_today=1000, abandons_today=20, live_30d=20000, abandons_30d=400),
        in_amd=in_amd,
        answered_waiting=waiting,
        dialing_for_s=dialing_for_s,
    )


# Twenty agents, most of them late in their calls: a predictive pacer should dial ahead
BUSY_FLOOR = dict(ready=2, talk=tuple(float(x) for x in range(100, 280, 10)), ringing=(3.0,))


def test_manual_and_preview_launch_nothing() -> None:
    for mode in (PacingMode.MANUAL, PacingMode.PREVIEW):
        d = Pacer(PacingConfig(mode=mode)).decide(snapshot(ready=10))
        assert (d.calls, d.state) == (0, PacingState.OFF)


def test_progressive_is_ready_agents_minus_calls_in_progress() -> None:
    pacer = Pacer(PacingConfig(mode=PacingMode.PROGRESSIVE))
    d = pacer.decide(snapshot(ready=5, ringing=(1.0, 2.0), waiting=1, talk=(30.0,)))
    assert (d.calls, d.state) == (2, PacingState.PROGRESSIVE)
    assert pacer.decide(snapshot(ready=1, ringing=(1.0, 2.0))).calls == 0


def test_predictive_dials_ahead_of_agents_about_to_finish() -> None:
    d = Pacer().decide(snapshot(**BUSY_FLOOR))
    assert d.state is PacingState.PREDICTIVE
    assert d.calls > 2 - 1  # more than progressive (2 ready − 1 ringing)
    assert 0.0 < d.alpha <= PacingConfig().alpha_max


def test_predictive_holds_back_when_nobody_will_be_free() -> None:
    d = Pacer().decide(snapshot(ready=0, talk=(1.0,) * 20, ringing=(1.0,) * 5))
    assert (d.calls, d.state) == (0, PacingState.PREDICTIVE)


def test_warm_up_is_progressive_until_the_statistics_mean_something() -> None:
    pacer = Pacer()
    assert pacer.decide(snapshot(**BUSY_FLOOR, stats=warm_stats(samples=5))).state is PacingState.WARM_UP
    assert pacer.decide(snapshot(**BUSY_FLOOR, dialing_for_s=60.0)).state is PacingState.WARM_UP
    d = pacer.decide(snapshot(**BUSY_FLOOR, dialing_for_s=60.0))
    assert d.calls == 1


def test_kill_switch_latches_until_the_15_minute_rate_is_back_under_the_cap() -> None:
    pacer = Pacer()
    hot = AbandonCounts(cap=CAP, live_15min=50, abandons_15min=4, live_today=500, abandons_today=10, live_30d=500, abandons_30d=10)
    d = pacer.decide(snapshot(**BUSY_FLOOR, counts=hot))
    assert (d.calls, d.state) == (1, PacingState.KILL_SWITCH)
    warm = AbandonCounts(cap=CAP, live_15min=50, abandons_15min=2, live_today=500, abandons_today=10, live_30d=500, abandons_30d=10)
    assert pacer.decide(snapshot(**BUSY_FLOOR, counts=warm)).state is PacingState.KILL_SWITCH  # 4 % > cap: still off
    cool = AbandonCounts(cap=CAP, live_15min=50, abandons_15min=1, live_today=500, abandons_today=10, live_30d=500, abandons_30d=10)
    assert pacer.decide(snapshot(**BUSY_FLOOR, counts=cool)).state is PacingState.PREDICTIVE
    # a fresh pacer does not trip on the "warm" window: it takes kill_ratio × cap
    assert Pacer().decide(snapshot(**BUSY_FLOOR, counts=warm)).state is PacingState.PREDICTIVE


def test_spent_budget_falls_back_to_progressive() -> None:
    spent = AbandonCounts(cap=CAP, live_today=1000, abandons_today=40, live_30d=10000, abandons_30d=400)
    d = Pacer().decide(snapshot(**BUSY_FLOOR, counts=spent))
    assert (d.calls, d.state) == (1, PacingState.NO_BUDGET)


def test_alpha_drops_with_abandons_above_target_and_rises_below_it() -> None:
    pacer = Pacer()
    start = pacer.alpha(AbandonCounts(cap=CAP))
    assert start == PacingConfig().alpha_start
    over = pacer.alpha(AbandonCounts(cap=CAP, live_today=100, abandons_today=6))
    under = pacer.alpha(AbandonCounts(cap=CAP, live_today=400, abandons_today=2))
    assert over < start < under
    assert pacer.alpha(AbandonCounts(cap=CAP, live_today=100, abandons_today=90)) == PacingConfig().alpha_min


def test_max_dial_level_caps_lines_per_agent() -> None:
    pacer = Pacer(PacingConfig(max_dial_level=1.2, alpha_start=0.5, alpha_max=0.9))
    d = pacer.decide(snapshot(**BUSY_FLOOR))
    agents = 2 + len(BUSY_FLOOR["talk"])
    assert d.calls + 1 <= math.floor(1.2 * agents)


def test_config_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="max_dial_level"):
        PacingConfig(max_dial_level=0.5)
    with pytest.raises(ValueError, match="target_share_of_cap"):
        PacingConfig(target_share_of_cap=1.5)
    with pytest.raises(ValueError, match="alpha"):
        PacingConfig(alpha_start=0.9, alpha_max=0.5)
    with pytest.raises(ValueError, match="agents_ready"):
        snapshot(ready=-1)


def test_reconfigure_applies_from_the_next_decision() -> None:
    pacer = Pacer()
    assert pacer.decide(snapshot(ready=3)).calls >= 3
    pacer.reconfigure(PacingConfig(mode=PacingMode.MANUAL))
    assert pacer.decide(snapshot(ready=3)).calls == 0


# -- properties ----------------------------------------------------------------------

elapsed = st.floats(min_value=0.0, max_value=900.0, allow_nan=False)
ring_elapsed = st.floats(min_value=0.0, max_value=30.0, allow_nan=False)


@st.composite
def snapshots(draw: st.DrawFn, spent: bool = False) -> PacingSnapshot:
    live_30d = draw(st.integers(0, 50_000))
    if spent:
        # at least the 30-day cap's worth of abandons plus whatever the next minutes could earn
        abandons_30d = math.ceil(live_30d * CAP) + draw(st.integers(40, 200))
    else:
        abandons_30d = draw(st.integers(0, max(0, live_30d // 10)))
    live_today = min(live_30d, draw(st.integers(0, 5000)))
    abandons_today = min(abandons_30d, draw(st.integers(0, max(0, live_today // 5))))
    live_15 = min(live_today, draw(st.integers(0, 500)))
    abandons_15 = min(abandons_today, draw(st.integers(0, max(0, live_15 // 5))))
    counts = AbandonCounts(
        cap=CAP,
        live_15min=live_15,
        abandons_15min=abandons_15,
        live_today=live_today,
        abandons_today=abandons_today,
        live_30d=live_30d,
        abandons_30d=abandons_30d,
    )
    return snapshot(
        ready=draw(st.integers(0, 60)),
        talk=tuple(draw(st.lists(elapsed, max_size=60))),
        wrap=tuple(draw(st.lists(elapsed, max_size=20))),
        ringing=tuple(draw(st.lists(ring_elapsed, max_size=80))),
        waiting=draw(st.integers(0, 5)),
        in_amd=draw(st.integers(0, 5)),
        counts=counts,
        stats=warm_stats(p_live=draw(st.floats(0.02, 0.6)), samples=draw(st.integers(0, 600))),
        dialing_for_s=draw(st.floats(0.0, 30_000.0)),
    )


configs = st.builds(
    PacingConfig,
    mode=st.sampled_from(list(PacingMode)),
    max_dial_level=st.floats(1.0, 8.0),
    alpha_start=st.floats(0.01, 0.6),
    alpha_max=st.just(0.6),
)


@settings(max_examples=150, deadline=None)
@given(snap=snapshots(), config=configs)
def test_never_negative_and_never_above_max_dial_level(snap: PacingSnapshot, config: PacingConfig) -> None:
    d = Pacer(config).decide(snap)
    assert d.calls >= 0
    assert d.calls + snap.calls_in_progress <= max(snap.calls_in_progress, math.floor(config.max_dial_level * snap.agents_logged_in + 1e-9))
    assert d.calls <= config.max_dial_level * snap.agents_logged_in


@settings(max_examples=150, deadline=None)
@given(snap=snapshots(spent=True), config=configs)
def test_with_no_abandon_budget_left_never_more_than_progressive(snap: PacingSnapshot, config: PacingConfig) -> None:
    d = Pacer(config).decide(snap)
    assert d.calls <= max(0, snap.agents_ready - snap.calls_in_progress)


@settings(max_examples=100, deadline=None)
@given(snap=snapshots(), config=configs)
def test_never_fewer_than_progressive_when_dialing_automatically(snap: PacingSnapshot, config: PacingConfig) -> None:
    d = Pacer(config).decide(snap)
    if config.mode in (PacingMode.PROGRESSIVE, PacingMode.PREDICTIVE):
        ceiling = max(0, math.floor(config.max_dial_level * snap.agents_logged_in + 1e-9) - snap.calls_in_progress)
        assert d.calls >= min(max(0, snap.agents_ready - snap.calls_in_progress), ceiling)
