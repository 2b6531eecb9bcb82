"""``cobra regua`` end to end on a real SQLite file: preview, run (idempotent), send, export-agency."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from pathlib import Path

from click.testing import CliRunner

from dialer.regua.services import RunReport
from storage.engine import create_engine, session_factory
from tests.regua.portfolio import Portfolio, seed
from web.cli.main import cli
from web.cli.regua import run_lines


async def _seed(url: str) -> Portfolio:
    engine = create_engine(url)
    try:
        return await seed(session_factory(engine))
    finally:
        await engine.dispose()


def test_preview_run_send_and_export_from_the_command_line(sqlite_url: str, tmp_path: Path) -> None:
    asyncio.run(_seed(sqlite_url))
    config = tmp_path / "cobra.toml"
    config.write_text(f'[database]\nurl = "{sqlite_url}"\n\n[smtp]\nport = 1\ntimeout_s = 2\n', encoding="utf-8")
    runner = CliRunner()

    def cobra(*args: str) -> str:
        result = runner.invoke(cli, [*args, "--config", str(config)], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    text = cobra("regua", "preview", "--date", "11/03/2026")
    assert "Régua em 11/03/2026: 2 ações" in text and "D+1 Aviso de atraso (SMS): 2" in text
    assert "Ana Souza · SMS +5511987654321 · R$ 500,00" in text
    # what a supervisor reads is pt-BR, like the preview and the régua page: dates dd/mm/aaaa, counts with their nouns
    ran = cobra("regua", "run", "--date", "11/03/2026", "--no-send")
    assert ran.strip() == ("Régua em 11/03/2026: 2 passos executados (2 mensagens na fila, 0 leads com reforço na "
                           "discagem, 0 contas enviadas a assessorias), 0 compromissos quebrados, 0 passos ficam para "
                           "a próxima execução")
    first = json.loads(cobra("regua", "run", "--date", "2026-06-08", "--no-send", "--json"))
    assert first["handed_off"] == 2 and first["outbox"] is None
    again = json.loads(cobra("regua", "run", "--date", "2026-06-08", "--no-send", "--json"))
    assert again["decided"] == 0
    sent = cobra("regua", "send")
    assert sent.startswith("Envio: 0 mensagens enviadas, ") and "falh" in sent and "sent" not in sent
    out = tmp_path / "export"
    listing = cobra("regua", "export-agency", "--dir", str(out))
    assert "Assessoria Parceira: 2 contas → " in listing
    [file] = list(out.glob("assessoria-parceira-*.csv"))
    rows = file.read_text(encoding="utf-8-sig").splitlines()
    assert len(rows) == 3 and rows[0].startswith("id_externo;nome;cpf")
    only_new = cobra("regua", "export-agency", "--agency", "Assessoria Parceira", "--only-new", "--stdout")
    assert only_new.strip().splitlines() == [rows[0]]


def test_a_runs_summary_is_pt_br_singular_plural_and_thousands() -> None:
    report = RunReport(date(2026, 3, 11), decided=1234, messages=1, boosted=2, handed_off=1, broken=1,
                       left_for_next_run=1, errors=["aviso-d1:7: sem [regua] link_secret, pesquisa não enviada"])
    assert run_lines(report) == [
        ("Régua em 11/03/2026: 1.234 passos executados (1 mensagem na fila, 2 leads com reforço na discagem, "
        "1 conta enviada a assessoria), 1 compromisso quebrado, 1 passo fica para a próxima execução"),
        "  problema: aviso-d1:7: sem [regua] link_secret, pesquisa não enviada",
    ]
