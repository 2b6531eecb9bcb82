"""P3: next-lead pick at a million leads, and re-prioritising 100k leads (SPEC §10).

Builds a campaign of ``--leads`` synthetic leads (default 1,000,000) with a realistic mix:
DDDs weighted like a national portfolio (São Paulo heavy; Acre, Amazonas, Mato Grosso,
Noronha-area numbers included), every aging bucket, balances from R$ 50 to R$ 20.000, tags,
5% holds/deceased, 2% DNC, a tenth of the customers with attempts in the last 7 days, four
segments. Rows go in with the driver's bulk paths (sqlite3 ``executemany``, asyncpg
``copy_records_to_table``); the build time is printed.

Then, on a Tuesday at 12:00 in São Paulo, it times ``Hopper.claim_next`` (the full pick:
callback step, SQL claim, facts, ``check_eligibility``, commit) ``--picks`` times and
prints p50/p99, and times a segment change over a 100,000-lead campaign
(``reprioritise_campaign``). Results: ``bench/results/lead_pick.json``.

Usage: ``python bench/lead_pick.py [--leads 1000000] [--picks 2000] [--pg-url URL] [--reuse DIR]``
(``--reuse`` keeps the built databases so the next run skips the build).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dialer.leads.hopper import Hopper, reprioritise_campaign  # noqa: E402
from dialer.leads.segments import SegmentFacts, SegmentFilter, SegmentSpec, lead_priority, parse_filter  # noqa: E402
from dialer.portfolio.cpf import make_cpf  # noqa: E402
from storage import migrate  # noqa: E402
from storage.checkpoint import WalCheckpointer  # noqa: E402
from storage.engine import create_engine, session_factory, sqlite_file  # noqa: E402
from storage.repositories.segments import StoredSegment, replace_segments  # noqa: E402

DEFAULT_OUTPUT = ROOT / "bench" / "results" / "lead_pick.json"
NOW = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)  # Tuesday 12:00 in São Paulo, no holiday
TODAY = date(2026, 3, 3)
DDD_WEIGHTS = {"11": 30, "21": 10, "31": 8, "41": 6, "51": 6, "61": 4, "71": 5, "81": 5, "85": 4, "27": 3,
               "62": 3, "65": 2, "67": 2, "68": 1, "69": 1, "92": 2, "97": 1, "82": 2, "91": 3, "98": 2}
UF_OF = {"11": "SP", "21": "RJ", "31": "MG", "41": "PR", "51": "RS", "61": "DF", "71": "BA", "81": "PE", "85": "CE",
         "27": "ES", "62": "GO", "65": "MT", "67": "MS", "68": "AC", "69": "RO", "92": "AM", "97": "AM", "82": "AL",
         "91": "PA", "98": "MA"}
# Ordered by filter precedence; the build ranks leads with the same rules the database applies
SEGMENTS = [
    StoredSegment(0, "Promessa quebrada", 90, SegmentFilter(promise_broken=True).to_json()),
    StoredSegment(1, "VIP", 80, SegmentFilter(tags_any=("vip",)).to_json()),
    StoredSegment(2, "31-90 alto saldo", 60, {"buckets": ["31-60", "61-90"], "balance_min": "1000.00"}),
    StoredSegment(3, "Recentes", 40, {"buckets": ["1-30"]}),
]
SPECS = [SegmentSpec(s.name, s.weight, parse_filter(s.filters)) for s in SEGMENTS]
CHANGED_SEGMENTS = [
    StoredSegment(0, "91-180", 95, {"buckets": ["91-180"]}),
    StoredSegment(1, "VIP SP", 70, {"tags_any": ["vip"], "ufs": ["SP"]}),
    StoredSegment(2, "Saldo médio", 50, {"balance_min": "300.00", "balance_max": "3000.00"}),
]


def synthetic(n: int, seed: int = 7) -> dict[str, list[tuple[Any, ...]]]:
    """Rows for customers, phones, debts, tags, holds, DNC and attempts (ids 1..n)."""
    rng = random.Random(seed)
    ddds = rng.choices(list(DDD_WEIGHTS), weights=list(DDD_WEIGHTS.values()), k=n)
    out: dict[str, list[tuple[Any, ...]]] = {k: [] for k in ("customers", "phones", "debts", "tags", "holds", "dnc", "attempts", "priority")}
    for i in range(1, n + 1):
        ddd = ddds[i - 1]
        days_late = int(rng.expovariate(1 / 150)) + 1
        due = TODAY - timedelta(days=min(days_late, 1700))
        balance = round(min(20000.0, rng.lognormvariate(6.3, 1.0)) + 50, 2)
        cpf = make_cpf(f"{100000000 + i:09d}")
        vip = rng.random() < 0.05
        facts = SegmentFacts(due, Decimal(f"{balance:.2f}"), frozenset({"vip"} if vip else ()), UF_OF[ddd])
        out["priority"].append((lead_priority(SPECS, facts, 0, TODAY),))
        out["customers"].append((i, f"B{i}", f"Cliente {i}", cpf, UF_OF[ddd], i % 61 == 0, False, balance, due))
        out["phones"].append((i, i, f"+55{ddd}9{i % 100000000:08d}", ddd))
        out["debts"].append((i, i, f"CT{i}", "Banco", balance, balance, due))
        if vip:
            out["tags"].append((i, "vip"))
        if i % 41 == 0:
            out["holds"].append((i, "lawyer", "advogado"))
        if i % 53 == 0:
            out["dnc"].append(("cpf", cpf))
        if rng.random() < 0.1:
            for k in range(rng.randint(1, 4)):
                at = NOW - timedelta(hours=rng.randint(1, 160), minutes=k)
                result = rng.choice(["no_answer", "busy", "machine", "no_answer", "failed"])
                out["attempts"].append((f"a{i}x{k}", i, f"+55{ddd}9{i % 100000000:08d}", at, result))
    return out


def next_at(i: int) -> datetime:
    return NOW - timedelta(minutes=(i * 7919) % (3 * 24 * 60))


def build_sqlite(path: Path, data: dict[str, list[tuple[Any, ...]]], campaigns: dict[int, int]) -> None:
    """Bulk insert with sqlite3 (UTC datetimes as SQLAlchemy stores them on SQLite)."""
    def ts(moment: datetime) -> str:
        return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")

    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    created = ts(NOW - timedelta(days=5))
    for cid, size in campaigns.items():
        db.execute(
            "INSERT INTO campaigns (id, name, mode, status, dial_template, caller_id, pbx_name, ring_timeout_s, "
            "max_dial_level, abandon_cap, created_at) VALUES (?, ?, 'predictive', 'active', 'Local/{number}@x', "
            "'551130000000', 'sim', 25, 3, 0.03, ?)", (cid, f"Bench {cid} ({size})", created))
    db.executemany(
        "INSERT INTO customers (id, external_id, name, cpf, uf, deceased, dispute_pending, balance_total, "
        "oldest_due_date, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ((*row[:7], f"{row[7]:.2f}", row[8].isoformat(), created, created) for row in data["customers"]))
    db.executemany("INSERT INTO phones (id, customer_id, e164, ddd, kind, status, created_at) "
                   "VALUES (?, ?, ?, ?, 'own', 'ok', ?)", ((*row, created) for row in data["phones"]))
    db.executemany(
        "INSERT INTO debts (id, customer_id, contract, creditor, original_amount, balance, due_date, status, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?, ?)",
        ((*row[:4], f"{row[4]:.2f}", f"{row[5]:.2f}", row[6].isoformat(), created, created) for row in data["debts"]))
    db.executemany("INSERT INTO customer_tags (customer_id, tag) VALUES (?, ?)", data["tags"])
    db.executemany("INSERT INTO customer_holds (customer_id, kind, reason, set_at) VALUES (?, ?, ?, ?)",
                   ((*row, created) for row in data["holds"]))
    db.executemany("INSERT INTO dnc_entries (kind, value, source, created_at) VALUES (?, ?, 'bench', ?)",
                   ((*row, created) for row in data["dnc"]))
    db.executemany(
        "INSERT INTO call_attempts (id, campaign_id, customer_id, mode, number, created_at, result, abandoned, "
        "short_call) VALUES (?, 1, ?, 'predictive', ?, ?, ?, 0, 0)",
        ((row[0], row[1], row[2], ts(row[3]), row[4]) for row in data["attempts"]))
    for cid, size in campaigns.items():
        db.executemany(
            "INSERT INTO leads (campaign_id, customer_id, priority, boost, state, next_attempt_at, attempts, "
            "created_at, updated_at) VALUES (?, ?, ?, 0, 'dialable', ?, 0, ?, ?)",
            ((cid, i, data["priority"][i - 1][0], ts(next_at(i)), created, created) for i in range(1, size + 1)))
    db.commit()
    db.execute("ANALYZE")
    db.close()


async def build_pg(url: str, data: dict[str, list[tuple[Any, ...]]], campaigns: dict[int, int]) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    created = NOW - timedelta(days=5)
    try:
        for cid, size in campaigns.items():
            await conn.execute(
                "INSERT INTO campaigns (id, name, mode, status, dial_template, caller_id, pbx_name, ring_timeout_s, "
                "max_dial_level, abandon_cap, created_at) VALUES ($1, $2, 'predictive', 'active', 'Local/{number}@x', "
                "'551130000000', 'sim', 25, 3, 0.03, $3)", cid, f"Bench {cid} ({size})", created)
        await conn.copy_records_to_table(
            "customers", columns=["id", "external_id", "name", "cpf", "uf", "deceased", "dispute_pending",
                                  "balance_total", "oldest_due_date", "created_at", "updated_at"],
            records=[(*r[:7], Decimal(f"{r[7]:.2f}"), r[8], created, created) for r in data["customers"]])
        await conn.copy_records_to_table(
            "phones", columns=["id", "customer_id", "e164", "ddd", "kind", "status", "created_at"],
            records=[(*r, "own", "ok", created) for r in data["phones"]])
        await conn.copy_records_to_table(
            "debts", columns=["id", "customer_id", "contract", "creditor", "original_amount", "balance", "due_date",
                              "status", "created_at", "updated_at"],
            records=[(*r[:4], Decimal(f"{r[4]:.2f}"), Decimal(f"{r[5]:.2f}"), r[6], "open", created, created)
                     for r in data["debts"]])
        await conn.copy_records_to_table("customer_tags", columns=["customer_id", "tag"], records=data["tags"])
        await conn.copy_records_to_table("customer_holds", columns=["customer_id", "kind", "reason", "set_at"],
                                         records=[(*r, created) for r in data["holds"]])
        await conn.copy_records_to_table("dnc_entries", columns=["kind", "value", "source", "created_at"],
                                         records=[(*r, "bench", created) for r in data["dnc"]])
        await conn.copy_records_to_table(
            "call_attempts", columns=["id", "campaign_id", "customer_id", "mode", "number", "created_at", "result",
                                      "abandoned", "short_call"],
            records=[(r[0], 1, r[1], "predictive", r[2], r[3], r[4], False, False) for r in data["attempts"]])
        for cid, size in campaigns.items():
            await conn.copy_records_to_table(
                "leads", columns=["campaign_id", "customer_id", "priority", "boost", "state", "next_attempt_at",
                                  "attempts", "created_at", "updated_at"],
                records=[(cid, i, data["priority"][i - 1][0], 0, "dialable", next_at(i), 0, created, created)
                         for i in range(1, size + 1)])
        for table in ("campaigns", "customers", "phones", "debts", "customer_holds", "dnc_entries", "leads"):
            await conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(url: str, picks: int, *, profile: Path | None = None) -> dict[str, Any]:
    engine = create_engine(url)
    sessions = session_factory(engine)
    # as in the service: a SQLite file gets the background WAL checkpointer (web.app)
    database_file = sqlite_file(engine)
    checkpointer = WalCheckpointer(database_file) if database_file is not None else None
    if checkpointer is not None:
        checkpointer.start()
    try:
        async with sessions() as db:  # priorities were computed at build time by the pure rules
            await replace_segments(db, 1, SEGMENTS)
            await db.commit()

        hopper = Hopper(sessions, claimer="bench")
        for _ in range(50):  # warm caches and compiled statements
            await hopper.claim_next(1, NOW)
        times, reasons, empty = [], {}, 0
        profiler = None
        if profile is not None:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        for _ in range(picks):
            t0 = time.perf_counter()
            lead = await hopper.claim_next(1, NOW)
            times.append((time.perf_counter() - t0) * 1000)
            if lead is None:
                empty += 1
            else:
                reasons[lead.reason.value] = reasons.get(lead.reason.value, 0) + 1
        if profiler is not None and profile is not None:
            profiler.disable()
            profiler.dump_stats(str(profile))

        async with sessions() as db:
            await replace_segments(db, 2, CHANGED_SEGMENTS)
            await db.commit()
        started = time.perf_counter()
        async with sessions() as db:
            changed = await reprioritise_campaign(db, 2, now=NOW)
            await db.commit()
        rank_100k = time.perf_counter() - started
        return {
            "picks": picks,
            "pick_ms_p50": round(statistics.median(times), 3),
            "pick_ms_p99": round(pct(times, 0.99), 3),
            "pick_ms_max": round(max(times), 3),
            "picks_without_lead": empty,
            "pick_reasons": reasons,
            "reprioritise_100k_s": round(rank_100k, 3),
            "reprioritise_100k_rows": changed,
        }
    finally:
        if checkpointer is not None:
            await checkpointer.stop()
        await engine.dispose()


def _sqlite_copy(source: Path, target: Path) -> None:
    """A consistent copy of a built SQLite bench database (its WAL checkpointed into the file first)."""
    db = sqlite3.connect(source)
    try:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
    shutil.copyfile(source, target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--picks", type=int, default=2000)
    parser.add_argument("--pg-url", default=None, help="also measure on this PostgreSQL (postgresql+asyncpg://...)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--no-sqlite", action="store_true", help="skip the SQLite measurement")
    parser.add_argument(
        "--reuse", type=Path, default=None, metavar="DIR",
        help="keep the built databases (a SQLite file in DIR, a PostgreSQL template database) and reuse them "
        "on the next run with the same --leads: each run measures a fresh copy, migrated to head",
    )
    parser.add_argument("--profile", type=Path, default=None, metavar="FILE",
                        help="cProfile the timed picks into FILE.<database> (pstats format)")
    parser.add_argument("--drop-cache", action="store_true", help="with --reuse: drop the kept databases and exit")
    args = parser.parse_args()
    campaigns = {1: args.leads, 2: min(100_000, args.leads)}
    results: dict[str, Any] = {"leads": args.leads, "python": platform.python_version(),
                               "date": datetime.now(UTC).isoformat(timespec="seconds"),
                               "targets": {"sqlite_p99_ms": 2, "postgresql_p99_ms": 5, "reprioritise_100k_s": 1}}
    cache_file = args.reuse / f"lead_pick_{args.leads}.db" if args.reuse else None
    pg_cache = f"cobra_bench_cache_{args.leads}"
    data: dict[str, list[tuple[Any, ...]]] | None = None

    def dataset() -> dict[str, list[tuple[Any, ...]]]:
        nonlocal data
        if data is None:
            t0 = time.perf_counter()
            data = synthetic(args.leads)
            results["generate_s"] = round(time.perf_counter() - t0, 1)
            print(f"generated {args.leads:,} customers in {results['generate_s']} s")
        return data

    if args.drop_cache:
        if cache_file is not None and cache_file.exists():
            cache_file.unlink()
        if args.pg_url:
            asyncio.run(_admin_sql(args.pg_url, f'DROP DATABASE IF EXISTS "{pg_cache}" WITH (FORCE)'))
        print("dropped the kept bench databases")
        return

    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "bench.db"
            url = f"sqlite+aiosqlite:///{path}"
            build: float | None = None
            if cache_file is not None and cache_file.exists():
                _sqlite_copy(cache_file, path)
                print(f"sqlite: reusing {cache_file}")
            else:
                migrate.upgrade(url)
                t0 = time.perf_counter()
                build_sqlite(path, dataset(), campaigns)
                build = round(time.perf_counter() - t0, 1)
                print(f"sqlite: built {sum(campaigns.values()):,} leads in {build} s")
                if cache_file is not None:
                    cache_file.parent.mkdir(parents=True, exist_ok=True)
                    _sqlite_copy(path, cache_file)
            migrate.upgrade(url)  # a kept database gets the newer migrations (indexes) too
            _analyze_sqlite(path)
            figures = asyncio.run(measure(url, args.picks, profile=_profile_path(args.profile, "sqlite")))
            results["sqlite"] = {"build_s": build, **figures}
            print("sqlite:", json.dumps(results["sqlite"]))

    if args.pg_url:
        import uuid

        from sqlalchemy.engine import make_url

        name = f"cobra_bench_{uuid.uuid4().hex[:8]}"
        build = None
        if args.reuse is not None:
            if not asyncio.run(_pg_database_exists(args.pg_url, pg_cache)):
                asyncio.run(_admin_sql(args.pg_url, f'CREATE DATABASE "{pg_cache}"'))
                try:
                    cache_url = make_url(args.pg_url).set(database=pg_cache).render_as_string(hide_password=False)
                    migrate.upgrade(cache_url)
                    t0 = time.perf_counter()
                    asyncio.run(build_pg(cache_url, dataset(), campaigns))
                    build = round(time.perf_counter() - t0, 1)
                    print(f"postgresql: built {sum(campaigns.values()):,} leads in {build} s (kept as {pg_cache})")
                except BaseException:
                    asyncio.run(_admin_sql(args.pg_url, f'DROP DATABASE IF EXISTS "{pg_cache}" WITH (FORCE)'))
                    raise
            else:
                print(f"postgresql: reusing {pg_cache}")
            asyncio.run(_admin_sql(args.pg_url, f'CREATE DATABASE "{name}" TEMPLATE "{pg_cache}"'))
        else:
            asyncio.run(_admin_sql(args.pg_url, f'CREATE DATABASE "{name}"'))
        try:
            url = make_url(args.pg_url).set(database=name).render_as_string(hide_password=False)
            migrate.upgrade(url)
            if args.reuse is None:
                t0 = time.perf_counter()
                asyncio.run(build_pg(url, dataset(), campaigns))
                build = round(time.perf_counter() - t0, 1)
                print(f"postgresql: built {sum(campaigns.values()):,} leads in {build} s")
            asyncio.run(_analyze_pg(url))
            figures = asyncio.run(measure(url, args.picks, profile=_profile_path(args.profile, "postgresql")))
            results["postgresql"] = {"build_s": build, **figures}
            print("postgresql:", json.dumps(results["postgresql"]))
        finally:
            asyncio.run(_admin_sql(args.pg_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"written {args.output}")


def _profile_path(base: Path | None, database: str) -> Path | None:
    return None if base is None else base.with_name(f"{base.name}.{database}")


def _admin_dsn(pg_url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(pg_url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin_sql(pg_url: str, statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(_admin_dsn(pg_url))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def _pg_database_exists(pg_url: str, name: str) -> bool:
    import asyncpg

    conn = await asyncpg.connect(_admin_dsn(pg_url))
    try:
        return bool(await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
    finally:
        await conn.close()


async def _analyze_pg(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(_admin_dsn(url))
    try:
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


def _analyze_sqlite(path: Path) -> None:
    db = sqlite3.connect(path)
    try:
        db.execute("ANALYZE")
    finally:
        db.close()


if __name__ == "__main__":
    main()
