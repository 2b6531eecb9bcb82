"""The portfolio importer on real databases (a SQLite file; PostgreSQL too for the fixture and re-import)."""

from __future__ import annotations

import asyncio
import gc
import io
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import dialer.portfolio.importer as importer_module
from dialer.portfolio.errors import PortfolioFormatError
from dialer.portfolio.importer import import_portfolio, import_portfolio_in_worker
from storage import migrate
from storage.engine import create_engine, session_factory
from storage.models import Campaign, CampaignMode, Customer, Debt, Lead, LeadState
from tests.dialer.test_leads_hopper import hopper_template, sessions  # noqa: F401  (fixtures)
from tests.storage.conftest import fresh_pg_database, in_thread

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "portfolios" / "messy_latin1_semicolon.csv"
NOW = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)
HEADER = "id_cliente;nome;cpf;telefones;contrato;credor;saldo;vencimento;tags\n"
TABLES = ("customers", "phones", "debts", "customer_tags", "leads")

EXPECTED = {
    "rows": 12,
    "imported_customers": 4,
    "updated_customers": 0,
    "debts": 5,
    "rejected_rows": 7,
    "rejects_by_column": {"cpf": 3, "nome": 1, "saldo": 2, "telefones": 1, "vencimento": 2},
    "balance_total": "17680.61",
    "leads_created": 4,
    "dry_run": False,
}


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    with fresh_pg_database() as url:
        in_thread(migrate.upgrade, url)
        yield url


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.postgres)])
async def any_sessions(
    request: pytest.FixtureRequest, sessions: async_sessionmaker[AsyncSession]  # noqa: F811
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    if request.param == "sqlite":
        yield sessions
        return
    engine = create_engine(request.getfixturevalue("pg_url"))
    try:
        factory = session_factory(engine)
        async with factory() as db:  # each test starts from an empty portfolio
            await db.execute(text("TRUNCATE customers, campaigns RESTART IDENTITY CASCADE"))
            await db.commit()
        yield factory
    finally:
        await engine.dispose()


async def campaign(sessions: async_sessionmaker[AsyncSession], name: str = "Cartões") -> int:  # noqa: F811
    async with sessions() as db:
        row = Campaign(name=name, mode=CampaignMode.PROGRESSIVE, dial_template="Local/{number}@x", caller_id="1",
                       pbx_name="sim")
        db.add(row)
        await db.commit()
        return row.id


async def dump(sessions: async_sessionmaker[AsyncSession]) -> dict[str, list[tuple[Any, ...]]]:  # noqa: F811
    """Every row of the portfolio tables, in a stable order."""
    out = {}
    async with sessions() as db:
        for table in TABLES:
            out[table] = [tuple(r) for r in await db.execute(text(f"SELECT * FROM {table} ORDER BY 1, 2"))]
    return out


async def run(sessions: async_sessionmaker[AsyncSession], data: bytes | Path, cid: int, **kw: Any) -> dict[str, Any]:  # noqa: F811
    stream = data.open("rb") if isinstance(data, Path) else io.BytesIO(data)
    with stream:
        result = await import_portfolio(sessions, stream, campaign_id=cid, now=kw.pop("now", NOW), **kw)
    return result.to_json()


async def test_the_messy_fixture_imports_with_exact_figures_and_reimport_is_a_noop(
    any_sessions: async_sessionmaker[AsyncSession],
) -> None:
    cid = await campaign(any_sessions)
    assert await run(any_sessions, FIXTURE, cid) == EXPECTED
    before = await dump(any_sessions)
    again = await run(any_sessions, FIXTURE, cid, now=datetime(2026, 3, 4, 9, 0, tzinfo=UTC))
    assert again == {**EXPECTED, "imported_customers": 0, "leads_created": 0}
    assert await dump(any_sessions) == before
    async with any_sessions() as db:
        jose = await db.scalar(select(Customer).where(Customer.external_id == "C001"))
        assert jose is not None and jose.name == "José da Conceição"
        assert jose.balance_total == Decimal("3234.56") and jose.oldest_due_date == date(2024, 11, 5)
        leads = list(await db.scalars(select(Lead).where(Lead.campaign_id == cid)))
        assert len(leads) == 4 and {lead.state for lead in leads} == {LeadState.NEW}
        assert {lead.next_attempt_at for lead in leads} == {NOW}


async def test_an_updated_file_updates_by_customer_and_contract(any_sessions: async_sessionmaker[AsyncSession]) -> None:
    cid = await campaign(any_sessions)
    first = HEADER + (
        "A1;Ana;529.982.247-25;(11) 98765-4321;CT-1;Banco;100,00;10/01/2026;vip\n"
        "B1;Bruno;111.444.777-35;(21) 98765-4321;CT-2;Banco;200,00;10/02/2026;\n"
    )
    assert (await run(any_sessions, first.encode(), cid))["imported_customers"] == 2
    second = HEADER + (
        "A1;Ana Maria;529.982.247-25;(11) 98765-4321|(11) 3212-3456;CT-1;Banco;150,00;10/01/2026;\n"
        "A1;Ana Maria;529.982.247-25;(11) 98765-4321;CT-9;Banco;50,00;05/12/2025;novo\n"
        "B1;Bruno;111.444.777-35;(21) 98765-4321;CT-2;Banco;200,00;10/02/2026;\n"
    )
    result = await run(any_sessions, second.encode(), cid)
    assert (result["imported_customers"], result["updated_customers"], result["debts"]) == (0, 1, 3)
    assert result["balance_total"] == "400.00"
    async with any_sessions() as db:
        ana = await db.scalar(select(Customer).where(Customer.external_id == "A1"))
        assert ana is not None and ana.name == "Ana Maria"
        assert (ana.balance_total, ana.oldest_due_date) == (Decimal("200.00"), date(2025, 12, 5))
        debts = dict((await db.execute(select(Debt.contract, Debt.balance).where(Debt.customer_id == ana.id))).all())
        assert debts == {"CT-1": Decimal("150.00"), "CT-9": Decimal("50.00")}
        tags = list(await db.scalars(text("SELECT tag FROM customer_tags WHERE customer_id = :c"), {"c": ana.id}))
        assert tags == ["novo"]
        phones = list(await db.scalars(text("SELECT e164 FROM phones WHERE customer_id = :c ORDER BY e164"), {"c": ana.id}))
        assert phones == ["+551132123456", "+5511987654321"]
        assert await db.scalar(text("SELECT count(*) FROM leads")) == 2


async def test_a_crash_leaves_whole_customers_or_none(
    sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    cid = await campaign(sessions)
    # A's rows are spread: A is whole after row 4, C after row 5, B only after row 6
    data = HEADER + (
        "A;Ana;529.982.247-25;(11) 98765-4321;CT-A1;Banco;100,00;10/01/2026;\n"
        "B;Bia;111.444.777-35;(11) 98765-1111;CT-B1;Banco;100,00;10/01/2026;\n"
        "A;Ana;529.982.247-25;(11) 98765-4321;CT-A2;Banco;100,00;10/01/2026;\n"
        "C;Caio;390.533.447-05;(11) 98765-2222;CT-C1;Banco;100,00;10/01/2026;\n"
        "B;Bia;111.444.777-35;(11) 98765-1111;CT-B2;Banco;100,00;10/01/2026;\n"
    )
    real = importer_module.store_customers
    batches: list[list[str]] = []

    async def crashing(session: AsyncSession, campaign_id: int, records: Any, *, now: datetime) -> Any:
        batches.append([r.external_id for r in records])
        if len(batches) == 2:
            raise RuntimeError("disk full")
        return await real(session, campaign_id, records, now=now)

    monkeypatch.setattr(importer_module, "store_customers", crashing)
    with pytest.raises(RuntimeError, match="disk full"):
        await run(sessions, data.encode(), cid, batch_customers=1)
    assert batches == [["A"], ["C"]]
    async with sessions() as db:
        stored = (await db.execute(select(Customer.external_id, Debt.contract).join(Debt))).all()
    assert sorted(stored) == [("A", "CT-A1"), ("A", "CT-A2")]


async def test_dry_run_stores_nothing(sessions: async_sessionmaker[AsyncSession]) -> None:  # noqa: F811
    cid = await campaign(sessions)
    result = await run(sessions, FIXTURE, cid, dry_run=True)
    assert result == {**EXPECTED, "dry_run": True}
    assert (await dump(sessions))["customers"] == []


async def test_column_map_and_bad_header(sessions: async_sessionmaker[AsyncSession]) -> None:  # noqa: F811
    cid = await campaign(sessions)
    data = ("Codigo;nome;cpf;telefones;contrato;credor;saldo;vencimento\n"
            "X1;Ana;529.982.247-25;(11) 98765-4321;CT-1;Banco;100,00;10/01/2026\n").encode()
    assert (await run(sessions, data, cid, column_map={"Codigo": "id_cliente"}))["imported_customers"] == 1
    with pytest.raises(PortfolioFormatError, match="id_cliente"):
        await run(sessions, data, cid)


async def test_rejected_rows_are_reported_with_row_and_column(sessions: async_sessionmaker[AsyncSession]) -> None:  # noqa: F811
    cid = await campaign(sessions)
    seen: list[tuple[int, str, str]] = []
    with FIXTURE.open("rb") as stream:
        await import_portfolio(
            sessions, stream, campaign_id=cid, now=NOW,
            on_rejected=lambda row: seen.extend((r.row_number, r.column, r.code) for r in row.rejections),
        )
    assert seen == [
        (4, "cpf", "cpf_invalido"),
        (5, "cpf", "cpf_digitos_repetidos"),
        (6, "nome", "nome_vazio"),
        (7, "saldo", "saldo_nao_positivo"),
        (8, "vencimento", "data_inexistente"),
        (9, "telefones", "sem_telefone_valido"),
        (13, "cpf", "cpf_ausente"),
        (13, "saldo", "valor_invalido"),
        (13, "vencimento", "data_inexistente"),
    ]


async def test_the_worker_import_runs_off_the_loop_with_the_same_figures(
    any_sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    cid = await campaign(any_sessions)
    url = any_sessions.kw["bind"].url
    loop_thread = threading.get_ident()
    seen: list[tuple[str, int, int]] = []  # (callback, value, thread)
    stored_on: set[int] = set()
    store = importer_module.store_customers

    async def store_and_note(*args: Any, **kw: Any) -> Any:
        stored_on.add(threading.get_ident())
        return await store(*args, **kw)

    monkeypatch.setattr(importer_module, "store_customers", store_and_note)
    ticks = 0
    done = asyncio.Event()

    async def ticker() -> None:  # the loop keeps serving others meanwhile
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0)

    ticking = asyncio.create_task(ticker())
    try:
        result = await import_portfolio_in_worker(
            url, FIXTURE, campaign_id=cid, now=NOW, batch_customers=1,
            on_start=lambda n: seen.append(("start", n, threading.get_ident())),
            on_progress=lambda n: seen.append(("progress", n, threading.get_ident())),
            on_rejected=lambda row: seen.append(("rejected", row.row_number, threading.get_ident())),
        )
    finally:
        done.set()
        await ticking
    assert result.to_json() == EXPECTED
    assert stored_on and loop_thread not in stored_on  # the SQL ran on the worker's thread
    assert {thread for *_, thread in seen} == {loop_thread}  # the callbacks on the caller's
    assert seen[0][:2] == ("start", 12)
    assert sum(n for kind, n, _ in seen if kind == "progress") == 12
    assert len([kind for kind, *_ in seen if kind == "rejected"]) == 7
    assert ticks > 1
    async with any_sessions() as db:
        assert await db.scalar(text("SELECT count(*) FROM leads")) == 4
    again = await import_portfolio_in_worker(url, FIXTURE, campaign_id=cid, now=NOW)
    assert again.to_json() == {**EXPECTED, "imported_customers": 0, "leads_created": 0}


async def test_the_worker_keeps_the_existing_heap_out_of_the_gc_while_it_runs(
    sessions: async_sessionmaker[AsyncSession],  # noqa: F811
) -> None:
    cid = await campaign(sessions)
    frozen_during: list[int] = []
    await import_portfolio_in_worker(
        sessions.kw["bind"].url, FIXTURE, campaign_id=cid, now=NOW,
        on_start=lambda _: frozen_during.append(gc.get_freeze_count()),
    )
    assert frozen_during and frozen_during[0] > 0
    assert gc.get_freeze_count() == 0  # given back when the last import ended


async def test_the_worker_refuses_an_in_memory_database() -> None:
    with pytest.raises(ValueError, match="in-memory"):
        await import_portfolio_in_worker("sqlite+aiosqlite://", FIXTURE, campaign_id=1)
