"""P6: call-record queries and the CSV export at a million calls (SPEC §10).

Builds ``--rows`` synthetic call attempts (default 1,000,000) over 90 days: 50 agents, 5
campaigns, 100,000 customers, the result mix of an outbound floor (35 % connected), outcomes
on every connected call, agreements and promises with amounts, 2 % flagged, 0.5 % reviewed.
Rows go in with the drivers' bulk paths (sqlite3 ``executemany``, asyncpg
``copy_records_to_table``).

Then it times what ``GET /api/v1/calls`` does (filters → keyset query → flags → JSON items,
no HTTP) for the first page (50 rows) of each filter, ``--repeat`` times with varying
values, and a deep page (a cursor at a random position of the whole set), and prints the
p95 of each; then it exports every row through the CSV path of ``GET /api/v1/calls.csv`` in
a child process and reports rows/s and that process's peak RSS, sampled every 100,000 rows
(flat memory: server-side streaming, Core rows, a hand-rolled row formatter).

Goal: p95 ≤ 50 ms, export ≥ 50,000 rows/s with flat memory, on SQLite and PostgreSQL.
Results: ``bench/results/qa_query.json``.

Usage: ``python bench/qa_query.py [--rows 1000000] [--repeat 40] [--pg-url URL] [--no-sqlite]
[--keep-dir DIR] [--pg-db NAME] [--baseline JSON]``

``--keep-dir`` keeps the SQLite database in DIR (and reuses it when it is there) and ``--pg-db``
names the PostgreSQL database, reused when it exists and then left in place (drop it yourself):
building a million calls takes minutes. A reused database is migrated to head first, so a set
built before a migration measures that migration's upgrade too. ``--baseline`` embeds another
run's results (e.g. the code before a change, on the same databases) as ``baseline``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dialer.qa.records import Cursor, parse_filters
from storage import migrate
from storage.engine import create_engine, session_factory
from web.qa.services import call_page, csv_chunks

DEFAULT_OUTPUT = ROOT / "bench" / "results" / "qa_query.json"
NOW = datetime(2026, 3, 31, 18, 0, tzinfo=UTC)
DAYS = 90
AGENTS = 50
CAMPAIGNS = 5
CUSTOMERS = 100_000
RESULTS = [("no_answer", 40), ("busy", 12), ("connected", 35), ("machine", 5), ("failed", 5), ("abandoned", 3)]
OUTCOMES = [("RECUSA", 25), ("PROMESSA", 20), ("ACORDO", 10), ("RETORNAR", 15), ("RECADO", 12), ("SEM_CONDICOES", 8),
            ("CONTESTA", 4), ("JA_PAGO", 3), ("TELEFONE_ERRADO", 3)]
FLAG_CODES = ["chamada_curta", "divida_antes_identidade", "desconto_sem_aprovacao", "promessa_acima_saldo"]
TARGET_P95_MS = 50
TARGET_EXPORT_ROWS_S = 50_000


def synthetic(n: int, seed: int = 13) -> dict[str, list[tuple[Any, ...]]]:
    """Rows (ids 1..) for users, customers, call attempts, outcomes, agreements, flags and reviews."""
    rng = random.Random(seed)
    results = rng.choices([r for r, _ in RESULTS], weights=[w for _, w in RESULTS], k=n)
    codes = [c for c, _ in OUTCOMES]
    weights = [w for _, w in OUTCOMES]
    step = DAYS * 86400 / n
    start = NOW - timedelta(days=DAYS)
    out: dict[str, list[tuple[Any, ...]]] = {k: [] for k in ("calls", "outcomes", "agreements", "flags", "reviews")}
    for i in range(n):
        call_id = f"{i + 1:032x}"
        created = start + timedelta(seconds=i * step + rng.random() * step)
        result = results[i]
        agent = rng.randrange(1, AGENTS + 1) if result in ("connected", "abandoned") or rng.random() < 0.3 else None
        customer = rng.randrange(1, CUSTOMERS + 1)
        campaign = 1 + (customer % CAMPAIGNS)
        number = f"+55{rng.choice(('11', '21', '31', '41', '51', '71', '81', '85'))}9{rng.randrange(10**7, 10**8)}"
        answered = connected = None
        ended = created + timedelta(seconds=rng.uniform(5, 30))
        if result in ("connected", "machine", "abandoned"):
            answered = created + timedelta(seconds=rng.uniform(3, 20))
            ended = answered + timedelta(seconds=rng.uniform(2, 15))
        if result == "connected":
            assert answered is not None
            connected = answered + timedelta(seconds=rng.uniform(0.1, 1.5))
            ended = connected + timedelta(seconds=min(1800.0, rng.lognormvariate(4.6, 0.8)))
        recording = f"/var/spool/asterisk/monitor/{created:%Y/%m/%d}/{call_id}.wav" if connected else None
        out["calls"].append((call_id, campaign, customer, agent, number, created, answered, connected, ended, result,
                             16, recording))
        if connected is None or agent is None:
            continue
        code = rng.choices(codes, weights=weights)[0]
        amount = None
        if code == "PROMESSA":
            amount = Decimal(rng.randrange(5000, 500000)) / 100
        out["outcomes"].append((len(out["outcomes"]) + 1, call_id, agent, code, amount, ended))
        if code == "ACORDO":
            total = Decimal(rng.randrange(10000, 2000000)) / 100
            out["agreements"].append((len(out["agreements"]) + 1, customer, call_id, campaign, agent, total, ended))
        if rng.random() < 0.05:
            out["flags"].append((call_id, rng.choice(FLAG_CODES), "bench", ended))
        if rng.random() < 0.015:
            out["reviews"].append((len(out["reviews"]) + 1, call_id, agent, Decimal(rng.randrange(0, 10001)) / 100,
                                   ended + timedelta(days=1)))
    return out


def _ts(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def build_sqlite(path: Path, data: dict[str, list[tuple[Any, ...]]]) -> None:
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    created = _ts(NOW - timedelta(days=DAYS + 1))
    db.executemany("INSERT INTO users (id, login, password_hash, role, full_name, active, created_at) "
                   "VALUES (?, ?, 'x', ?, ?, 1, ?)",
                   [(u, f"agente{u}", "agent", f"Agente {u} Silva", created) for u in range(1, AGENTS + 1)]
                   + [(AGENTS + 1, "monitoria", "qa", "Monitoria", created)])
    db.executemany("INSERT INTO campaigns (id, name, mode, status, dial_template, caller_id, pbx_name, ring_timeout_s, "
                   "max_dial_level, abandon_cap, created_at) VALUES (?, ?, 'predictive', 'active', 'Local/{number}@x', "
                   "'551130000000', 'sim', 25, 3, 0.03, ?)",
                   [(c, f"Carteira {c}", created) for c in range(1, CAMPAIGNS + 1)])
    db.executemany("INSERT INTO customers (id, external_id, name, cpf, uf, deceased, dispute_pending, balance_total, "
                   "created_at, updated_at) VALUES (?, ?, ?, ?, 'SP', 0, 0, '1000.00', ?, ?)",
                   ((i, f"c{i}", f"Cliente {i} de Souza", f"{i:011d}", created, created) for i in range(1, CUSTOMERS + 1)))
    db.executemany(
        "INSERT INTO call_attempts (id, campaign_id, customer_id, agent_id, mode, number, created_at, answered_at, "
        "connected_at, ended_at, result, hangup_cause, recording_path, abandoned, short_call) "
        "VALUES (?, ?, ?, ?, 'predictive', ?, ?, ?, ?, ?, ?, ?, ?, 0, 0)",
        ((r[0], r[1], r[2], r[3], r[4], _ts(r[5]), _ts(r[6]), _ts(r[7]), _ts(r[8]), r[9], r[10], r[11])
         for r in data["calls"]))
    db.executemany("INSERT INTO outcomes (id, attempt_id, agent_id, code, promise_amount, client_key, created_at) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?)",
                   ((r[0], r[1], r[2], r[3], _money(r[4]), f"k{r[0]}", _ts(r[5])) for r in data["outcomes"]))
    db.executemany("INSERT INTO agreements (id, customer_id, attempt_id, campaign_id, agent_id, kind, discount_pct, "
                   "discount_amount, debt_total, total, calculation, status, created_at) "
                   "VALUES (?, ?, ?, ?, ?, 'a_vista', '10.00', '0.00', ?, ?, '{}', 'active', ?)",
                   ((r[0], r[1], r[2], r[3], r[4], _money(r[5]), _money(r[5]), _ts(r[6])) for r in data["agreements"]))
    db.executemany("INSERT INTO call_flags (attempt_id, code, detail, created_at) VALUES (?, ?, ?, ?)",
                   ((r[0], r[1], r[2], _ts(r[3])) for r in data["flags"]))
    db.executemany("INSERT INTO call_reviews (id, attempt_id, agent_id, reviewer_id, scorecard_key, answers, score, "
                   "zeroed, created_at) VALUES (?, ?, ?, ?, 'cobranca', '{}', ?, 0, ?)",
                   ((r[0], r[1], r[2], AGENTS + 1, _money(r[3]), _ts(r[4])) for r in data["reviews"]))
    db.commit()
    if _sqlite_has_amount(db):  # the schema keeps each call's amount on the call (0015): fill it as the migration does
        db.execute(backfill_amounts_sql())
        db.commit()
    db.execute("ANALYZE")
    db.close()


async def build_pg(url: str, data: dict[str, list[tuple[Any, ...]]]) -> None:
    import asyncpg

    conn = await asyncpg.connect(_dsn(url))
    created = NOW - timedelta(days=DAYS + 1)
    try:
        await conn.copy_records_to_table(
            "users", columns=["id", "login", "password_hash", "role", "full_name", "active", "created_at"],
            records=[(u, f"agente{u}", "x", "agent", f"Agente {u} Silva", True, created) for u in range(1, AGENTS + 1)]
            + [(AGENTS + 1, "monitoria", "x", "qa", "Monitoria", True, created)])
        await conn.copy_records_to_table(
            "campaigns", columns=["id", "name", "mode", "status", "dial_template", "caller_id", "pbx_name",
                                  "ring_timeout_s", "max_dial_level", "abandon_cap", "amd_enabled", "created_at"],
            records=[(c, f"Carteira {c}", "predictive", "active", "Local/{number}@x", "551130000000", "sim", 25.0, 3.0,
                      0.03, False, created) for c in range(1, CAMPAIGNS + 1)])
        await conn.copy_records_to_table(
            "customers", columns=["id", "external_id", "name", "cpf", "uf", "deceased", "dispute_pending",
                                  "balance_total", "created_at", "updated_at"],
            records=[(i, f"c{i}", f"Cliente {i} de Souza", f"{i:011d}", "SP", False, False, Decimal("1000.00"), created,
                      created) for i in range(1, CUSTOMERS + 1)])
        await conn.copy_records_to_table(
            "call_attempts", columns=["id", "campaign_id", "customer_id", "agent_id", "mode", "number", "created_at",
                                      "answered_at", "connected_at", "ended_at", "result", "hangup_cause",
                                      "recording_path", "abandoned", "short_call"],
            records=[(*r[:4], "predictive", *r[4:], False, False) for r in data["calls"]])
        await conn.copy_records_to_table(
            "outcomes", columns=["id", "attempt_id", "agent_id", "code", "promise_amount", "client_key", "created_at"],
            records=[(r[0], r[1], r[2], r[3], r[4], f"k{r[0]}", r[5]) for r in data["outcomes"]])
        await conn.copy_records_to_table(
            "agreements", columns=["id", "customer_id", "attempt_id", "campaign_id", "agent_id", "kind", "discount_pct",
                                   "discount_amount", "debt_total", "total", "calculation", "status", "created_at"],
            records=[(r[0], r[1], r[2], r[3], r[4], "a_vista", Decimal("10.00"), Decimal("0.00"), r[5], r[5], "{}",
                      "active", r[6]) for r in data["agreements"]])
        await conn.copy_records_to_table("call_flags", columns=["attempt_id", "code", "detail", "created_at"],
                                         records=data["flags"])
        await conn.copy_records_to_table(
            "call_reviews", columns=["id", "attempt_id", "agent_id", "reviewer_id", "scorecard_key", "answers", "score",
                                     "zeroed", "created_at"],
            records=[(r[0], r[1], r[2], AGENTS + 1, "cobranca", "{}", r[3], False, r[4]) for r in data["reviews"]])
        for table in ("users", "campaigns", "customers", "outcomes", "agreements", "call_reviews"):
            await conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        if await conn.fetchval("SELECT count(*) FROM information_schema.columns "
                               "WHERE table_name = 'call_attempts' AND column_name = 'amount'"):
            await conn.execute(backfill_amounts_sql())
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


def backfill_amounts_sql() -> str:
    """The calls' denormalised amount (agreement total, else promised amount) as migration 0015 fills it."""
    return ("UPDATE call_attempts SET amount = COALESCE("
            "(SELECT a.total FROM agreements a WHERE a.attempt_id = call_attempts.id), "
            "(SELECT o.promise_amount FROM outcomes o WHERE o.attempt_id = call_attempts.id)) "
            "WHERE id IN (SELECT attempt_id FROM outcomes UNION SELECT attempt_id FROM agreements "
            "WHERE attempt_id IS NOT NULL)")


def _sqlite_has_amount(db: sqlite3.Connection) -> bool:
    return any(r[1] == "amount" for r in db.execute("PRAGMA table_info(call_attempts)"))


def _dsn(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _day(days_ago: int) -> str:
    return (NOW - timedelta(days=days_ago)).date().isoformat()


def filter_cases(rng: random.Random) -> dict[str, Any]:
    """Each case: a function giving fresh query parameters per repetition."""

    def week() -> dict[str, str]:
        d = rng.randrange(0, DAYS - 7)
        return {"from": _day(d + 6), "to": _day(d)}

    def one_day() -> dict[str, str]:
        d = rng.randrange(0, DAYS - 1)
        return {"from": _day(d), "to": _day(d)}

    def agent() -> str:
        return f"agente{rng.randrange(1, AGENTS + 1)}"

    def campaign() -> str:
        return str(rng.randrange(1, CAMPAIGNS + 1))

    return {
        "none": dict,
        "date_range_week": week,
        "agent": lambda: {"agent": agent()},
        "campaign": lambda: {"campaign": campaign()},
        "campaign_week": lambda: {"campaign": campaign(), **week()},
        "agent_day": lambda: {"agent": agent(), **one_day()},
        "result": lambda: {"result": rng.choice(["connected", "busy", "machine", "abandoned"])},
        "outcome": lambda: {"outcome": rng.choice(["ACORDO", "PROMESSA", "CONTESTA", "JA_PAGO"])},
        "talk_range": lambda: {"min_talk": "300", "max_talk": str(rng.randrange(400, 900))},
        "amount_range": lambda: {"min_amount": str(rng.randrange(1000, 5000)), "max_amount": "20000"},
        "flagged": lambda: {"flagged": "true"},
        "reviewed": lambda: {"reviewed": "true"},
        "not_reviewed": lambda: {"reviewed": "false"},
        "agent_outcome": lambda: {"agent": agent(), "outcome": "ACORDO"},
    }


async def measure_queries(url: str, repeat: int, rows: int) -> dict[str, Any]:
    engine = create_engine(url)
    sessions = session_factory(engine)
    rng = random.Random(5)
    out: dict[str, Any] = {}
    try:
        async with sessions() as db:
            for _ in range(5):  # warm caches and compiled statements
                await call_page(db, parse_filters({}))
            for name, make in filter_cases(rng).items():
                times: list[float] = []
                found = 0
                for _ in range(repeat):
                    f = parse_filters(make())
                    t0 = time.perf_counter()
                    page = await call_page(db, f)
                    times.append((time.perf_counter() - t0) * 1000)
                    found += len(page["items"])
                out[name] = {"p50_ms": round(pct(times, 0.5), 2), "p95_ms": round(pct(times, 0.95), 2),
                             "max_ms": round(max(times), 2), "rows_per_page": round(found / repeat, 1)}
                print(f"  first page {name:>16}: p95 {out[name]['p95_ms']:7.2f} ms  ({out[name]['rows_per_page']} rows)")
            # deep pages: a cursor at a random point of the whole history
            times = []
            step = DAYS * 86400 / rows
            for _ in range(repeat):
                i = rng.randrange(rows // 10, rows)
                at = NOW - timedelta(days=DAYS) + timedelta(seconds=i * step)
                f = parse_filters({}).after(Cursor(at, f"{i:032x}"))
                t0 = time.perf_counter()
                page = await call_page(db, f)
                times.append((time.perf_counter() - t0) * 1000)
                assert len(page["items"]) == 50
            out["deep_page"] = {"p50_ms": round(pct(times, 0.5), 2), "p95_ms": round(pct(times, 0.95), 2),
                                "max_ms": round(max(times), 2)}
            print(f"  deep page (random cursor): p95 {out['deep_page']['p95_ms']:.2f} ms")
            # the cursor walk itself: 20 pages in a row from a filtered first page
            f = parse_filters({"campaign": "2"})
            t0 = time.perf_counter()
            for _ in range(20):
                page = await call_page(db, f)
                f = f.after(None if page["next"] is None else _cursor(page))
            out["walk_20_pages_ms"] = round((time.perf_counter() - t0) * 1000, 1)
    finally:
        await engine.dispose()
    out["worst_p95_ms"] = max(v["p95_ms"] for v in out.values() if isinstance(v, dict))
    return out


def _cursor(page: dict[str, Any]) -> Cursor:
    from dialer.qa.records import decode_cursor

    return decode_cursor(page["next"])


async def _export(url: str) -> dict[str, Any]:
    engine = create_engine(url)
    rss: list[float] = []
    page = os.sysconf("SC_PAGE_SIZE")

    def current_mb() -> float:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * page / 2**20

    rows = 0
    size = 0
    next_sample = 0
    try:
        async with session_factory(engine)() as db:
            t0 = time.perf_counter()
            cpu0 = _cpu_s()
            with open(os.devnull, "wb") as sink:  # noqa: ASYNC230 (the null device never blocks)
                async for chunk, n in csv_chunks(db, parse_filters({}, cursor_allowed=False), chunk_rows=2000):
                    data = chunk.encode("utf-8")
                    sink.write(data)
                    size += len(data)
                    rows += n
                    if rows >= next_sample:
                        rss.append(round(current_mb(), 1))
                        next_sample += 100_000
            seconds = time.perf_counter() - t0
            cpu = _cpu_s() - cpu0
    finally:
        await engine.dispose()
    # CPU seconds of this process (every thread: aiosqlite steps SQLite in its own); not PostgreSQL's server.
    # On a shared machine the wall-clock rate falls with the load average, this one much less.
    return {"rows": rows, "seconds": round(seconds, 2), "rows_per_s": round(rows / seconds), "bytes": size,
            "process_cpu_s": round(cpu, 2), "rows_per_process_cpu_s": round(rows / cpu),
            "rss_mb_every_100k_rows": rss, "peak_rss_mb": _peak_rss_mb()}


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_rss_mb() -> float:
    """This process's RSS high-water mark (VmHWM: unlike ru_maxrss it is not inherited across fork + exec)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def measure_export(url: str) -> dict[str, Any]:
    """The export in a child process, so its peak RSS is the export's own (not the build's)."""
    done = subprocess.run([sys.executable, __file__, "--export-only", url], capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"  export: {result['rows']:,} rows in {result['seconds']} s = {result['rows_per_s']:,} rows/s, "
          f"peak RSS {result['peak_rss_mb']} MB, RSS every 100k rows {result['rss_mb_every_100k_rows']}")
    return result


async def _admin_sql(pg_url: str, statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(_dsn(pg_url))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def _pg_exists(pg_url: str, name: str) -> bool:
    import asyncpg

    conn = await asyncpg.connect(_dsn(pg_url))
    try:
        return bool(await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--pg-url", default=None, help="also measure on this PostgreSQL (postgresql+asyncpg://...)")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--keep-dir", type=Path, default=None, help="keep (and reuse) the SQLite database here")
    parser.add_argument("--pg-db", default=None, help="PostgreSQL database name to build or reuse; not dropped")
    parser.add_argument("--baseline", type=Path, default=None, help="another run's JSON to embed as 'baseline'")
    parser.add_argument("--no-export", action="store_true", help="time the pages only (while iterating)")
    parser.add_argument("--export-only", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export_only:
        print(json.dumps(asyncio.run(_export(args.export_only))))
        return
    results: dict[str, Any] = {
        "rows": args.rows, "python": platform.python_version(), "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "targets": {"p95_ms": TARGET_P95_MS, "export_rows_per_s": TARGET_EXPORT_ROWS_S},
        "cpus": os.cpu_count(),  # the load average next to each run says how much of them the bench had
    }
    data: dict[str, list[tuple[Any, ...]]] | None = None

    def dataset() -> dict[str, list[tuple[Any, ...]]]:
        nonlocal data
        if data is None:
            t0 = time.perf_counter()
            data = synthetic(args.rows)
            results["generate_s"] = round(time.perf_counter() - t0, 1)
            results["dataset"] = {k: len(v) for k, v in data.items()}
            print(f"generated {args.rows:,} calls in {results['generate_s']} s: {results['dataset']}")
        return data

    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            path = (args.keep_dir or Path(tmp)) / "bench.db"
            url = f"sqlite+aiosqlite:///{path}"
            reused = path.exists()
            build: float | None = None
            if reused:
                t0 = time.perf_counter()
                migrate.upgrade(url)  # a set built before a migration: this times the migration at a million calls
                migrated = round(time.perf_counter() - t0, 1)
                with sqlite3.connect(path) as db:
                    db.execute("ANALYZE")
                print(f"sqlite: reused {path} (migrated to head in {migrated} s)")
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                migrate.upgrade(url)
                rows = dataset()
                t0 = time.perf_counter()
                build_sqlite(path, rows)
                build = round(time.perf_counter() - t0, 1)
                print(f"sqlite: built in {build} s")
            load = os.getloadavg()[0]
            queries = asyncio.run(measure_queries(url, args.repeat, args.rows))
            results["sqlite"] = {"build_s": build, "reused": reused, "first_pages": queries,
                                 "export": None if args.no_export else measure_export(url),
                                 "load_average_1min": [round(load, 1), round(os.getloadavg()[0], 1)]}
            if reused:
                results["sqlite"]["migrate_to_head_s"] = migrated

    if args.pg_url:
        from sqlalchemy.engine import make_url

        name = args.pg_db or f"cobra_bench_qa_{uuid.uuid4().hex[:8]}"
        reused = bool(args.pg_db) and asyncio.run(_pg_exists(args.pg_url, name))
        if not reused:
            asyncio.run(_admin_sql(args.pg_url, f'CREATE DATABASE "{name}"'))
        try:
            url = make_url(args.pg_url).set(database=name).render_as_string(hide_password=False)
            build = None
            if reused:
                t0 = time.perf_counter()
                migrate.upgrade(url)
                migrated = round(time.perf_counter() - t0, 1)
                asyncio.run(_admin_sql(url, "VACUUM ANALYZE"))
                print(f"postgresql: reused {name} (migrated to head in {migrated} s)")
            else:
                migrate.upgrade(url)
                rows = dataset()
                t0 = time.perf_counter()
                asyncio.run(build_pg(url, rows))
                build = round(time.perf_counter() - t0, 1)
                print(f"postgresql: built in {build} s")
            load = os.getloadavg()[0]
            queries = asyncio.run(measure_queries(url, args.repeat, args.rows))
            results["postgresql"] = {"build_s": build, "reused": reused, "first_pages": queries,
                                     "export": None if args.no_export else measure_export(url),
                                     "load_average_1min": [round(load, 1), round(os.getloadavg()[0], 1)]}
            if reused:
                results["postgresql"]["migrate_to_head_s"] = migrated
        finally:
            if not args.pg_db:
                asyncio.run(_admin_sql(args.pg_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    if args.baseline is not None:
        results["baseline"] = json.loads(args.baseline.read_text(encoding="utf-8"))

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"written {args.output}")


if __name__ == "__main__":

    main()
