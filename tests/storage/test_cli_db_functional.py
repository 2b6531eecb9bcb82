"""``cobra db upgrade`` / ``cobra db check`` end to end, on a temp SQLite file and on PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import text

from storage import migrate
from storage.engine import create_engine
from web.cli.db import db


def _run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    assert args[0] == "db"
    result = CliRunner().invoke(db, list(args[1:]), env=env, catch_exceptions=False)
    return result.exit_code, result.output


def test_upgrade_then_check_by_url(empty_db_url: str) -> None:
    head = migrate.head_revision()
    code, out = _run("db", "upgrade", "--url", empty_db_url)
    assert code == 0, out
    assert out.strip().endswith(f"upgraded from empty to revision {head}")
    code, out = _run("db", "upgrade", "--url", empty_db_url)
    assert (code, out.strip().endswith(f"is at revision {head} (already up to date)")) == (0, True), out
    code, out = _run("db", "check", "--url", empty_db_url)
    assert (code, out.strip().endswith(f"is at revision {head} and matches the models")) == (0, True), out


def test_upgrade_uses_the_configured_database(tmp_path: Path) -> None:
    db_file = tmp_path / "from-config.db"
    config = tmp_path / "cobra.toml"
    config.write_text(f'[database]\nurl = "sqlite+aiosqlite:///{db_file}"\n', encoding="utf-8")
    code, out = _run("db", "upgrade", "--config", str(config))
    assert code == 0, out
    assert f"database at sqlite+aiosqlite:///{db_file} upgraded" in out
    assert migrate.current_revision(f"sqlite+aiosqlite:///{db_file}") == migrate.head_revision()


def test_upgrade_reads_the_url_from_the_environment(tmp_path: Path) -> None:
    db_file = tmp_path / "from-env.db"
    code, out = _run("db", "upgrade", env={"COBRA_DATABASE__URL": f"sqlite+aiosqlite:///{db_file}", "COBRA_CONFIG": ""})
    assert code == 0, out
    assert db_file.exists()


def test_check_fails_and_lists_the_drift(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'drift.db'}"
    migrate.upgrade(url)

    async def drift() -> None:
        engine = create_engine(url)
        async with engine.begin() as conn:
            await conn.execute(text("ALTER TABLE campaigns ADD COLUMN colour VARCHAR(10)"))
        await engine.dispose()

    asyncio.run(drift())
    code, out = _run("db", "check", "--url", url)
    assert code == 1
    assert "column campaigns.colour: in the database, not in the models" in out


def test_check_of_an_unmigrated_database_says_to_upgrade(tmp_path: Path) -> None:
    code, out = _run("db", "check", "--url", f"sqlite+aiosqlite:///{tmp_path / 'new.db'}")
    assert code == 1 and "run `cobra db upgrade` first" in out


def test_bad_urls_and_configs_are_explained(tmp_path: Path) -> None:
    code, out = _run("db", "upgrade", "--url", "mysql://u@h/db")
    assert code == 1 and "driver 'mysql' is not supported" in out
    code, out = _run("db", "upgrade", "--url", f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'x.db'}")
    assert code == 1 and f"directory {tmp_path / 'missing'} does not exist" in out
    bad = tmp_path / "bad.toml"
    bad.write_text('[database]\nurl = "oracle://x"\n', encoding="utf-8")
    code, out = _run("db", "upgrade", "--config", str(bad))
    assert code == 1 and "database.url" in out


def test_help_describes_both_commands() -> None:
    code, out = _run("db", "--help")
    assert code == 0 and "upgrade" in out and "check" in out
    code, out = _run("db", "upgrade", "--help")
    assert code == 0 and "--url URL" in out and "--config" in out


def test_db_is_a_cobra_subcommand() -> None:
    from web.cli.main import cli

    assert cli.commands["db"] is db
