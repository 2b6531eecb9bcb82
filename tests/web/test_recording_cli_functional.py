"""``cobra campaign recording NAME on|off`` end to end on a real migrated SQLite file."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from storage.engine import create_engine, session_factory
from storage.repositories.audit import entries_for
from storage.repositories.campaigns import get_campaign_by_name
from web.cli.main import cli


@pytest.fixture
def config_file(db_url: str, tmp_path: Path) -> str:
    path = tmp_path / "cobra.toml"
    path.write_text(f'[database]\nurl = "{db_url}"\n', encoding="utf-8")
    return str(path)


def run(config_file: str, *args: str) -> Result:
    return CliRunner().invoke(cli, [*args, "--config", config_file])


async def _state(db_url: str) -> tuple[bool, list[tuple[str, dict | None, dict | None]]]:  # type: ignore[type-arg]
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as db:
            campaign = await get_campaign_by_name(db, "Cartões")
            assert campaign is not None
            entries = await entries_for(db, "campaign", campaign.id, oldest_first=True)
            return campaign.record, [(e.action, e.before, e.after) for e in entries]
    finally:
        await engine.dispose()


def test_recording_is_on_by_default_and_turned_off_and_on_audited(config_file: str, db_url: str) -> None:
    assert run(config_file, "campaign", "add", "Cartões").exit_code == 0
    record, _ = asyncio.run(_state(db_url))
    assert record is True  # SPEC §3: every connected call is recorded unless the campaign says otherwise
    off = run(config_file, "campaign", "recording", "Cartões", "off")
    assert off.exit_code == 0, off.output
    assert off.output.strip() == "campaign Cartões: recording on → off"
    again = run(config_file, "campaign", "recording", "Cartões", "off")
    assert again.output.strip() == "campaign Cartões: recording off → off (no change)"
    record, audit = asyncio.run(_state(db_url))
    assert record is False
    assert audit[-1] == ("campaign.recording", {"record": False}, {"record": False, "source": "cli"})
    assert ("campaign.recording", {"record": True}, {"record": False, "source": "cli"}) in audit
    on = run(config_file, "campaign", "recording", "Cartões", "on")
    assert on.output.strip() == "campaign Cartões: recording off → on"
    assert asyncio.run(_state(db_url))[0] is True


def test_recording_refuses_unknown_campaigns_and_states(config_file: str) -> None:
    missing = run(config_file, "campaign", "recording", "Nada", "on")
    assert missing.exit_code == 1 and "no campaign named 'Nada'" in missing.output
    assert run(config_file, "campaign", "add", "Cartões").exit_code == 0
    bad = run(config_file, "campaign", "recording", "Cartões", "talvez")
    assert bad.exit_code == 2 and "'on'" in bad.output
