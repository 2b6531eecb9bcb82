"""Customer behaviour: the last-digit convention and pacing scenarios."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from dialer.simulator.customers import (
    LastDigitCustomers,
    ScenarioCustomers,
    ScenarioError,
)

# the repo's copy of the shared pacing scenarios (bench/scenarios), found from this file so
# the tests run from any checkout
PACING = Path(__file__).resolve().parents[2] / "bench" / "scenarios"
SCENARIO = {
    "seed": 7, "no_answer_timeout_s": 25,
    "outcomes": {"live": 0.3, "machine": 0.1, "busy": 0.1, "congestion": 0.1, "no_answer": 0.4},
    "phases": [{"from_s": 100, "outcomes": {"live": 0, "machine": 0, "busy": 1, "congestion": 0, "no_answer": 0}}],
    "ring_to_answer_s": {"dist": "lognormal", "mean": 9, "sd": 5},
    "ring_to_fail_s": {"dist": "lognormal", "mean": 5, "sd": 3},
    "amd_detect_s": {"dist": "lognormal", "mean": 2.5, "sd": 0.8},
    "talk_s": {"dist": "lognormal", "mean": 150, "sd": 100},
}


def test_digit_3_is_the_far_end_that_stops_ringing_with_cause_19() -> None:
    steps = LastDigitCustomers().plan("5511999990003", 0).steps
    start = next(i for i, s in enumerate(steps) if s.label == "noanswer")
    assert [(s.app, s.data) for s in steps[start : start + 3]] == [("Ringing", ""), ("Wait", "20"), ("Hangup", "19")]


def test_last_digit_outcomes() -> None:
    model = LastDigitCustomers()
    assert [model.plan(f"551199999000{d}", 0).outcome for d in "12345"] == [
        "live", "busy", "no_answer", "congestion", "live"]


def test_scenario_is_repeatable_and_follows_its_mix() -> None:
    a = [ScenarioCustomers(SCENARIO).draw_outcome(0) for _ in range(1)]
    draws = ScenarioCustomers(SCENARIO)
    again = ScenarioCustomers(SCENARIO)
    seq = [draws.plan("5511", 0).outcome for _ in range(2000)]
    assert seq == [again.plan("5511", 0).outcome for _ in range(2000)]
    counts = Counter(seq)
    assert 0.25 < counts["live"] / 2000 < 0.35 and 0.35 < counts["no_answer"] / 2000 < 0.45
    assert a  # a fresh model draws too


def test_phases_change_the_mix() -> None:
    model = ScenarioCustomers(SCENARIO)
    assert {model.plan("1", 150).outcome for _ in range(50)} == {"busy"}


def test_lognormal_mean_is_the_scenario_mean() -> None:
    model = ScenarioCustomers(SCENARIO)
    draws = [model.talk.draw(model.rng) for _ in range(20000)]
    assert 140 < sum(draws) / len(draws) < 160


@pytest.mark.parametrize(("change", "field"), [
    ({"outcomes": {"live": 0.5}}, "outcomes"),
    ({"outcomes": {"live": 0.5, "alien": 0.5}}, "outcomes"),
    ({"talk_s": {"dist": "uniform", "mean": 1, "sd": 1}}, "talk_s.dist"),
    ({"ring_to_answer_s": 3}, "ring_to_answer_s"),
    ({"phases": [{"outcomes": SCENARIO["outcomes"]}]}, "phases[0].from_s"),
])
def test_bad_scenarios_name_the_field(change: dict, field: str) -> None:
    with pytest.raises(ScenarioError, match=field.replace("[", r"\[").replace("]", r"\]")):
        ScenarioCustomers({**SCENARIO, **change})


def test_bad_file_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"seed": 1,\n  oops}')
    with pytest.raises(ScenarioError, match="line 2 column 3"):
        ScenarioCustomers.from_file(path)


@pytest.mark.parametrize("name", ["small-team", "mid-floor", "large-floor", "shift-change"])
def test_shared_pacing_scenarios_load(name: str) -> None:
    model = ScenarioCustomers.from_file(PACING / f"{name}.json")
    assert model.connect_window_s == json.loads((PACING / f"{name}.json").read_text())["connect_window_s"]
