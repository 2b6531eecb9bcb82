"""``cobra dnc`` end to end: add, remove, import a Procon-style list, list."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from dialer.portfolio.cpf import make_cpf
from storage.engine import create_engine, session_factory
from storage.repositories.audit import entries_for
from web.cli.main import cli


@pytest.fixture
def config_file(db_url: str, tmp_path: Path) -> str:
    path = tmp_path / "cobra.toml"
    path.write_text(f'[database]\nurl = "{db_url}"\n', encoding="utf-8")
    return str(path)


def run(config_file: str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["dnc", *args, "--config", config_file])


def test_add_remove_and_list(config_file: str) -> None:
    added = run(config_file, "add", "--phone", "(11) 98765-4321", "--until", "31/12/2026", "--source", "cliente")
    assert added.exit_code == 0, added.output
    assert added.output.strip() == "phone (11) 98765-4321 added until 31/12/2026"
    assert "updated" in run(config_file, "add", "--phone", "11 98765-4321").output
    assert run(config_file, "add", "--cpf", "529.982.247-25").output.strip() == "cpf 529.982.247-25 added permanently"
    assert run(config_file, "add", "--cpf", "529.982.247-24").exit_code == 2
    assert run(config_file, "add").exit_code == 2
    listed = json.loads(run(config_file, "list", "--json").output)
    assert listed == [{"kind": "cpf", "value": "52998224725", "until": None, "source": "manual"},
                      {"kind": "phone", "value": "+5511987654321", "until": None, "source": "manual"}]
    assert run(config_file, "remove", "--cpf", "52998224725").output.strip() == "cpf 529.982.247-25 removed"
    gone = run(config_file, "remove", "--cpf", "52998224725")
    assert gone.exit_code == 1 and "not on the do-not-call list" in gone.output


def test_import_a_suppression_list(config_file: str, tmp_path: Path) -> None:
    plain = tmp_path / "nao_me_ligue.txt"
    plain.write_bytes("(11) 98765-4321\n111.444.777-35\n+55 21 3212-3456\nnão é número\n\n52998224725\n".encode("latin-1"))
    result = run(config_file, "import", str(plain), "--source", "procon-sp", "--json")
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert (figures["added"], figures["updated"], figures["unchanged"]) == (4, 0, 0)
    assert [(r["linha"], r["valor"]) for r in figures["rejected"]] == [(4, "não é número")]
    headed = tmp_path / "lista.csv"
    headed.write_text("telefone;cpf\n11987654321;\n;111.444.777-35\n", encoding="utf-8")
    again = json.loads(run(config_file, "import", str(headed), "--source", "procon-sp", "--json").output)
    assert (again["added"], again["unchanged"], again["rejected"]) == (0, 2, [])
    both = make_cpf("119876543")  # a valid CPF that is also a valid (11) 9xxxx-xxxx mobile
    ambiguous = tmp_path / "ambigua.txt"
    ambiguous.write_text(f"{both}\n", encoding="utf-8")
    out = json.loads(run(config_file, "import", str(ambiguous), "--json").output)
    assert out["added"] == 0 and [r["linha"] for r in out["rejected"]] == [1]
    assert "use um cabeçalho cpf ou telefone" in out["rejected"][0]["motivo"]


def test_listing_is_an_audited_export_and_a_utf16_file_is_refused_by_name(
    config_file: str, db_url: str, tmp_path: Path
) -> None:
    assert run(config_file, "add", "--cpf", "529.982.247-25").exit_code == 0
    assert run(config_file, "list", "--json").exit_code == 0

    async def exports() -> list[dict[str, Any]]:
        engine = create_engine(db_url)
        try:
            async with session_factory(engine)() as db:
                return [e.after or {} for e in await entries_for(db, "dnc") if e.action == "dnc.export"]
        finally:
            await engine.dispose()

    (entry,) = asyncio.run(exports())
    assert (entry["source"], entry["entries"], entry["format"]) == ("cli", 1, "json")
    assert entry["by"].startswith("cli:")
    utf16 = tmp_path / "lista.txt"
    utf16.write_text("telefone\n11987654321\n", encoding="utf-16")
    refused = run(config_file, "import", str(utf16))
    assert refused.exit_code == 1 and "arquivo em UTF-16 não é aceito; salve como UTF-8" in refused.output
