"""The shift simulator on one simulated hour: deterministic, and cobra under the cap there."""

from __future__ import annotations

from pathlib import Path

import pytest

from dialer.pacing.scenario import load_scenario
from dialer.pacing.simulation import ALGORITHMS, simulate

SCENARIOS = Path(__file__).resolve().parents[2] / "bench" / "scenarios"
HOUR = 3600.0


@pytest.fixture(scope="module")
def mid_hour():  # type: ignore[no-untyped-def]
    return load_scenario(SCENARIOS / "mid-floor.json").shortened(HOUR)


@pytest.fixture(scope="module")
def cobra_hour(mid_hour):  # type: ignore[no-untyped-def]
    return simulate(mid_hour, "cobra")


def test_same_seed_same_figures(mid_hour, cobra_hour) -> None:  # type: ignore[no-untyped-def]
    assert simulate(mid_hour, "cobra") == cobra_hour
    assert simulate(mid_hour, "vicidial-adapt-tapered", seed=3) == simulate(mid_hour, "vicidial-adapt-tapered", seed=3)
    assert simulate(mid_hour, "progressive", seed=3) != simulate(mid_hour, "progressive", seed=4)


def test_cobra_stays_under_the_cap_and_beats_progressive(mid_hour, cobra_hour) -> None:  # type: ignore[no-untyped-def]
    progressive = simulate(mid_hour, "progressive")
    assert cobra_hour.live_answers > 300
    assert cobra_hour.abandon_rate <= mid_hour.abandon_cap
    assert cobra_hour.occupancy > progressive.occupancy
    assert cobra_hour.connects_per_agent_hour > progressive.connects_per_agent_hour


def test_progressive_never_abandons_and_figures_are_consistent(mid_hour) -> None:  # type: ignore[no-untyped-def]
    r = simulate(mid_hour, "progressive")
    assert r.abandoned == 0 and r.abandon_rate == 0.0 and r.max_abandon_rate_15min == 0.0
    assert 0.0 < r.occupancy < 1.0
    assert r.calls_placed > r.live_answers > 0
    assert r.agent_wait_p50_s <= r.agent_wait_p95_s
    # occupancy × logged-in hours ≈ connects × mean handle (150 s talk + 20 s wrap), allowing for calls cut at the end
    assert r.occupancy * HOUR / 3600 == pytest.approx(r.connects_per_agent_hour * 170 / 3600, rel=0.15)


def test_every_algorithm_faces_the_same_customers(mid_hour) -> None:  # type: ignore[no-untyped-def]
    """Common random numbers: the n-th call placed has the same fate under every algorithm."""
    a = simulate(mid_hour.shortened(600.0), "progressive").as_dict()
    b = simulate(mid_hour.shortened(600.0), "fixed-1.0").as_dict()
    assert a.pop("algorithm") != b.pop("algorithm")
    assert a == b  # ⌊1.0 × ready⌋ − in progress is progressive: same calls, same customers, same figures


def test_fixed_ratio_dials_more_and_abandons_with_few_agents() -> None:
    small = load_scenario(SCENARIOS / "small-team.json").shortened(2 * HOUR)
    fixed = simulate(small, "fixed-3.0")
    progressive = simulate(small, "progressive")
    assert fixed.calls_placed > progressive.calls_placed
    assert fixed.abandoned > 0


def test_amd_misses_show_in_the_measured_rate_only(mid_hour) -> None:  # type: ignore[no-untyped-def]
    leaky = mid_hour.with_amd_miss_rate(0.3)
    r = simulate(leaky, "fixed-2.5")
    assert r.amd_misses > 0
    # missed machines count among the dialer's live answers, and among its abandons when nobody took them
    assert r.measured_abandon_rate != r.abandon_rate
    perfect = simulate(mid_hour, "fixed-2.5")
    assert perfect.measured_abandon_rate == perfect.abandon_rate


def test_unknown_algorithm_is_named(mid_hour) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="unknown algorithm 'erlang'"):
        simulate(mid_hour, "erlang")
    with pytest.raises(ValueError, match="fixed-R needs a number"):
        simulate(mid_hour, "fixed-abc")
    assert "cobra" in ALGORITHMS
