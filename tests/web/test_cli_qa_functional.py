"""``cobra export calls`` and ``cobra qa reflag`` end to end on a real, migrated SQLite file."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, func, select

from storage.engine import create_engine, session_factory
from storage.models import AuditLog, CallFlag
from tests.web.conftest import add_users
from tests.web.qa_data import Seeded, seed_calls
from web.cli.main import cli

NOW = datetime.now().astimezone()


@pytest.fixture
def config_file(db_url: str, tmp_path: Path) -> str:
    path = tmp_path / "cobra.toml"
    path.write_text(f'[database]\nurl = "{db_url}"\n\n[qa]\nshort_call_s = 20\n', encoding="utf-8")
    return str(path)


@pytest.fixture
def seeded(db_url: str) -> Seeded:
    async def build() -> Seeded:
        await add_users(db_url)
        return await seed_calls(db_url, NOW)

    return asyncio.run(build())


def _scalar(db_url: str, stmt: object) -> object:
    async def run() -> object:
        engine = create_engine(db_url)
        try:
            async with session_factory(engine)() as db:
                return (await db.execute(stmt)).scalar()  # type: ignore[call-overload]
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_export_calls_writes_the_csv_to_stdout_and_is_audited(config_file: str, seeded: Seeded, db_url: str) -> None:
    day = (NOW - timedelta(days=3)).date().isoformat()
    today = (NOW + timedelta(days=1)).date().isoformat()
    result = CliRunner().invoke(cli, ["export", "calls", "--from", day, "--to", today, "--config", config_file])
    assert result.exit_code == 0, result.output
    out = result.stdout_bytes
    assert out.startswith("\ufeff".encode())
    lines = out.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("id;inicio;operador;campanha")
    assert len(lines) == 1 + len(seeded.calls) and "8 calls exported" in result.stderr
    campaign = CliRunner().invoke(cli, ["export", "calls", "--from", day, "--to", today, "--campaign",
                                        str(seeded.other_campaign_id), "--config", config_file])
    assert len(campaign.stdout_bytes.decode("utf-8-sig").splitlines()) == 2
    assert _scalar(db_url, select(func.count()).select_from(AuditLog).where(AuditLog.action == "calls_exported")) == 2


def test_export_refuses_a_backwards_period_naming_the_option(config_file: str, seeded: Seeded) -> None:
    result = CliRunner().invoke(cli, ["export", "calls", "--from", "2026-03-02", "--to", "2026-03-01",
                                      "--config", config_file])
    assert result.exit_code == 2 and "--to" in result.output


def test_reflag_recomputes_the_flags_with_the_configured_threshold(config_file: str, seeded: Seeded, db_url: str) -> None:
    async def wipe() -> None:
        engine = create_engine(db_url)
        try:
            async with session_factory(engine).begin() as db:
                await db.execute(delete(CallFlag))
        finally:
            await engine.dispose()

    asyncio.run(wipe())
    result = CliRunner().invoke(cli, ["qa", "reflag", "--config", config_file])
    assert result.exit_code == 0, result.output
    assert "4 calls checked, 3 flagged" in result.output
    # the configured threshold is the one applied: the 12 s RECUSA is short under [qa] short_call_s = 20
    assert _scalar(db_url, select(func.count()).select_from(CallFlag).where(CallFlag.code == "chamada_curta")) == 1


def test_reflag_with_the_demos_speed_judges_the_calls_own_seconds(config_file: str, seeded: Seeded, db_url: str) -> None:
    # the 12 s RECUSA stored by a `cobra demo --speed 2` lasted 24 s of the call's time: over the 20 s threshold
    assert CliRunner().invoke(cli, ["qa", "reflag", "--config", config_file]).exit_code == 0
    short = select(func.count()).select_from(CallFlag).where(CallFlag.code == "chamada_curta")
    assert _scalar(db_url, short) == 1
    result = CliRunner().invoke(cli, ["qa", "reflag", "--speed", "2", "--config", config_file])
    assert result.exit_code == 0, result.output
    assert _scalar(db_url, short) == 0
