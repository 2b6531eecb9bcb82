"""Import a portfolio file into the database (SPEC §4 "Portfolio import").

Two passes over the file. The first only reads the ``id_cliente`` column to learn each
customer's last row; the second validates every row and holds a customer's good rows
until that last row has been read, so every batch written holds whole customers (a
customer's rows may be spread anywhere in the file). Each batch is one transaction: a
crash leaves every customer either as it was or fully imported, never half-written.

Re-importing a file changes nothing; an updated file updates customers by ``id_cliente``
and debts by ``contrato`` and never duplicates them. Every imported customer gets one
lead in the campaign. ``dry_run`` does all the work and rolls every batch back.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import gc
import heapq
import io
import threading
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from hashlib import blake2b
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialer.leads.hopper import reprioritise_customers
from dialer.portfolio.csv_reader import PortfolioCsv
from dialer.portfolio.rows import (
    PortfolioRow,
    RejectedRow,
    RowRejection,
    balance_cents,
    validate_row,
)
from storage.engine import (
    SQLITE_BUSY_TIMEOUT_S,
    create_engine,
    is_sqlite_memory,
    parse_url,
    session_factory,
)
from storage.repositories.portfolio import (
    CustomerRecord,
    DebtRecord,
    StoreResult,
    import_fingerprints,
    refresh_statistics,
    store_customers,
)

DEFAULT_BATCH_CUSTOMERS = 2000
SQLITE_BATCH_CUSTOMERS = 500
"""SQLite has one write lock for the whole database, and the dialer's own writes wait behind a
batch's transaction. Measured on 30k rows with the machine at load 9: batches of 2,000 customers
(~3,500 rows over five tables) kept their transaction open 0.7-1.6 s (median), batches of 500
78 ms, for ~10% more CPU per row."""
PROGRESS_ROWS = 10_000
"""Progress is told after every batch, or after this many rows read with no batch to write."""

REJECTS_HEADER = ("linha", "coluna", "codigo", "motivo")


@dataclass
class ImportResult:
    """The figures of one import (``to_json`` is what ``cobra import --json`` prints)."""

    rows: int = 0
    imported_customers: int = 0
    updated_customers: int = 0
    debts: int = 0
    rejected_rows: int = 0
    rejects_by_column: Counter[str] = field(default_factory=Counter)
    balance_total: Decimal = Decimal("0.00")
    leads_created: int = 0
    unchanged_customers: int = 0
    """Customers skipped because their records are the same as when they were last imported."""
    warnings: int = 0
    dry_run: bool = False
    encoding: str = ""
    delimiter: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "imported_customers": self.imported_customers,
            "updated_customers": self.updated_customers,
            "debts": self.debts,
            "rejected_rows": self.rejected_rows,
            "rejects_by_column": dict(sorted(self.rejects_by_column.items())),
            "balance_total": f"{self.balance_total:.2f}",
            "leads_created": self.leads_created,
            "dry_run": self.dry_run,
        }


FINGERPRINT_VERSION = "1"
"""Part of every fingerprint: bump it when validation or normalisation changes what a record
stores, so the next import reads every customer again instead of skipping them."""


@dataclass(slots=True)
class _Scan:
    """What pass 1 learns: each customer's last row and fingerprint, and how many records there are."""

    last_rows: dict[str, int]
    fingerprints: dict[str, bytes]
    records: int


def _scan(stream: BinaryIO, column_map: Mapping[str, str] | None) -> _Scan:
    """Pass 1: each customer id's last spreadsheet row and the fingerprint of its records.

    The fingerprint chains a BLAKE2b hash over the customer's raw records in file order
    (seeded with the column layout and :data:`FINGERPRINT_VERSION`): the same records under
    the same header give the same fingerprint, any changed byte, added, dropped or moved
    row another. It costs one hash per row, far less than validating the row.
    """
    start = stream.tell()
    raw = PortfolioCsv(stream, column_map=column_map)
    layout = raw.layout
    position = layout.columns.index("id_cliente")
    raw.detach()
    stream.seek(start)
    seed = blake2b(f"{FINGERPRINT_VERSION}\x1e{layout.columns!r}".encode(), digest_size=16).digest()
    text = io.TextIOWrapper(stream, encoding=layout.encoding, newline="")
    try:
        text.readline()  # the header
        last: dict[str, int] = {}
        chains: dict[str, bytes] = {}
        row_number, records = 1, 0
        for record in csv.reader(text, delimiter=layout.delimiter):
            row_number += 1
            joined = "\x1f".join(record)
            if not joined.strip():
                continue
            records += 1
            if position < len(record):
                customer = " ".join(record[position].split())
                if customer:
                    last[customer] = row_number
                    chains[customer] = blake2b(
                        chains.get(customer, seed) + joined.encode("utf-8", "surrogatepass"), digest_size=16
                    ).digest()
    finally:
        text.detach()
    stream.seek(start)
    return _Scan(last, chains, records)


def _add_row(record: CustomerRecord, row: PortfolioRow) -> None:
    record.name, record.cpf, record.birth_date = row.name, row.cpf, row.birth_date
    record.email, record.uf = row.email, row.uf
    for phone in row.phones:
        record.phones.setdefault(phone.e164, phone.ddd)
    record.debts[row.contract] = DebtRecord(
        contract=row.contract,
        creditor=row.creditor,
        product=row.product or None,
        original_amount=row.original_amount if row.original_amount is not None else row.balance,
        balance=row.balance,
        due_date=row.due_date,
    )
    record.tags.update(row.tags)


class _Grouper:
    """Holds each customer's rows until their last row is read, then hands the customer over."""

    def __init__(self, last_rows: dict[str, int]) -> None:
        self._last = last_rows
        self._pending: dict[str, CustomerRecord] = {}
        self._due: list[tuple[int, str]] = []

    def add(self, row: PortfolioRow) -> None:
        record = self._pending.get(row.customer_id)
        if record is None:
            record = CustomerRecord(row.customer_id, row.name, row.cpf, row.birth_date, row.email, row.uf)
            self._pending[row.customer_id] = record
            heapq.heappush(self._due, (self._last.get(row.customer_id, row.row_number), row.customer_id))
        _add_row(record, row)

    def complete_through(self, row_number: int) -> Iterator[CustomerRecord]:
        """Customers whose last row is at or before ``row_number``."""
        while self._due and self._due[0][0] <= row_number:
            _, customer = heapq.heappop(self._due)
            yield self._pending.pop(customer)

    def rest(self) -> Iterator[CustomerRecord]:
        yield from self.complete_through(1 << 62)


async def import_portfolio(
    sessions: async_sessionmaker[AsyncSession],
    stream: BinaryIO,
    *,
    campaign_id: int,
    column_map: Mapping[str, str] | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
    batch_customers: int | None = None,
    on_rejected: Callable[[RejectedRow], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> ImportResult:
    """Read ``stream`` (a seekable binary file) and store its customers in batches of whole customers.

    ``on_start(records)`` is told how many records the file has, ``on_progress(n)`` how many
    more were read after each batch, ``on_rejected`` gets every rejected row.
    Raises ``PortfolioFormatError`` (nothing stored) when the file as a whole can't be read.
    """
    moment = now or datetime.now(UTC)
    if batch_customers is None:
        bind = sessions.kw.get("bind")
        sqlite = bind is not None and bind.dialect.name == "sqlite"
        batch_customers = SQLITE_BATCH_CUSTOMERS if sqlite else DEFAULT_BATCH_CUSTOMERS
    scan = _scan(stream, column_map)
    if on_start is not None:
        on_start(scan.records)
    result = ImportResult(dry_run=dry_run)
    async with sessions() as session:
        stored = await import_fingerprints(session, campaign_id)
    # customers whose records are exactly those of the import that stored them whole: their
    # rows are neither validated nor written (they already are what the file says)
    unchanged = {ext for ext, chain in scan.fingerprints.items() if stored.get(ext) == chain.hex()}
    del stored

    analyzed_at = 0  # customers written when the planner's statistics were last refreshed

    async def write_batch(batch: list[CustomerRecord]) -> None:
        nonlocal analyzed_at
        async with sessions() as session:
            stored: StoreResult = await store_customers(session, campaign_id, batch, now=moment)
            if stored.changed_customer_ids:
                await reprioritise_customers(session, stored.changed_customer_ids, now=moment)
            if dry_run:
                await session.rollback()
            else:
                await session.commit()
                written = result.imported_customers + stored.inserted_customers
                if written >= 2 * analyzed_at + batch_customers:
                    # each time the import has about doubled what it wrote: a few times per import
                    await refresh_statistics(session)
                    await session.commit()
                    analyzed_at = written
        result.imported_customers += stored.inserted_customers
        result.updated_customers += stored.updated_customers
        result.leads_created += stored.leads_created
        for record in batch:
            result.debts += len(record.debts)
            result.balance_total += sum((d.balance for d in record.debts.values()), Decimal("0.00"))

    raw = PortfolioCsv(stream, column_map=column_map)
    result.encoding, result.delimiter = raw.layout.encoding, raw.layout.delimiter
    try:
        await _import_rows(raw, result, write_batch, scan, unchanged, batch_customers, on_rejected, on_progress)
    finally:
        raw.detach()  # the stream is the caller's to close
    return result


_YIELD_ROWS = 16


class _Pipeline:
    """Writes one batch while the next is parsed: the database works while Python reads the file.

    A batch is written by a task; handing over the next batch first waits for it (batches
    are committed in file order, one at a time; a failed batch raises there, and nothing
    after it is written). The parsing loop lets the task run every few rows
    (:meth:`let_run`), so each of its statements goes to the driver while parsing goes on.
    """

    def __init__(self, write: Callable[[list[CustomerRecord]], Awaitable[None]]) -> None:
        self._write = write
        self._task: asyncio.Future[None] | None = None

    async def hand(self, batch: list[CustomerRecord]) -> None:
        await self.finish()
        self._task = asyncio.ensure_future(self._write(batch))

    async def let_run(self) -> None:
        if self._task is not None and not self._task.done():
            await asyncio.sleep(0)

    async def finish(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            await task

    async def abandon(self) -> None:
        """Stop the batch in flight (its transaction rolls back); for when reading failed."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                await task


async def _import_rows(
    raw: PortfolioCsv,
    result: ImportResult,
    write: Callable[[list[CustomerRecord]], Awaitable[None]],
    scan: _Scan,
    unchanged: set[str],
    batch_customers: int,
    on_rejected: Callable[[RejectedRow], None] | None,
    on_progress: Callable[[int], None] | None,
) -> None:
    writer = _Pipeline(write)
    try:
        await _read_rows(raw, result, writer, scan, unchanged, batch_customers, on_rejected, on_progress)
    except BaseException:
        await writer.abandon()
        raise


async def _read_rows(
    raw: PortfolioCsv,
    result: ImportResult,
    writer: _Pipeline,
    scan: _Scan,
    unchanged: set[str],
    batch_customers: int,
    on_rejected: Callable[[RejectedRow], None] | None,
    on_progress: Callable[[int], None] | None,
) -> None:
    grouper = _Grouper(scan.last_rows)
    ready: list[CustomerRecord] = []
    read_since_progress = 0
    tainted: set[str] = set()  # customers with a rejected row or a warning: no fingerprint is kept for them
    skipped: dict[str, dict[str, str]] = {}  # unchanged customer → contract → balance text (for the figures)
    skipped_cents = 0
    at_id, at_contract, at_balance = raw.position("id_cliente"), raw.position("contrato"), raw.position("saldo")
    for row_number, record in raw.records():
        result.rows += 1
        read_since_progress += 1
        if not result.rows % _YIELD_ROWS:
            await writer.let_run()
        customer = " ".join(record[at_id].split()) if at_id < len(record) else ""
        if customer in unchanged:
            # every row of this customer has a customer id, a contract and a balance (it was accepted)
            contracts = skipped.setdefault(customer, {})
            contracts[" ".join(record[at_contract].split())] = record[at_balance]
            if scan.last_rows[customer] == row_number:
                result.unchanged_customers += 1
                contracts = skipped.pop(customer)
                result.debts += len(contracts)
                skipped_cents += sum(map(balance_cents, contracts.values()))
        else:
            raw_row = raw.raw_row(row_number, record)
            item = validate_row(raw_row)
            if isinstance(item, RejectedRow):
                tainted.add(customer)
                result.rejected_rows += 1
                result.rejects_by_column.update({r.column for r in item.rejections})
                if on_rejected is not None:
                    on_rejected(item)
            else:
                if item.warnings:
                    tainted.add(customer)
                    result.warnings += 1
                grouper.add(item)
            for whole in grouper.complete_through(row_number):
                chain = scan.fingerprints.get(whole.external_id)
                if chain is not None and whole.external_id not in tainted:
                    whole.fingerprint = chain.hex()
                ready.append(whole)
        if len(ready) >= batch_customers:
            await writer.hand(ready)
            ready = []
            if on_progress is not None:
                on_progress(read_since_progress)
                read_since_progress = 0
        elif read_since_progress >= PROGRESS_ROWS and on_progress is not None:
            on_progress(read_since_progress)  # unchanged customers make no batches: tell progress anyway
            read_since_progress = 0
    # unchanged customers' balances: their rows were all accepted when the fingerprint was
    # stored and they are the same bytes now, so they parse the same (summed in cents, once)
    result.balance_total += Decimal(skipped_cents).scaleb(-2)
    ready.extend(grouper.rest())
    if ready:
        await writer.hand(ready)
    await writer.finish()
    if on_progress is not None and read_since_progress:
        on_progress(read_since_progress)


_A = TypeVar("_A")
_frozen_by = 0
_freeze_lock = threading.Lock()


class _GcFrozen:
    """While any worker import runs, the objects that existed before it are out of the GC's reach.

    The cyclic GC stops every thread while it runs, and a full collection walks every
    tracked object of the process: the service's whole heap. An import allocates enough to
    set off several of them, each stalling the dialer's loop for hundreds of milliseconds
    (measured: 360 ms on a loaded 2-core machine with only the bench's heap). ``gc.freeze``
    moves what exists now to a generation the collector skips (they are still freed by
    reference counting), so those collections walk only what was made since; the last
    import to end gives them back (``gc.unfreeze``).
    """

    def __enter__(self) -> None:
        global _frozen_by
        with _freeze_lock:
            gc.freeze()
            _frozen_by += 1

    def __exit__(self, *exc: object) -> None:
        global _frozen_by
        with _freeze_lock:
            _frozen_by -= 1
            if _frozen_by == 0:
                gc.unfreeze()


def _on_loop(loop: asyncio.AbstractEventLoop, callback: Callable[[_A], None] | None) -> Callable[[_A], None] | None:
    """``callback`` called on ``loop``'s thread (in order) when the worker calls the returned function."""
    if callback is None:
        return None

    def relay(value: _A) -> None:
        loop.call_soon_threadsafe(callback, value)

    return relay


async def import_portfolio_in_worker(
    database_url: str | URL,
    path: Path,
    *,
    campaign_id: int,
    busy_timeout_s: float = SQLITE_BUSY_TIMEOUT_S,
    column_map: Mapping[str, str] | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
    batch_customers: int | None = None,
    on_rejected: Callable[[RejectedRow], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> ImportResult:
    """:func:`import_portfolio` of the file at ``path``, off the caller's event loop.

    A 200k-row import is ~10 s of parsing and SQL: on the service's loop it stalled the dialer
    for over a second at a time. Here it runs in a worker thread with an event loop and an
    engine (connection pool) of its own; the callbacks are called on the caller's loop, in
    order, before this returns. Same transactions, same results as :func:`import_portfolio`.
    An in-memory SQLite database can't be shared with another engine: it is refused.
    """
    if is_sqlite_memory(parse_url(database_url)):
        raise ValueError("an in-memory SQLite database can't be imported into from a worker")
    loop = asyncio.get_running_loop()
    rejected, progress, start = _on_loop(loop, on_rejected), _on_loop(loop, on_progress), _on_loop(loop, on_start)

    async def run() -> ImportResult:
        engine = create_engine(database_url, busy_timeout_s=busy_timeout_s)
        try:
            with path.open("rb") as stream:
                return await import_portfolio(
                    session_factory(engine), stream, campaign_id=campaign_id, column_map=column_map,
                    dry_run=dry_run, now=now, batch_customers=batch_customers,
                    on_rejected=rejected, on_progress=progress, on_start=start,
                )
        finally:
            await engine.dispose()

    with _GcFrozen():
        return await asyncio.to_thread(lambda: asyncio.run(run()))


def rejection_lines(rejected: RejectedRow) -> list[tuple[str, ...]]:
    """The rejects-file lines of one rejected row (one per problem)."""
    return [_line(r) for r in rejected.rejections]


def _line(rejection: RowRejection) -> tuple[str, ...]:
    return (str(rejection.row_number), rejection.column, rejection.code, rejection.reason)


FIRST_REJECTS = 10
"""How many rejected rows the summaries show (the terminal and the REST answer); the counts cover all."""


@dataclass
class FirstRejects:
    """The first rejected rows of an import, for the summary both ``cobra import`` and the REST
    answer give: an ``on_rejected`` callback that keeps ``limit`` rows (every problem of each)."""

    limit: int = FIRST_REJECTS
    rows: list[RejectedRow] = field(default_factory=list)

    def __call__(self, rejected: RejectedRow) -> None:
        if len(self.rows) < self.limit:
            self.rows.append(rejected)

    def rejections(self) -> list[RowRejection]:
        return [r for row in self.rows for r in row.rejections]

    def to_json(self) -> list[dict[str, Any]]:
        """As the rejects file and the REST answer name them: linha, coluna, codigo, motivo."""
        return [dict(zip(REJECTS_HEADER, (r.row_number, r.column, r.code, r.reason), strict=True))
                for r in self.rejections()]


def summary_pt(result: ImportResult, first: FirstRejects) -> str:
    """The import's summary for people (pt-BR): rows read and accepted, and the first rejects."""
    accepted = result.rows - result.rejected_rows
    text = (f"{result.rows} linha(s) lida(s), {accepted} aceita(s): {result.imported_customers} cliente(s) novo(s), "
            f"{result.updated_customers} atualizado(s), {result.debts} dívida(s).")
    if result.rejected_rows:
        shown = "; ".join(f"linha {r.row_number}, coluna {r.column}: {r.reason}" for r in first.rejections())
        text += f" {result.rejected_rows} linha(s) rejeitada(s). Primeiras: {shown}"
    if result.dry_run:
        text += " Simulação: nada foi gravado."
    return text
