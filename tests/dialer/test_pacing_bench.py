"""bench/pacing.py end to end on a shortened scenario file: the table, --json and the results file."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_bench():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("bench_pacing", ROOT / "bench" / "pacing.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture()
def short_scenario(tmp_path: Path) -> Path:
    doc = json.loads((ROOT / "bench" / "scenarios" / "small-team.json").read_text())
    doc["duration_s"] = 1800
    doc["agents"][0]["logout_s"] = 1800
    path = tmp_path / "short.json"
    path.write_text(json.dumps(doc))
    return path


def test_json_rows_have_the_documented_keys(short_scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "results.json"
    code = load_bench().main([str(short_scenario), "--json", "--algorithms", "progressive,fixed-2.0", "--seed", "7", "--out", str(out)])
    assert code == 0  # cobra not run: nothing to judge
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(out.read_text())
    assert [r["algorithm"] for r in printed] == ["progressive", "fixed-2.0"]
    for key in ("scenario", "algorithm", "occupancy", "abandon_rate", "max_abandon_rate_15min", "connects_per_agent_hour",
                "agent_wait_p50_s", "agent_wait_p95_s", "calls_placed", "measured_abandon_rate"):
        assert key in printed[0]
    assert printed[0]["scenario"] == "small-team" and printed[0]["seed"] == 7


def test_table_names_algorithms_and_the_target_verdict(short_scenario: Path, capsys: pytest.CaptureFixture[str]) -> None:
    load_bench().main([str(short_scenario), "--algorithms", "progressive,cobra", "--out", "-"])
    text = capsys.readouterr().out
    assert "small-team" in text and "progressive" in text and "cobra" in text
    assert "P2 target" in text


def test_bad_scenario_is_reported_with_its_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "x", "seed": 1, "duration_s": 10, "agents": []}))
    assert load_bench().main([str(bad), "--out", "-"]) == 2
    assert "agents: must be a non-empty list" in capsys.readouterr().err
