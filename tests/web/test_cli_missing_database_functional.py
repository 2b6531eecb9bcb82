"""A command run where no database is must not create an empty ``./cobra.db`` (issue 11 item 7):
it says how to create one or how to point at the demo's, through the real ``cobra`` entry point."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from web.cli.main import cli


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory with no cobra.toml and no COBRA_CONFIG: the embedded default ./cobra.db applies."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COBRA_CONFIG", raising=False)
    monkeypatch.delenv("COBRA_DATABASE__URL", raising=False)
    return tmp_path


def cobra(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


@pytest.mark.parametrize(
    "args",
    [("campaign", "list"), ("user", "list"), ("dnc", "list"), ("db", "check"),
     ("user", "add", "ana", "--role", "admin", "--password-stdin")],
)
def test_no_database_here_creates_nothing_and_says_what_to_do(elsewhere: Path, args: tuple[str, ...]) -> None:
    result = cobra(*args)
    assert result.exit_code == 1, result.output
    assert "no database at cobra.db (the default: no --config, $COBRA_CONFIG or ./cobra.toml)" in result.output
    assert "run `cobra db upgrade` first" in result.output
    assert "COBRA_CONFIG=cobra-demo/cobra.toml" in result.output
    assert not (elsewhere / "cobra.db").exists()


def test_next_to_the_demo_it_names_the_demo_configuration(elsewhere: Path) -> None:
    (elsewhere / "cobra-demo").mkdir()
    (elsewhere / "cobra-demo" / "cobra.toml").write_text("[database]\nurl = \"sqlite+aiosqlite:///x.db\"\n")
    result = cobra("campaign", "list")
    assert result.exit_code == 1
    assert "the demo's data: COBRA_CONFIG=cobra-demo/cobra.toml cobra ... (written by `cobra demo`)" in result.output
    assert not (elsewhere / "cobra.db").exists()


def test_a_configured_file_that_does_not_exist_is_named_with_its_configuration(elsewhere: Path) -> None:
    config = elsewhere / "prod.toml"
    config.write_text(f'[database]\nurl = "sqlite+aiosqlite:///{elsewhere / "prod.db"}"\n', encoding="utf-8")
    result = cobra("user", "list", "--config", str(config))
    assert result.exit_code == 1
    assert f"no database at {elsewhere / 'prod.db'} (configured in {config})" in result.output
    assert not (elsewhere / "prod.db").exists()


def test_db_upgrade_still_creates_it_and_then_commands_work(elsewhere: Path) -> None:
    upgraded = cobra("db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    assert (elsewhere / "cobra.db").exists()
    listed = cobra("user", "list")
    assert listed.exit_code == 0, listed.output
    assert "no users yet" in listed.output
