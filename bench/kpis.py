"""KPI queries over 100,000 call attempts: the time of what ``GET /api/v1/kpis`` runs (SPEC §8).

Builds a month (``--days``, default 30) of synthetic history with ``web.demo.history``:
``--attempts`` calls (default 100,000) over 3 campaigns and 20 agents, with their outcomes,
script runs (reasons for default), promises, agreements with installments, and each agent's
state changes (a shift a day). Then it times ``storage.repositories.kpis.kpi_sums`` (the five
grouped queries behind the API) and the whole report (``web.kpis.services.build_report``) for
the month by day, by agent and by campaign, and a single day by agent, each ``--rounds`` times,
on SQLite and, with ``--pg-url``, on PostgreSQL. Prints p50/max per query; writes
``bench/results/kpis.json``. No target in SPEC §10: the figure says whether the page stays
interactive (a report well under a second) without more indexes.

Usage: ``python bench/kpis.py [--attempts 100000] [--days 30] [--rounds 5] [--pg-url URL]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dialer.pacing.live import BRASILIA_OFFSET_S  # noqa: E402
from storage import migrate  # noqa: E402
from storage.engine import create_engine, session_factory  # noqa: E402
from storage.models import Campaign, CampaignMode, Customer, Role, User  # noqa: E402
from storage.repositories.kpis import Grouping, KpiQuery, day_range, kpi_sums  # noqa: E402
from web.demo.history import build_history, store_history  # noqa: E402
from web.kpis.services import RULES, KpiRequest, build_report, load_catalogue  # noqa: E402

DEFAULT_OUTPUT = ROOT / "bench" / "results" / "kpis.json"
FIRST_DAY = date(2026, 2, 1)


async def build(url: str, attempts: int, days: int) -> dict[str, Any]:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as db:
            campaigns = [Campaign(name=f"Bench {i}", mode=CampaignMode.PREDICTIVE, dial_template="Local/{number}@x",
                                  caller_id="551130000000", pbx_name="sim") for i in range(3)]
            agents = [User(login=f"bench{i:02d}", password_hash="x", role=Role.AGENT, full_name=f"Operador {i:02d}",
                           extension=f"7{i:03d}") for i in range(20)]
            customers = [Customer(external_id=f"b{i}", name=f"Cliente {i}", cpf=f"{i:011d}") for i in range(1, 501)]
            db.add_all([*campaigns, *agents, *customers])
            await db.flush()
            t0 = time.perf_counter()
            h = build_history(seed=2026, first_day=FIRST_DAY, days=days, attempts=attempts,
                              campaign_ids=[c.id for c in campaigns], agent_ids=[a.id for a in agents],
                              customer_ids=[c.id for c in customers])
            generated = time.perf_counter() - t0
            t0 = time.perf_counter()
            await store_history(db, h)
            await db.commit()
            stored = time.perf_counter() - t0
        return {"campaign_id": campaigns[0].id, "generate_s": round(generated, 1), "store_s": round(stored, 1),
                "rows": {"call_attempts": len(h.attempts), "outcomes": len(h.outcomes), "promises": len(h.promises),
                         "agreements": len(h.agreements), "agent_state_changes": len(h.state_changes)}}
    finally:
        await engine.dispose()


def _stats(samples: list[float]) -> dict[str, float]:
    return {"p50_ms": round(statistics.median(samples) * 1000, 1), "max_ms": round(max(samples) * 1000, 1)}


async def measure(url: str, days: int, rounds: int, campaign_id: int) -> dict[str, Any]:
    engine = create_engine(url)
    last = FIRST_DAY + timedelta(days=days - 1)
    now = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    cases = {
        "month_by_day": (FIRST_DAY, last, Grouping.DAY, None),
        "month_by_agent": (FIRST_DAY, last, Grouping.AGENT, None),
        "month_by_campaign": (FIRST_DAY, last, Grouping.CAMPAIGN, None),
        "month_one_campaign_by_day": (FIRST_DAY, last, Grouping.DAY, campaign_id),
        "one_day_by_agent": (last, last, Grouping.AGENT, None),
    }
    out: dict[str, Any] = {}
    try:
        sessions = session_factory(engine)
        async with sessions() as db:
            catalogue = await load_catalogue(db)
        for name, (first, end_day, by, campaign) in cases.items():
            start, end = day_range(first, end_day, BRASILIA_OFFSET_S)
            q = KpiQuery(start, end, by, campaign, BRASILIA_OFFSET_S)
            sums: list[float] = []
            cpu: list[float] = []
            reports: list[float] = []
            for _ in range(rounds):
                async with sessions() as db:
                    t0, c0 = time.perf_counter(), time.process_time()
                    await kpi_sums(db, q, RULES, now=now)
                    sums.append(time.perf_counter() - t0)
                    cpu.append(time.process_time() - c0)
                async with sessions() as db:
                    t0 = time.perf_counter()
                    report = await build_report(db, KpiRequest(first, end_day, by, campaign), now=now,
                                                catalogue=catalogue)
                    reports.append(time.perf_counter() - t0)
            # this process's CPU (all threads): on SQLite, the queries' own cost whatever else runs on the
            # machine; on PostgreSQL only the client's share (the server's work is in its own processes)
            out[name] = {"queries": _stats(sums), "queries_cpu_p50_ms": round(statistics.median(cpu) * 1000, 1),
                         "report": _stats(reports), "groups": len(report.rows), "attempts": report.total.attempts}
            print(f"  {name}: queries p50 {out[name]['queries']['p50_ms']} ms (CPU {out[name]['queries_cpu_p50_ms']} ms), report p50 "
                  f"{out[name]['report']['p50_ms']} ms ({len(report.rows)} groups)")
    finally:
        await engine.dispose()
    return out


async def _admin_sql(pg_url: str, sql: str) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    conn = await asyncpg.connect(make_url(pg_url).set(drivername="postgresql").render_as_string(hide_password=False))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _analyze(url: str) -> None:
    from sqlalchemy import text

    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("ANALYZE"))
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--attempts", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pg-url", default=None, help="also measure on this PostgreSQL (postgresql+asyncpg://...)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args()
    results: dict[str, Any] = {"attempts": args.attempts, "days": args.days, "rounds": args.rounds,
                               "python": platform.python_version(),
                               "date": datetime.now(UTC).isoformat(timespec="seconds")}
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        migrate.upgrade(url)
        built = asyncio.run(build(url, args.attempts, args.days))
        print(f"sqlite: built {built['rows']} in {built['store_s']} s")
        asyncio.run(_analyze(url))
        results["sqlite"] = {**built, **asyncio.run(measure(url, args.days, args.rounds, built["campaign_id"]))}
    if args.pg_url:
        from sqlalchemy.engine import make_url

        name = f"cobra_bench_{uuid.uuid4().hex[:8]}"
        asyncio.run(_admin_sql(args.pg_url, f'CREATE DATABASE "{name}"'))
        try:
            url = make_url(args.pg_url).set(database=name).render_as_string(hide_password=False)
            migrate.upgrade(url)
            built = asyncio.run(build(url, args.attempts, args.days))
            print(f"postgresql: built {built['rows']} in {built['store_s']} s")
            asyncio.run(_analyze(url))
            results["postgresql"] = {**built, **asyncio.run(measure(url, args.days, args.rounds, built["campaign_id"]))}
        finally:
            asyncio.run(_admin_sql(args.pg_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"written {args.output}")


if __name__ == "__main__":
    main()
