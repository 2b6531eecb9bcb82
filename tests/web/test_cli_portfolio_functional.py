"""``cobra import`` end to end: the messy fixture, --json figures, --rejects file, re-import, --map."""

from __future__ import annotations

import asyncio
import csv
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from storage.engine import create_engine, session_factory
from storage.repositories.audit import entries_for
from web.cli.main import cli

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "portfolios" / "messy_latin1_semicolon.csv"
FIGURES = {"rows": 12, "imported_customers": 4, "updated_customers": 0, "debts": 5, "rejected_rows": 7,
           "rejects_by_column": {"cpf": 3, "nome": 1, "saldo": 2, "telefones": 1, "vencimento": 2},
           "balance_total": "17680.61", "leads_created": 4, "dry_run": False}


@pytest.fixture
def config_file(db_url: str, tmp_path: Path) -> str:
    path = tmp_path / "cobra.toml"
    path.write_text(f'[database]\nurl = "{db_url}"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["campaign", "add", "Cartões", "--config", str(path)])
    assert result.exit_code == 0, result.output
    return str(path)


def run(config_file: str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["import", *args, "--config", config_file])


def test_json_figures_rejects_file_and_reimport(config_file: str, tmp_path: Path) -> None:
    rejects = tmp_path / "rejeitadas.csv"
    first = run(config_file, str(FIXTURE), "--campaign", "Cartões", "--json", "--rejects", str(rejects),
                "--allow-rejects")
    assert first.exit_code == 0, first.output
    figures = json.loads(first.output)
    assert figures.pop("first_rejects")[:2] == [
        {"linha": 4, "coluna": "cpf", "codigo": "cpf_invalido",
         "motivo": "CPF com dígitos verificadores errados: '529.982.247-24'."},
        {"linha": 5, "coluna": "cpf", "codigo": "cpf_digitos_repetidos",
         "motivo": "CPF com todos os dígitos iguais: '111.111.111-11'."},
    ]
    assert figures == FIGURES
    lines = list(csv.reader(rejects.read_text(encoding="utf-8-sig").splitlines(), delimiter=";"))
    assert lines[0] == ["linha", "coluna", "codigo", "motivo"]
    assert [line[:3] for line in lines[1:3]] == [["4", "cpf", "cpf_invalido"], ["5", "cpf", "cpf_digitos_repetidos"]]
    assert len(lines) == 10
    again = run(config_file, str(FIXTURE), "--campaign", "Cartões", "--json")
    assert again.exit_code == 1  # rejected rows, and no --allow-rejects
    assert {**json.loads(again.output), "first_rejects": None} == {**FIGURES, "imported_customers": 0,
                                                                   "leads_created": 0, "first_rejects": None}


def test_human_summary_dry_run_and_errors(config_file: str, tmp_path: Path) -> None:
    dry = run(config_file, str(FIXTURE), "--campaign", "Cartões", "--dry-run")
    assert dry.exit_code == 1, dry.output  # rows were rejected
    lines = dry.stdout.splitlines()
    assert lines[:4] == [
        "12 rows read (cp1252, ';'): 4 new customers, 0 updated, 5 debts totalling R$ 17.680,61, 4 new leads",
        "7 rows rejected (by column: cpf 3, nome 1, saldo 2, telefones 1, vencimento 2)",
        "rejected rows:",
        "  line 4, column cpf: CPF com dígitos verificadores errados: '529.982.247-24'.",
    ]
    assert "  line 13, column saldo: Valor não é um número em reais: 'abc'." in lines
    assert lines[-1] == "dry run: nothing was stored"
    assert dry.stderr.strip() == ("exit status 1: 7 row(s) rejected (dry run, nothing stored); fix them and import "
                                  "the file again, or pass --allow-rejects to accept a partial import")
    allowed = run(config_file, str(FIXTURE), "--campaign", "Cartões", "--dry-run", "--allow-rejects")
    assert (allowed.exit_code, allowed.stderr) == (0, "")
    custom = tmp_path / "outro.csv"
    custom.write_text("Codigo;nome;cpf;telefones;contrato;saldo;vencimento\n"
                      "X1;Ana;529.982.247-25;(11) 98765-4321;CT-1;100,00;10/01/2026\n", encoding="utf-8")
    mapped = run(config_file, str(custom), "--campaign", "Cartões", "--map", "id_cliente=Codigo", "--json")
    assert mapped.exit_code == 0, mapped.output  # every row accepted
    assert json.loads(mapped.output)["imported_customers"] == 1
    assert json.loads(mapped.output)["first_rejects"] == []
    unmapped = run(config_file, str(custom), "--campaign", "Cartões")
    assert unmapped.exit_code == 1 and "id_cliente" in unmapped.output
    bad_map = run(config_file, str(custom), "--campaign", "Cartões", "--map", "cor=Codigo")
    assert bad_map.exit_code == 2 and "no column 'cor'" in bad_map.output
    nowhere = run(config_file, str(FIXTURE), "--campaign", "Nada")
    assert nowhere.exit_code == 1 and "no campaign named 'Nada'" in nowhere.output


def _import_entries(db_url: str) -> list[dict[str, Any]]:
    async def read() -> list[dict[str, Any]]:
        engine = create_engine(db_url)
        try:
            async with session_factory(engine)() as db:
                return [e.after or {} for e in await entries_for(db, "campaign", 1, oldest_first=True)
                        if e.action == "portfolio.import"]
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_every_import_is_audited_with_who_the_file_and_the_figures(config_file: str, db_url: str,
                                                                      tmp_path: Path) -> None:
    rejects = tmp_path / "rejeitadas.csv"
    assert run(config_file, str(FIXTURE), "--campaign", "Cartões", "--dry-run").exit_code == 1  # rejects
    assert run(config_file, str(FIXTURE), "--campaign", "Cartões", "--rejects", str(rejects),
               "--allow-rejects").exit_code == 0
    dry, real = _import_entries(db_url)
    for entry in (dry, real):
        assert entry["source"] == "cli" and entry["by"].startswith("cli:") and len(entry["by"]) > 4
        assert entry["file"] == FIXTURE.name  # the name only, never the directories
        assert (entry["rows"], entry["rejected_rows"], entry["debts"]) == (12, 7, 5)
    assert (dry["dry_run"], dry["rejects_file"]) == (True, None)
    assert (real["dry_run"], real["rejects_file"]) == (False, "rejeitadas.csv")  # the rejects file is an export


def test_only_the_first_ten_rejected_rows_are_shown_and_the_rest_counted(config_file: str, tmp_path: Path) -> None:
    bad = tmp_path / "sem_nome.csv"
    rows = "".join(f"C{i};;529.982.247-25;(11) 98765-4321;CT-{i};100,00;10/01/2026\n" for i in range(12))
    bad.write_text("id_cliente;nome;cpf;telefones;contrato;saldo;vencimento\n" + rows, encoding="utf-8")
    result = run(config_file, str(bad), "--campaign", "Cartões", "--rejects", str(tmp_path / "r.csv"))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert "first 10 rejected rows:" in lines
    assert [line for line in lines if line.startswith("  line ")] == [
        f"  line {n}, column nome: Campo nome vazio." for n in range(2, 12)
    ]
    assert lines[-1] == f"  ... and 2 more row(s) (all of them are in {tmp_path / 'r.csv'})"
