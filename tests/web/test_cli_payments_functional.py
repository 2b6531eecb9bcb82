"""``cobra payments import`` end to end: the real command on a real, migrated SQLite file."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialer.negotiation.agreements import close_agreement, record_promise
from scripting.offers import OfferKind
from storage.engine import create_engine, session_factory
from storage.models import (
    AgreementInstallment,
    InstallmentStatus,
    Lead,
    Promise,
    PromiseStatus,
)
from storage.repositories.audit import entries_for
from tests.dialer.negotiation_support import NOW, TODAY, World, add_call, seed
from web.cli.main import cli

T = TypeVar("T")


def with_db(db_url: str, work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]) -> T:
    async def run() -> T:
        engine = create_engine(db_url)
        try:
            return await work(session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(run())


@pytest.fixture
def config_file(db_url: str, tmp_path: Path) -> str:
    path = tmp_path / "cobra.toml"
    path.write_text(f'[database]\nurl = "{db_url}"\n', encoding="utf-8")
    return str(path)


@pytest.fixture
def world(db_url: str) -> tuple[World, list[Decimal]]:
    async def build(sessions: async_sessionmaker[AsyncSession]) -> tuple[World, list[Decimal]]:
        w = await seed(sessions)
        call, other = await add_call(sessions, w), await add_call(sessions, w)
        async with sessions() as db:
            agreement = await close_agreement(db, call_id=call, customer_id=w.customer_id, campaign_id=w.campaign_id,
                                              agent_id=w.agent_id, today=TODAY, at=NOW, kind=OfferKind.INSTALLMENTS,
                                              installments=2)
            await record_promise(db, call_id=other, customer_id=w.customer_id, campaign_id=w.campaign_id, agent_id=w.agent_id,
                                 amount=Decimal("40.00"), due_date=date(2026, 3, 4), today=TODAY, at=NOW)
            await db.commit()
            return w, [i.amount for i in agreement.installments]

    return with_db(db_url, build)


def run(config_file: str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["payments", "import", *args, "--config", config_file])


def test_import_pays_an_installment_breaks_a_promise_and_is_idempotent(
    config_file: str, db_url: str, world: tuple[World, list[Decimal]], tmp_path: Path
) -> None:
    w, amounts = world
    file = tmp_path / "pagamentos.csv"
    down = str(amounts[0]).replace(".", ",")
    file.write_bytes(f"CPF;Valor;Data\n529.982.247-25;{down};02/03/2026\n;1,00;02/03/2026\n".encode("latin-1"))
    result = run(config_file, str(file), "--json", "--today", "06/03/2026")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["stored"], report["installments_paid"], report["promises_kept"]) == (1, 1, 0)
    assert (report["promises_broken"], report["leads_requeued"]) == (1, 1)
    assert report["rejected"] == [{"row": 3, "column": "cpf", "reason": "Informe o CPF ou o contrato de quem pagou."}]
    assert report["today"] == "2026-03-06"

    async def check(sessions: async_sessionmaker[AsyncSession]) -> tuple[list[InstallmentStatus], PromiseStatus | None, int]:
        async with sessions() as db:
            statuses = (await db.execute(select(AgreementInstallment.status).order_by(AgreementInstallment.number))).scalars().all()
            promise = (await db.execute(select(Promise.status))).scalar()
            lead = await db.get(Lead, w.lead_id)
            assert lead is not None
            return list(statuses), promise, lead.boost

    assert with_db(db_url, check) == ([InstallmentStatus.PAID, InstallmentStatus.OPEN, InstallmentStatus.OPEN],
                                      PromiseStatus.BROKEN, 10)
    again = run(config_file, str(file), "--today", "06/03/2026")
    assert again.exit_code == 0, again.output
    assert "0 payments stored totalling R$ 0,00, 1 already imported" in again.output
    assert "0 promises broken" in again.output and "row 3, column cpf: Informe o CPF" in again.output
    assert with_db(db_url, check)[2] == 10  # nobody boosted twice

    async def imports(sessions: async_sessionmaker[AsyncSession]) -> list[dict[str, Any]]:
        async with sessions() as db:
            return [e.after or {} for e in await entries_for(db, "payments", "pagamentos.csv", oldest_first=True)
                    if e.action == "payments.import"]

    first, second = with_db(db_url, imports)  # each run of the command: who, which file, how many
    assert (first["source"], first["file"], first["dry_run"]) == ("cli", "pagamentos.csv", False)
    assert first["by"].startswith("cli:")
    assert (first["rows"], first["stored"], first["rejected"], first["promises_broken"]) == (2, 1, 1, 1)
    assert (second["stored"], second["duplicates"]) == (0, 1)


def test_unreadable_file_and_bad_date_option_are_named(config_file: str, tmp_path: Path) -> None:
    file = tmp_path / "ruim.csv"
    file.write_text("nome;valor\nMaria;10\n", encoding="utf-8")
    result = run(config_file, str(file))
    assert result.exit_code == 1 and "header lacks required column(s): cpf or contrato, data" in result.output
    bad = run(config_file, str(file), "--today", "31/02/2026")
    assert bad.exit_code == 2 and "Data que não existe" in bad.output


def test_a_utf16_file_is_refused_by_name(config_file: str, tmp_path: Path) -> None:
    file = tmp_path / "pagamentos.csv"
    file.write_text("CPF;Valor;Data\n529.982.247-25;10,00;02/03/2026\n", encoding="utf-16")
    result = run(config_file, str(file))
    assert result.exit_code == 1 and "arquivo em UTF-16 não é aceito; salve como UTF-8" in result.output


def test_help_lists_the_columns() -> None:
    result = CliRunner().invoke(cli, ["payments", "import", "--help"])
    assert result.exit_code == 0 and "id_pagamento" in result.output and "--grace-days" in result.output
