"""The régua's start-up run never keeps people out: short write transactions, logins answered meanwhile.

``cobra demo`` (régua on) starts with a catch-up run over the whole portfolio. It used to keep
SQLite's one write lock for a page of 500 customers at a time (seconds), so a login in the
demo's first seconds waited past the busy timeout and got HTTP 503. Real SQLite file built by
the migrations and seeded as the demo seeds it; real aiohttp server; real HTTP clients.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import event

from dialer.clocks import BRASILIA, business_clock
from dialer.regua.services import STEPS_PER_TRANSACTION, ReguaSettings, run_day
from storage.engine import create_engine, session_factory
from tests.web.conftest import FAST_HASHER
from web.demo.seed import DEMO_PASSWORD
from web.demo.service import DemoOptions, prepare_database, running_demo
from web.regua.state import REGUA

CUSTOMERS = 1200  # the demo's portfolio
GUARD_S = 180.0
_CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


async def test_a_run_writes_in_short_transactions(tmp_path: Path) -> None:
    clock = business_clock()
    url, _ = await prepare_database(DemoOptions(directory=tmp_path, customers=CUSTOMERS, hasher=FAST_HASHER), clock)
    engine = create_engine(url)
    per_transaction: list[int] = []
    open_count: dict[int, int] = {}

    # count the decisions each write transaction stores, on the real connection
    def on_execute(conn: Any, cursor: Any, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO REGUA_DECISIONS"):
            open_count[id(conn)] = open_count.get(id(conn), 0) + 1

    def on_commit(conn: Any) -> None:
        per_transaction.append(open_count.pop(id(conn), 0))

    event.listen(engine.sync_engine, "before_cursor_execute", on_execute)
    event.listen(engine.sync_engine, "commit", on_commit)
    try:
        now = clock()
        report = await run_day(session_factory(engine), now.astimezone(BRASILIA).date(), ReguaSettings(), now=now)
    finally:
        await engine.dispose()
    assert report.decided > 3 * STEPS_PER_TRANSACTION, report.as_dict()  # enough work to need several transactions
    assert sum(per_transaction) == report.decided
    assert max(per_transaction) <= STEPS_PER_TRANSACTION, sorted(per_transaction)[-5:]


async def _log_in(base: str) -> int:
    async with aiohttp.ClientSession(base_url=base, cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get("/login") as page:
            assert page.status == 200
            token = _CSRF.search(await page.text())
        assert token is not None
        form = {"login": "supervisor", "password": DEMO_PASSWORD, "csrf_token": token.group(1)}
        async with http.post("/login", data=form, allow_redirects=False) as resp:
            if resp.status != 303:
                return resp.status
        async with http.get("/supervisor") as page:  # and a page behind it
            return 303 if page.status == 200 else page.status


async def test_logins_during_the_demos_start_up_regua_run_are_answered(tmp_path: Path) -> None:
    options = DemoOptions(directory=tmp_path, port=0, customers=CUSTOMERS, regua=True, hasher=FAST_HASHER)
    async with running_demo(options) as demo:
        daily = demo.app[REGUA].daily
        assert daily is not None
        statuses: Counter[int] = Counter()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + GUARD_S
        while daily.last is None:
            assert loop.time() < deadline, "the start-up run never finished"
            statuses[await _log_in(demo.url)] += 1
        assert daily.last.decided > 0
    assert statuses and set(statuses) == {303}, statuses
