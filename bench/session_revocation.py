"""Session revocation: what the guard's sweep costs, and how soon a socket closes after another
process ends its session (issue 14 item 1: "within a second").

Builds a migrated database with ``--sessions`` users each with an open session, all under
watch by a :class:`~web.auth.revocation.SessionGuard` running its sweeper (0.5 s), with a
callback standing in for each socket. Then:

- times ``sweep()`` (one indexed read of every watched session) ``--sweeps`` times: p50/p99;
- ``--trials`` times, deletes one user's sessions from a second engine (as ``cobra user
  passwd`` does from another process) at a random moment and times the commit → close
  callback: p50/p99/max.

Usage: ``python bench/session_revocation.py [--sessions 500] [--trials 50] [--pg-url URL]``
Results: ``bench/results/session_revocation.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import delete, text

from storage import migrate
from storage.engine import create_engine, session_factory
from storage.models import Role, User, WebSession, utcnow
from web.auth.revocation import SessionGuard
from web.auth.sessions import CurrentLogin, create_session


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(url: str, sessions: int, sweeps: int, trials: int) -> dict[str, Any]:
    engine = create_engine(url)
    other = create_engine(url)  # "another process": its own engine and connections
    try:
        db = session_factory(engine)
        logins: list[CurrentLogin] = []
        async with db() as s:
            for table in ("web_sessions", "audit_log", "users"):
                await s.execute(text(f"DELETE FROM {table}"))
            now = utcnow()
            for i in range(sessions):
                user = User(login=f"agente{i}", password_hash="x", role=Role.AGENT, full_name=f"Agente {i}",
                            extension=str(10000 + i), endpoint=f"PJSIP/{10000 + i}")
                s.add(user)
                await s.flush()
                new = await create_session(s, user, now=now, ttl=timedelta(hours=8), ip=None, user_agent=None)
                logins.append(new.login)
            await s.commit()
        guard = SessionGuard(db, utcnow)
        closed: dict[int, float] = {}
        for login in logins:
            guard.watch(login, lambda reason, uid=login.user_id: closed.setdefault(uid, time.perf_counter()))
        sweep_ms = []
        for _ in range(sweeps):
            t0 = time.perf_counter()
            await guard.sweep()
            sweep_ms.append((time.perf_counter() - t0) * 1000)
        assert not closed
        guard.start()
        latency_ms = []
        victims = random.Random(7).sample(logins, min(trials, len(logins)))
        for login in victims:
            await asyncio.sleep(random.uniform(0.05, 0.6))
            async with session_factory(other)() as s:
                await s.execute(delete(WebSession).where(WebSession.user_id == login.user_id))
                await s.commit()
            committed = time.perf_counter()
            while login.user_id not in closed:
                await asyncio.sleep(0.001)
            latency_ms.append((closed[login.user_id] - committed) * 1000)
        await guard.stop()
        return {
            "database": url.split(":", 1)[0],
            "watched_sessions": sessions,
            "sweep_ms": {"p50": round(pct(sweep_ms, 0.5), 2), "p99": round(pct(sweep_ms, 0.99), 2)},
            "commit_to_close_ms": {
                "p50": round(pct(latency_ms, 0.5), 1),
                "p99": round(pct(latency_ms, 0.99), 1),
                "max": round(max(latency_ms), 1),
                "mean": round(statistics.fmean(latency_ms), 1),
                "trials": len(latency_ms),
            },
        }
    finally:
        await engine.dispose()
        await other.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=500)
    parser.add_argument("--sweeps", type=int, default=200)
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--pg-url", default=None, help="also run on this PostgreSQL (postgresql+asyncpg://...)")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/cobra.db"
        migrate.upgrade(url)
        results.append(asyncio.run(run(url, args.sessions, args.sweeps, args.trials)))
    if args.pg_url:
        migrate.upgrade(args.pg_url)
        results.append(asyncio.run(run(args.pg_url, args.sessions, args.sweeps, args.trials)))
    for r in results:
        print(json.dumps(r, ensure_ascii=False))
    out = ROOT / "bench" / "results" / "session_revocation.json"
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
