"""Requests during a held SQLite write lock: reads, websocket handshakes and a write (SPEC §11, issue 14 item 7).

Another connection (plain sqlite3, in a thread) holds the write lock (``BEGIN IMMEDIATE`` and
a pending update) for ``--lock-s`` seconds on the very file the real server serves from,
while N websocket handshakes to ``/ws/agente`` and N ``GET /api/v1/me`` run at once, and one
write (``POST /api/v1/campaigns/{id}/pause``) is sent. It prints the answers by status and the
latency of each kind (p50, p99, max).

``--baseline`` routes reads through the write factory (``BEGIN IMMEDIATE``), the behaviour
before read sessions existed, for comparison.

    .venv/bin/python bench/db_lock.py                 # writes bench/results/db_lock.json
    .venv/bin/python bench/db_lock.py --baseline --output /tmp/db_lock_baseline.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import re
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from aiohttp import web
from argon2 import PasswordHasher

from storage import migrate
from storage.engine import create_engine, session_factory
from storage.models import Campaign, CampaignMode, Role
from web.app import create_app
from web.auth.accounts import add_account, check_new_account
from web.auth.settings import Auth, AuthSettings
from web.config import Config, DatabaseConfig, WebConfig
from web.keys import DB, DB_READ

PASSWORD = "bench-senha-1"
HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
_CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


async def _seed(url: str) -> int:
    engine = create_engine(url)
    try:
        async with session_factory(engine).begin() as db:
            for login, role, ext in (("ana", Role.AGENT, "7001"), ("sofia", Role.SUPERVISOR, None)):
                account = check_new_account(login, role, login.title(), ext, f"PJSIP/{ext}" if ext else None)
                await add_account(db, HASHER, account, PASSWORD)
            c = Campaign(name="Bench", mode=CampaignMode.PROGRESSIVE, dial_template="PJSIP/{number}@t",
                         caller_id="0303", pbx_name="default")
            db.add(c)
            await db.flush()
            return c.id
    finally:
        await engine.dispose()


async def _login(base: str, login: str) -> aiohttp.ClientSession:
    http = aiohttp.ClientSession(base, cookie_jar=aiohttp.CookieJar(unsafe=True),
                                 connector=aiohttp.TCPConnector(limit=0))
    page = await http.get("/login")
    token = _CSRF.search(await page.text())
    assert token is not None
    resp = await http.post("/login", data={"login": login, "password": PASSWORD, "csrf_token": token.group(1)},
                           allow_redirects=False)
    assert resp.status == 303, resp.status
    return http


def _hold(path: str, seconds: float, taken: threading.Event) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("UPDATE campaigns SET name = name")
    taken.set()
    time.sleep(seconds)
    conn.execute("ROLLBACK")
    conn.close()


def _figures(samples: list[tuple[str, float]]) -> dict[str, Any]:
    times = sorted(t for _, t in samples)
    return {
        "statuses": dict(Counter(s for s, _ in samples)),
        "p50_ms": round(statistics.median(times) * 1000, 1),
        "p99_ms": round(times[int(len(times) * 0.99) - 1] * 1000, 1),
        "max_ms": round(times[-1] * 1000, 1),
    }


async def run(n: int, lock_s: float, busy_timeout_s: float, baseline: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cobra.db"
        url = f"sqlite+aiosqlite:///{path}"
        await asyncio.to_thread(migrate.upgrade, url)
        campaign_id = await _seed(url)
        config = Config(database=DatabaseConfig(url=url, busy_timeout_s=busy_timeout_s), web=WebConfig())
        app = create_app(config, auth=Auth(settings=AuthSettings(), hasher=HASHER))
        if baseline:
            app[DB_READ] = app[DB]
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        base = f"http://{host}:{port}"
        agent, sup = await _login(base, "ana"), await _login(base, "sofia")
        csrf = (await (await sup.get("/api/v1/me")).json())["csrf_token"]

        async def timed(kind: str, coro: Any) -> tuple[str, str, float]:
            t0 = time.perf_counter()
            try:
                status = str(await coro)
            except aiohttp.WSServerHandshakeError as exc:
                status = str(exc.status)
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:  # counted, not fatal
                status = type(exc).__name__
            return kind, status, time.perf_counter() - t0

        async def handshake() -> int:
            ws = await agent.ws_connect("/ws/agente", origin=base)
            await ws.close()
            return 101

        async def me() -> int:
            async with agent.get("/api/v1/me") as resp:
                await resp.read()
                return resp.status

        async def write() -> str:
            async with sup.post(f"/api/v1/campaigns/{campaign_id}/pause", headers={"X-CSRF-Token": csrf}) as resp:
                return f"{resp.status} Retry-After={resp.headers.get('Retry-After')}"

        taken = threading.Event()
        holder = threading.Thread(target=_hold, args=(str(path), lock_s, taken))
        holder.start()
        taken.wait()
        try:
            results = await asyncio.gather(
                *(timed("handshake", handshake()) for _ in range(n)),
                *(timed("read", me()) for _ in range(n)),
                timed("write", write()),
            )
        finally:
            holder.join()
            await agent.close()
            await sup.close()
            await runner.cleanup()
    by_kind: dict[str, list[tuple[str, float]]] = {}
    for kind, status, t in results:
        by_kind.setdefault(kind, []).append((status, t))
    return {kind: _figures(samples) for kind, samples in by_kind.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500, help="handshakes, and as many reads (default 500)")
    parser.add_argument("--lock-s", type=float, default=8.0, help="how long the lock is held (default 8)")
    parser.add_argument("--busy-timeout-s", type=float, default=5.0, help="[database] busy_timeout_s (default 5)")
    parser.add_argument("--baseline", action="store_true", help="reads through the write factory (before)")
    parser.add_argument("--output", default=str(Path(__file__).parent / "results" / "db_lock.json"))
    args = parser.parse_args()
    figures = asyncio.run(run(args.requests, args.lock_s, args.busy_timeout_s, args.baseline))
    report = {
        "bench": "db_lock",
        "requests": args.requests,
        "lock_s": args.lock_s,
        "busy_timeout_s": args.busy_timeout_s,
        "baseline": args.baseline,
        "figures": figures,
        "python": platform.python_version(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print(json.dumps(figures, indent=2))
    Path(args.output).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
