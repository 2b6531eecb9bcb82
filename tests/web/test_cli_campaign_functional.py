"""``cobra campaign`` end to end on a real migrated SQLite file."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from storage.engine import create_engine, session_factory
from storage.repositories.audit import entries_for
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
    assert run(config_file, "campaign", "start", "Cartões").output.strip() == "campaign Cartões: paused → active"
    assert run(config_file, "campaign", "start", "Cartões").output.strip() == "campaign Cartões: active → active (no change)"
    listing = json.loads(run(config_file, "campaign", "list", "--json").output)
    assert listing == [{"id": 1, "name": "Cartões", "mode": "predictive", "status": "active",
                        "dial_template": "Local/{number}@cust-sim", "caller_id": "551130000000",
                        "leads": 0, "dialable_leads": 0}]
    assert run(config_file, "campaign", "pause", "Cartões").output.strip() == "campaign Cartões: active → paused"
    assert "no segments" in run(config_file, "campaign", "segments", "Cartões").output
    missing = run(config_file, "campaign", "pause", "Nada")
    assert missing.exit_code == 1 and "no campaign named 'Nada'" in missing.output


async def _campaign_audit(db_url: str) -> list[tuple[str, int | None, dict | None, dict | None]]:  # type: ignore[type-arg]
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as db:
            entries = await entries_for(db, "campaign", 1, oldest_first=True)
    finally:
        await engine.dispose()
    return [(e.action, e.user_id, e.before, e.after) for e in entries]


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("PJSIP/{number}@trunk\r\nAction: Originate", "line break (CR)"),
        ("PJSIP/{number}@trunk\nX", "line break (LF)"),
        ("PJSIP/{number}@trunk,30,tT", "dial string"),
        ("PJSIP/{number}&PJSIP/{number}@x", "exactly once"),
        ("PJSIP/trunk", "exactly once"),
    ],
)
def test_add_refuses_a_dial_template_the_ami_layer_would_refuse_naming_the_option(
    config_file: str, template: str, problem: str
) -> None:
    bad = run(config_file, "campaign", "add", "X", "--dial-template", template)
    assert bad.exit_code == 1, bad.output
    assert "--dial-template" in bad.output and "modelo de discagem inválido" in bad.output and problem in bad.output
    assert run(config_file, "campaign", "list", "--json").output.strip() == "[]"  # nothing stored


def test_stop_takes_the_campaign_off_and_every_change_is_audited_as_cli(config_file: str, db_url: str) -> None:
    assert run(config_file, "campaign", "add", "Varejo").exit_code == 0
    assert run(config_file, "campaign", "start", "Varejo").output.strip() == "campaign Varejo: paused → active"
    stopped = run(config_file, "campaign", "stop", "Varejo")
    assert (stopped.exit_code, stopped.output.strip()) == (0, "campaign Varejo: active → stopped")
    table = run(config_file, "campaign", "list").output.splitlines()
    assert table[0].split() == ["ID", "NAME", "MODE", "STATUS", "LEADS", "DIALABLE"]
    assert table[1].split() == ["1", "Varejo", "progressive", "stopped", "0", "0"]
    assert run(config_file, "campaign", "pause", "Varejo").output.strip() == "campaign Varejo: stopped → paused"
    assert "stop" in CliRunner().invoke(cli, ["campaign", "--help"]).output
    missing = run(config_file, "campaign", "stop", "Nada")
    assert missing.exit_code == 1 and "no campaign named 'Nada'" in missing.output

    audit = asyncio.run(_campaign_audit(db_url))  # the CLI runs its own loops: so does this test
    assert audit[1:] == [
        ("campaign.start", None, {"status": "paused"}, {"status": "active", "source": "cli"}),
        ("campaign.stop", None, {"status": "active"}, {"status": "stopped", "source": "cli"}),
        ("campaign.pause", None, {"status": "stopped"}, {"status": "paused", "source": "cli"}),
    ]
