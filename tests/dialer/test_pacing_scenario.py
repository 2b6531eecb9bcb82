from __future__ import annotations

import json
from pathlib import Path

import pytest

from dialer.pacing.scenario import ScenarioError, load_scenario, parse_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "bench" / "scenarios"


def base() -> dict:
    return json.loads((SCENARIOS / "shift-change.json").read_text())


@pytest.mark.parametrize("name", ["small-team", "mid-floor", "shift-change", "large-floor"])
def test_shipped_scenarios_load(name: str) -> None:
    s = load_scenario(SCENARIOS / f"{name}.json")
    assert s.name == name
    assert s.duration_s == 28800
    assert s.abandon_cap == 0.03
    assert s.talk_s.mean > 0 and s.amd_miss_rate == 0.0


def test_lognormal_parameters_reproduce_the_given_mean_and_sd() -> None:
    import math

    d = load_scenario(SCENARIOS / "mid-floor.json").talk_s
    assert math.exp(d.mu + d.sigma**2 / 2) == pytest.approx(150.0)
    assert math.sqrt((math.exp(d.sigma**2) - 1) * math.exp(2 * d.mu + d.sigma**2)) == pytest.approx(100.0)


def test_phases_change_outcomes_and_shortening_clips_agents() -> None:
    s = load_scenario(SCENARIOS / "shift-change.json")
    assert s.outcomes_at(0).live == 0.3
    assert s.outcomes_at(14400).live == 0.16
    short = s.shortened(3600)
    assert short.duration_s == 3600
    assert [g.count for g in short.agents] == [30, 25]  # the 2 h group never logs in
    assert all(g.logout_s <= 3600 for g in short.agents)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["outcomes"].update(live=0.5), "outcomes: probabilities must sum to 1"),
        (lambda d: d["outcomes"].update(fax=0.0), "outcomes: unknown outcome"),
        (lambda d: d["agents"][1].update(count=0), r"agents\[1\].count: must be >= 1"),
        (lambda d: d["agents"][0].update(logout_s=0), r"agents\[0\].logout_s: must be after login_s"),
        (lambda d: d["talk_s"].update(dist="gamma"), "talk_s.dist: only 'lognormal'"),
        (lambda d: d["wrap_s"].pop("sd"), "wrap_s.sd: missing"),
        (lambda d: d.update(abandon_cap=3), "abandon_cap: must be below 1"),
        (lambda d: d["phases"][0]["outcomes"].update(live="x"), r"phases\[0\].outcomes.live: must be a number"),
        (lambda d: d.update(seed=1.5), "seed: must be an integer"),
        (lambda d: d.pop("connect_window_s"), "connect_window_s: missing"),
    ],
)
def test_bad_scenarios_name_the_field(change, message: str) -> None:  # type: ignore[no-untyped-def]
    doc = base()
    change(doc)
    with pytest.raises(ScenarioError, match=message):
        parse_scenario(doc)


def test_bad_files_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ScenarioError, match=r"bad.json: not JSON: line 1 column 2"):
        load_scenario(bad)
    with pytest.raises(ScenarioError, match="missing.json: cannot read"):
        load_scenario(tmp_path / "missing.json")
    with pytest.raises(ScenarioError, match="amd_miss_rate"):
        load_scenario(SCENARIOS / "mid-floor.json").with_amd_miss_rate(1.0)
