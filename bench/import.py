"""P5: portfolio import with validation into SQLite, rows/s and peak memory (SPEC §10).

Writes a ``--rows`` (default 200,000) row portfolio the way Brazilian spreadsheets save it
(Latin-1, ``;``, decimal comma, ``dd/mm/aaaa``, formatted CPFs and phones, 1 to 3 rows per
customer, ~2% bad rows), then times, on a fresh migrated SQLite file:

- the pure parser alone (``read_portfolio``: decoding, CSV, validation), and
- the whole import (``import_portfolio``: both passes, batches of whole customers, leads).

The import runs as the service runs it, in a child process with its own engine
(``import_portfolio_in_process``), while a task on the caller's loop records the longest
stall of that loop (goal < 50 ms: the dialer shares it); ``--thread`` also imports in a
worker thread of this process and ``--on-loop`` on the loop itself (as the REST upload did
before), for comparison. The re-import reads the same file again: every customer is
unchanged, so it measures the fingerprint skip (nothing is parsed or written for them). ``--pg-url`` adds the same
import into a scratch PostgreSQL database. Peak RSS is read from the OS before and after
(``ru_maxrss``): it should not grow with the file. Results: ``bench/results/import.json``.
Usage: ``python bench/import.py [--rows N] [--thread] [--on-loop] [--pg-url URL]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dialer.portfolio.cpf import format_cpf, make_cpf  # noqa: E402
from dialer.portfolio.importer import import_portfolio, import_portfolio_in_worker  # noqa: E402
from dialer.portfolio.rows import read_portfolio  # noqa: E402
from dialer.portfolio.worker import import_portfolio_in_process  # noqa: E402
from storage import migrate  # noqa: E402
from storage.engine import create_engine, session_factory  # noqa: E402
from storage.models import Campaign, CampaignMode  # noqa: E402

DEFAULT_OUTPUT = ROOT / "bench" / "results" / "import.json"
HEADER = "ID_Cliente;Nome;CPF;Data_Nascimento;Telefones;Email;UF;Contrato;Credor;Produto;Valor_Original;Saldo;Vencimento;Tags\r\n"
NAMES = ["José da Conceição", "Maria Aparecida", "João Antônio", "Ana Lúcia", "Luíza Brandão", "Sérgio Nóbrega"]
DDDS = [("11", "SP"), ("21", "RJ"), ("31", "MG"), ("41", "PR"), ("51", "RS"), ("71", "BA"), ("81", "PE"), ("68", "AC")]


def brl(cents: int) -> str:
    reais, rest = divmod(cents, 100)
    return f"{reais:,}".replace(",", ".") + f",{rest:02d}"


def write_file(path: Path, rows: int, seed: int = 11) -> int:
    """The portfolio file; returns its size in bytes."""
    rng = random.Random(seed)
    written, customer = 0, 0
    with path.open("w", encoding="latin-1", newline="") as out:
        out.write(HEADER)
        while written < rows:
            customer += 1
            ddd, uf = rng.choice(DDDS)
            cpf = format_cpf(make_cpf(f"{200000000 + customer:09d}"))
            name = rng.choice(NAMES)
            phones = f"({ddd}) 9{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}"
            if rng.random() < 0.4:
                phones += f"|{ddd} 3{rng.randint(100, 999)}-{rng.randint(1000, 9999)}"
            for k in range(min(rng.choice((1, 1, 2, 3)), rows - written)):
                balance = rng.randint(5000, 2_000_000)
                due = f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.choice((2023, 2024, 2025))}"
                bad = rng.random() < 0.02
                out.write(
                    f"C{customer};{name};{'111.111.111-11' if bad else cpf};15/04/1980;{phones};;{uf};"
                    f"CT-{customer}-{k};Banco Exemplo;Cartão de crédito;{brl(balance)};{brl(balance)};{due};"
                    f"{'vip' if customer % 20 == 0 else ''}\r\n"
                )
                written += 1
    return path.stat().st_size


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class LoopLag:
    """A task that wakes every ``period`` s and keeps the longest delay past its wake-up time."""

    def __init__(self, period: float = 0.005) -> None:
        self.period = period
        self.max_s = 0.0
        self.max_at_s = 0.0
        """When the longest stall began, in seconds from the start."""
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        while True:
            due = loop.time() + self.period
            await asyncio.sleep(self.period)
            late = loop.time() - due
            if late > self.max_s:
                self.max_s, self.max_at_s = late, due - start

    def __enter__(self) -> Self:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()


async def _campaign(db_url: str) -> int:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as db:
            campaign = Campaign(name="Bench", mode=CampaignMode.PROGRESSIVE, dial_template="Local/{number}@x",
                                caller_id="1", pbx_name="sim")
            db.add(campaign)
            await db.commit()
            return campaign.id
    finally:
        await engine.dispose()


async def run_import(db_url: str, path: Path, *, how: str = "process") -> dict[str, Any]:
    """Import then re-import ``path``; by default in a child process (as the service does), timing the loop's lag.

    ``how``: ``process``, ``thread`` (a worker thread of this process) or ``loop`` (on this loop).
    """
    campaign_id = await _campaign(db_url)

    async def once() -> tuple[float, float, Any]:
        with LoopLag() as lag:
            started = time.perf_counter()
            if how == "loop":
                engine = create_engine(db_url)
                try:
                    with path.open("rb") as stream:
                        result = await import_portfolio(session_factory(engine), stream, campaign_id=campaign_id)
                finally:
                    await engine.dispose()
            elif how == "thread":
                result = await import_portfolio_in_worker(db_url, path, campaign_id=campaign_id)
            else:
                result = await import_portfolio_in_process(db_url, path, campaign_id=campaign_id)
            print(f"  longest stall {lag.max_s * 1000:.1f} ms, {lag.max_at_s:.2f} s into the import")
            return time.perf_counter() - started, lag.max_s, result

    elapsed, lag, result = await once()
    reimport, relag, again = await once()
    return {"seconds": elapsed, "figures": result.to_json(), "reimport_seconds": reimport,
            "reimport_changed": again.imported_customers + again.updated_customers,
            "reimport_unchanged": again.unchanged_customers, "loop_lag_import_ms": round(lag * 1000, 1),
            "loop_lag_reimport_ms": round(relag * 1000, 1),
            "loop_lag_max_ms": round(max(lag, relag) * 1000, 1)}


def _report(label: str, rows: int, outcome: dict[str, Any]) -> dict[str, Any]:
    rate = rows / outcome["seconds"]
    rerate = rows / outcome["reimport_seconds"]
    print(f"{label}: {rows:,} rows in {outcome['seconds']:.2f} s = {rate:,.0f} rows/s (target 20,000); "
          f"re-import {outcome['reimport_seconds']:.2f} s = {rerate:,.0f} rows/s (target 50,000), "
          f"{outcome['reimport_changed']} changed; longest loop stall {outcome['loop_lag_max_ms']} ms")
    return {
        "import_rows_per_s": round(rate),
        "import_seconds": round(outcome["seconds"], 2),
        "reimport_rows_per_s": round(rerate),
        "reimport_seconds": round(outcome["reimport_seconds"], 2),
        "reimport_changed_customers": outcome["reimport_changed"],
        "reimport_skipped_unchanged_customers": outcome["reimport_unchanged"],
        "loop_lag_max_ms": outcome["loop_lag_max_ms"],
        "loop_lag_import_ms": outcome["loop_lag_import_ms"],
        "loop_lag_reimport_ms": outcome["loop_lag_reimport_ms"],
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--pg-url", default=None, help="also import into a scratch database on this PostgreSQL")
    parser.add_argument("--thread", action="store_true",
                        help="also import in a worker thread of this process (the previous way) for the loop stall")
    parser.add_argument("--on-loop", action="store_true",
                        help="also import on the caller's loop (as the API did before the worker) for the loop stall")
    args = parser.parse_args()
    results: dict[str, Any] = {"rows": args.rows, "target_rows_per_s": 20000, "target_reimport_rows_per_s": 50000,
                               "target_loop_lag_ms": 50}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "carteira.csv"
        size = write_file(path, args.rows)
        results["file_mb"] = round(size / 1e6, 1)
        rss_start = rss_mb()

        started = time.perf_counter()
        with path.open("rb") as stream:
            parsed = sum(1 for _ in read_portfolio(stream))
        parse_s = time.perf_counter() - started
        print(f"parser alone: {parsed:,} rows in {parse_s:.2f} s = {parsed / parse_s:,.0f} rows/s")
        results["parser_rows_per_s"] = round(parsed / parse_s)

        results["loop_lag_idle_max_ms"] = asyncio.run(_idle_lag())
        print(f"longest loop stall with nothing to do for 3 s: {results['loop_lag_idle_max_ms']} ms (machine noise)")
        db_url = f"sqlite+aiosqlite:///{Path(tmp) / 'import.db'}"
        migrate.upgrade(db_url)
        outcome = asyncio.run(run_import(db_url, path))
        results["sqlite"] = _report("sqlite (process)", args.rows, outcome)
        results["figures"] = outcome["figures"]
        print(json.dumps(outcome["figures"]))
        if args.thread:
            thread_url = f"sqlite+aiosqlite:///{Path(tmp) / 'thread.db'}"
            migrate.upgrade(thread_url)
            results["sqlite_thread"] = _report("sqlite (thread)", args.rows,
                                               asyncio.run(run_import(thread_url, path, how="thread")))
        if args.on_loop:
            on_loop_url = f"sqlite+aiosqlite:///{Path(tmp) / 'on_loop.db'}"
            migrate.upgrade(on_loop_url)
            results["sqlite_on_loop"] = _report("sqlite (on the loop)", args.rows,
                                                asyncio.run(run_import(on_loop_url, path, how="loop")))
        if args.pg_url:
            results["postgresql"] = _report("postgresql (process)", args.rows, _pg_import(args.pg_url, path))
        rss_end = rss_mb()
        print(f"peak RSS {rss_end:.0f} MB (before the parse and import: {rss_start:.0f} MB)")
    results.update({
        "peak_rss_mb": round(rss_end, 1),
        "rss_before_mb": round(rss_start, 1),
        "python": platform.python_version(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    })
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"written {args.output}")


async def _idle_lag() -> float:
    with LoopLag() as lag:
        await asyncio.sleep(3)
    return round(lag.max_s * 1000, 1)


def _pg_import(pg_url: str, path: Path) -> dict[str, Any]:
    import uuid

    import asyncpg
    from sqlalchemy.engine import make_url

    admin = make_url(pg_url).set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"cobra_import_{uuid.uuid4().hex[:8]}"

    async def sql(statement: str) -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(sql(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
        migrate.upgrade(url)
        return asyncio.run(run_import(url, path))
    finally:
        asyncio.run(sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
