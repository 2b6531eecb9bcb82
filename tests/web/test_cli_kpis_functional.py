"""``cobra kpis show`` and ``cobra kpis export`` end to end, on a real migrated SQLite file with a week of calls."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

import pytest
from click.testing import CliRunner

from storage.engine import create_engine, session_factory
from storage.repositories.audit import AuditEntry, entries_for
from tests.web.conftest import add_users
from tests.web.kpi_data import CAMPAIGN, DAYS, FIRST_DAY, seed_history
from web.cli.main import cli

LAST_DAY = "2026-03-01"


@pytest.fixture
def config_file(db_url: str, tmp_path: Path) -> str:
    asyncio.run(add_users(db_url))
    asyncio.run(seed_history(db_url))
    path = tmp_path / "cobra.toml"
    path.write_text(f'[database]\nurl = "{db_url}"\n', encoding="utf-8")
    return str(path)


def _audit(db_url: str) -> list[AuditEntry]:
    async def read() -> list[AuditEntry]:
        engine = create_engine(db_url)
        try:
            async with session_factory(engine)() as db:
                return await entries_for(db, "kpis")
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_show_prints_a_table_per_day_and_agent(config_file: str) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["kpis", "show", "--config", config_file, "--from", FIRST_DAY.isoformat(),
                                 "--to", "01/03/2026"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Indicadores de 24/02/2026 a 01/03/2026"
    assert lines[2].split()[:3] == ["Dia", "Tentativas", "Atendidas"]
    assert sum(1 for line in lines if line[:2].isdigit() and "/2026" in line[:10]) == DAYS
    total = next(line for line in lines if line.startswith("Total"))
    assert "R$" in total and "%" in total
    assert "Motivos da inadimplência:" in result.output and "Desemprego (financeiro)" in result.output

    by_agent = runner.invoke(cli, ["kpis", "show", "--config", config_file, "--from", FIRST_DAY.isoformat(),
                                   "--to", LAST_DAY, "--by", "agent", "--campaign", CAMPAIGN])
    assert by_agent.exit_code == 0, by_agent.output
    assert "campanha Carteira Varejo" in by_agent.output and "Ana Souza (ana)" in by_agent.output


def test_export_writes_excel_csv_and_audits(config_file: str, db_url: str) -> None:
    result = CliRunner().invoke(cli, ["kpis", "export", "--config", config_file, "--from", FIRST_DAY.isoformat(),
                                      "--to", LAST_DAY, "--by", "campaign"])
    assert result.exit_code == 0, result.output
    raw = result.stdout_bytes
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:2] == ["campanha", "tentativas"]
    assert [r[0] for r in rows[1:]] == [CAMPAIGN, "Total"]
    assert rows[1][1] == rows[2][1] and int(rows[1][1]) > 0
    audit = _audit(db_url)
    assert len(audit) == 1 and audit[0].action == "kpis.export" and audit[0].user_id is None
    assert audit[0].after is not None and audit[0].after["source"] == "cli" and audit[0].after["group_by"] == "campaign"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2026-03-05", "--to", "2026-03-01"], "after the last"),
        (["--from", "31/02/2026"], "--from"),
        (["--campaign", "Nenhuma"], "no campaign named 'Nenhuma'"),
        (["--by", "week"], "--by"),
    ],
)
def test_bad_options_are_refused(config_file: str, args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["kpis", "show", "--config", config_file, *args])
    assert result.exit_code != 0
    assert message in result.output
