"""``cobra demo --check``: the whole loop in-process, and the command itself."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from storage.engine import create_engine, session_factory
from storage.models import Outcome, OutcomeCode
from tests.web.conftest import FAST_HASHER
from web.cli.main import cli
from web.demo.check import run_check


async def test_check_runs_the_loop_and_keeps_the_given_dir(tmp_path: Path) -> None:
    result = await run_check(tmp_path / "demo", hasher=FAST_HASHER)
    assert result.ok, result.summary
    assert result.summary.startswith("cobra demo --check: ok:") and "PROMESSA R$ 150,00" in result.summary
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'demo' / 'cobra.db'}")
    try:
        async with session_factory(engine)() as db:
            [outcome] = (await db.execute(select(Outcome))).scalars()
    finally:
        await engine.dispose()
    assert outcome.code is OutcomeCode.PROMESSA
    # a second run reuses the seeded database and still works
    again = await run_check(tmp_path / "demo", hasher=FAST_HASHER)
    assert again.ok, again.summary


def test_demo_command_is_registered_with_help() -> None:
    result = CliRunner().invoke(cli, ["demo", "--help"])
    assert result.exit_code == 0
    for option in ("--bots", "--check", "--dir", "--port"):
        assert option in result.output


def test_demo_check_command_exits_0_with_one_summary_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["demo", "--check", "--dir", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    assert result.output.count("\n") == 1 and result.output.startswith("cobra demo --check: ok:")


def test_demo_check_command_fails_with_the_reason(tmp_path: Path) -> None:
    broken = tmp_path / "d"
    broken.mkdir()
    (broken / "cobra.db").write_bytes(b"isto nao e um banco sqlite" * 100)
    result = CliRunner().invoke(cli, ["demo", "--check", "--dir", str(broken)])
    assert result.exit_code == 1
    assert result.output.startswith("cobra demo --check: FAILED:") and "database" in result.output.lower()
