"""``cobra campaign`` end to end on a real migrated SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from web.cli.main import cli


@pytest.fixture
def config_file(db_url: str, tmp_path: Path) -> str:
    path = tmp_path / "cobra.toml"
    path.write_text(f'[database]\nurl = "{db_url}"\n', encoding="utf-8")
    return str(path)


def run(config_file: str, *args: str) -> Result:
    return CliRunner().invoke(cli, [*args, "--config", config_file])


def test_add_list_start_pause_and_segments(config_file: str) -> None:
    added = run(config_file, "campaign", "add", "Cartões", "--mode", "predictive",
                "--dial-template", "Local/{number}@cust-sim", "--caller-id", "551130000000")
    assert added.exit_code == 0, added.output
    assert added.output.strip() == "campaign Cartões added (id 1, predictive, paused)"
    assert run(config_file, "campaign", "add", "Cartões").exit_code == 1
    bad = run(config_file, "campaign", "add", "X", "--dial-template", "PJSIP/trunk")
    assert bad.exit_code == 1 and "{number}" in bad.output
    assert run(config_file, "campaign", "start", "Cartões").output.strip() == "campaign Cartões is now active"
    assert run(config_file, "campaign", "start", "Cartões").output.strip() == "campaign Cartões is already active"
    listing = json.loads(run(config_file, "campaign", "list", "--json").output)
    assert listing == [{"id": 1, "name": "Cartões", "mode": "predictive", "status": "active",
                        "dial_template": "Local/{number}@cust-sim", "caller_id": "551130000000",
                        "leads": 0, "dialable_leads": 0}]
    assert run(config_file, "campaign", "pause", "Cartões").output.strip() == "campaign Cartões is now paused"
    assert "no segments" in run(config_file, "campaign", "segments", "Cartões").output
    missing = run(config_file, "campaign", "pause", "Nada")
    assert missing.exit_code == 1 and "no campaign named 'Nada'" in missing.output
