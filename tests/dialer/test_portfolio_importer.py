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
from dialer.portfolio.importer import (
    FirstRejects,
    import_portfolio,
    import_portfolio_in_worker,
)
from dialer.portfolio.worker import import_portfolio_in_process
from storage import migrate
from storage.engine import create_engine, session_factory
from storage.models import Campaign, CampaignMode, Customer, Debt, Lead, LeadState
from storage.repositories.negotiation import DebtShare, InstallmentSpec, add_agreement
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
    data = (b"Codigo;nome;cpf;telefones;contrato;credor;saldo;vencimento\n"
            b"X1;Ana;529.982.247-25;(11) 98765-4321;CT-1;Banco;100,00;10/01/2026\n")
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


# ---------------------------------------------------------------- fingerprints: unchanged customers are skipped

THREE = HEADER + (
    "A1;Ana;529.982.247-25;(11) 98765-4321;CT-1;Banco;100,00;10/01/2026;vip\n"
    "B1;Bruno;111.444.777-35;(21) 98765-4321;CT-2;Banco;200,00;10/02/2026;\n"
    "B1;Bruno;111.444.777-35;(21) 98765-4321;CT-3;Banco;1.300,50;10/03/2026;\n"
    "C1;Caio;390.533.447-05;(31) 98765-2222;CT-4;Banco;50,00;10/04/2026;\n"
)
LATER = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)


async def updated_at(sessions: async_sessionmaker[AsyncSession]) -> dict[str, set[datetime]]:  # noqa: F811
    """Every ``updated_at`` of each customer's row and debts, by external id."""
    out: dict[str, set[datetime]] = {}
    async with sessions() as db:
        for ext, customer_at, debt_at in await db.execute(
            select(Customer.external_id, Customer.updated_at, Debt.updated_at).join(Debt)
        ):
            out.setdefault(ext, set()).update({customer_at, debt_at})
    return out


async def test_a_reimport_skips_unchanged_customers_and_picks_up_one_changed_field(
    any_sessions: async_sessionmaker[AsyncSession],
) -> None:
    cid = await campaign(any_sessions)
    stream = io.BytesIO(THREE.encode())
    first = await import_portfolio(any_sessions, stream, campaign_id=cid, now=NOW)
    assert (first.imported_customers, first.unchanged_customers) == (3, 0)
    async with any_sessions() as db:
        fingerprints = dict((await db.execute(select(Customer.external_id, Customer.import_fingerprint))).all())
    assert all(fingerprints.values()) and len(set(fingerprints.values())) == 3

    again = await import_portfolio(any_sessions, io.BytesIO(THREE.encode()), campaign_id=cid, now=LATER)
    assert (again.imported_customers, again.updated_customers, again.unchanged_customers) == (0, 0, 3)
    # the figures cover the skipped customers as if they had been read
    assert again.to_json() == {**first.to_json(), "imported_customers": 0, "leads_created": 0}
    assert {ext: stamps for ext, stamps in (await updated_at(any_sessions)).items()} == {
        "A1": {NOW}, "B1": {NOW}, "C1": {NOW}
    }

    # one field of one row: Bruno's second contract's balance
    changed = THREE.replace("CT-3;Banco;1.300,50", "CT-3;Banco;1.250,50")
    third = await import_portfolio(any_sessions, io.BytesIO(changed.encode()), campaign_id=cid, now=LATER)
    assert (third.imported_customers, third.updated_customers, third.unchanged_customers) == (0, 1, 2)
    assert third.to_json()["balance_total"] == "1600.50"
    stamps = await updated_at(any_sessions)
    assert stamps["A1"] == {NOW} and stamps["C1"] == {NOW}  # not written at all
    assert LATER in stamps["B1"]
    async with any_sessions() as db:
        bruno = await db.scalar(select(Customer).where(Customer.external_id == "B1"))
        assert bruno is not None and bruno.balance_total == Decimal("1450.50")
        assert bruno.import_fingerprint not in (None, fingerprints["B1"])


async def test_a_customer_with_a_rejected_row_is_read_again_every_time(
    sessions: async_sessionmaker[AsyncSession],  # noqa: F811
) -> None:
    cid = await campaign(sessions)
    data = THREE + "C1;Caio;390.533.447-05;(31) 98765-2222;CT-5;Banco;abc;10/04/2026;\n"
    for moment in (NOW, LATER):
        seen = FirstRejects()
        result = await import_portfolio(sessions, io.BytesIO(data.encode()), campaign_id=cid, now=moment,
                                        on_rejected=seen)
        assert [row.row_number for row in seen.rows] == [6] and result.rejects_by_column == {"saldo": 1}
    assert result.unchanged_customers == 2
    async with sessions() as db:
        caio = await db.scalar(select(Customer).where(Customer.external_id == "C1"))
    assert caio is not None and caio.import_fingerprint is None


async def test_a_new_campaign_or_other_columns_or_an_agreement_make_the_importer_compare_again(
    sessions: async_sessionmaker[AsyncSession],  # noqa: F811
) -> None:
    cid = await campaign(sessions)
    await import_portfolio(sessions, io.BytesIO(THREE.encode()), campaign_id=cid, now=NOW)
    # another campaign: the customers need their lead there, so none is skipped
    other = await campaign(sessions, "Outra")
    result = await import_portfolio(sessions, io.BytesIO(THREE.encode()), campaign_id=other, now=NOW)
    assert (result.unchanged_customers, result.leads_created) == (0, 3)
    # the same values under another header order are other records
    lines = [line.split(";") for line in THREE.splitlines()]
    swapped = "".join(";".join([*f[:5], f[6], f[5], *f[7:]]) + "\n" for f in lines)
    result = await import_portfolio(sessions, io.BytesIO(swapped.encode()), campaign_id=cid, now=NOW)
    assert (result.unchanged_customers, result.updated_customers, result.rejected_rows) == (0, 0, 0)  # all equal
    result = await import_portfolio(sessions, io.BytesIO(THREE.encode()), campaign_id=cid, now=NOW)
    assert (result.unchanged_customers, result.updated_customers) == (0, 0)  # the fingerprints were the swapped file's
    # an agreement moves Ana's debt to in_agreement: her stored aggregates no longer match the file's
    async with sessions() as db:
        ana = await db.scalar(select(Customer).where(Customer.external_id == "A1"))
        assert ana is not None
        debt_id = await db.scalar(select(Debt.id).where(Debt.customer_id == ana.id))
        assert debt_id is not None
        await add_agreement(
            db, customer_id=ana.id, attempt_id=None, campaign_id=cid, agent_id=None, approval_id=None,
            kind="a_vista", discount_pct=Decimal(0), discount_amount=Decimal(0), debt_total=Decimal("100.00"),
            calculation={}, installments=[InstallmentSpec(1, date(2026, 3, 10), Decimal("100.00"))],
            debts=[DebtShare(debt_id, Decimal("100.00"))], created_at=NOW,
        )
        await db.commit()
    result = await import_portfolio(sessions, io.BytesIO(THREE.encode()), campaign_id=cid, now=LATER)
    assert result.unchanged_customers == 2 and result.updated_customers == 1


# ---------------------------------------------------------------- the child-process import


async def test_the_process_import_gives_the_same_figures_and_callbacks_in_order(
    any_sessions: async_sessionmaker[AsyncSession],
) -> None:
    cid = await campaign(any_sessions)
    url = any_sessions.kw["bind"].url
    seen: list[tuple[str, int]] = []
    ticks = 0
    done = asyncio.Event()

    async def ticker() -> None:  # the loop keeps serving others meanwhile
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0)

    ticking = asyncio.create_task(ticker())
    try:
        result = await import_portfolio_in_process(
            url, FIXTURE, campaign_id=cid, now=NOW, batch_customers=1,
            on_start=lambda n: seen.append(("start", n)),
            on_progress=lambda n: seen.append(("progress", n)),
            on_rejected=lambda row: seen.append(("rejected", row.row_number)),
        )
    finally:
        done.set()
        await ticking
    assert result.to_json() == EXPECTED
    assert seen[0] == ("start", 12)
    assert sum(n for kind, n in seen if kind == "progress") == 12
    rejected = [n for kind, n in seen if kind == "rejected"]
    assert len(rejected) == 7 and rejected == sorted(rejected)
    assert ticks > 1
    async with any_sessions() as db:
        assert await db.scalar(text("SELECT count(*) FROM leads")) == 4
    again = await import_portfolio_in_process(url, FIXTURE, campaign_id=cid, now=NOW)
    assert again.to_json() == {**EXPECTED, "imported_customers": 0, "leads_created": 0}
    assert again.unchanged_customers == 3  # the one with a rejected row (or a warning) beside good ones is read again


async def test_the_process_import_raises_the_childs_errors(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path  # noqa: F811
) -> None:
    cid = await campaign(sessions)
    bad = tmp_path / "sem_cpf.csv"
    bad.write_bytes(b"id_cliente;nome;telefones;contrato;saldo;vencimento\nA;Ana;11987654321;C;1,00;01/01/2026\n")
    with pytest.raises(PortfolioFormatError, match="cpf"):
        await import_portfolio_in_process(sessions.kw["bind"].url, bad, campaign_id=cid, now=NOW)
    with pytest.raises(ValueError, match="in-memory"):
        await import_portfolio_in_process("sqlite+aiosqlite://", FIXTURE, campaign_id=cid)


async def test_bulk_batches_store_exact_values_and_roll_back_whole(
    any_sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches big enough for PostgreSQL's COPY path: values as typed, and inside the batch's transaction."""
    from dialer.portfolio.cpf import format_cpf, make_cpf

    cid = await campaign(any_sessions)
    data = HEADER + "".join(
        f"K{n};Cliente {n};{format_cpf(make_cpf(f'{300000000 + n:09d}'))};(11) 9{n:04d}-1234|(21) 3{n:03d}-4321;"
        f"CT-{n};Banco;{n}.234,5{n % 10};{1 + n % 28:02d}/03/2026;{'vip' if n % 2 else ''}\n"
        for n in range(1, 121)
    )
    real = importer_module.store_customers
    calls = 0

    async def fails_after_the_second(session: AsyncSession, campaign_id: int, records: Any, *, now: datetime) -> Any:
        nonlocal calls
        calls += 1
        stored = await real(session, campaign_id, records, now=now)
        if calls == 2:
            raise RuntimeError("disk full")  # after the batch's rows went to the database
        return stored

    monkeypatch.setattr(importer_module, "store_customers", fails_after_the_second)
    with pytest.raises(RuntimeError, match="disk full"):
        await run(any_sessions, data.encode(), cid, batch_customers=60)
    async with any_sessions() as db:
        counts = [await db.scalar(text(f"SELECT count(*) FROM {table}")) for table in TABLES]
        assert counts == [60, 120, 60, 30, 60]  # the first batch whole, nothing of the second
        k7 = await db.scalar(select(Customer).where(Customer.external_id == "K7"))
        assert k7 is not None and (k7.name, k7.cpf, k7.balance_total, k7.oldest_due_date) == (
            "Cliente 7", make_cpf("300000007"), Decimal("7234.57"), date(2026, 3, 8)
        )
        assert (k7.created_at, k7.updated_at, k7.import_fingerprint is not None) == (NOW, NOW, True)
        debt = (await db.execute(select(Debt.contract, Debt.balance, Debt.original_amount, Debt.due_date, Debt.status,
                                        Debt.product).where(Debt.customer_id == k7.id))).one()
        assert tuple(debt) == ("CT-7", Decimal("7234.57"), Decimal("7234.57"), date(2026, 3, 8), "open", None)
        phones = (await db.execute(text("SELECT e164, ddd, kind, status FROM phones WHERE customer_id = :c ORDER BY e164"),
                                   {"c": k7.id})).all()
        assert [tuple(p) for p in phones] == [("+5511900071234", "11", "own", "ok"), ("+552130074321", "21", "own", "ok")]
        lead = await db.scalar(select(Lead).where(Lead.customer_id == k7.id))
        assert lead is not None and (lead.campaign_id, lead.state, lead.next_attempt_at) == (cid, LeadState.NEW, NOW)
