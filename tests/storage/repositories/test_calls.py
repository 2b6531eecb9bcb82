"""Call records on both databases: keyset pages with every filter, the export's database-formatted columns."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from dialer.qa.records import Cursor, parse_filters
from dialer.qa.services import flag_call
from storage import migrate
from storage.engine import create_engine, session_factory
from storage.repositories.calls import CallQuery, list_calls, stream_calls
from tests.storage.conftest import BACKENDS, fresh_pg_database, in_thread
from tests.web.conftest import add_users
from tests.web.qa_data import Seeded, seed_calls
from web.qa.services import csv_row, query_of

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module", params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Seeded]]:
    """A database of its own (the shared one holds other tests' calls), seeded once per backend."""

    def build(url: str) -> Seeded:
        migrate.upgrade(url)

        async def seed() -> Seeded:
            await add_users(url)
            seeded = await seed_calls(url, NOW)
            engine = create_engine(url)
            try:
                async with session_factory(engine)() as db:
                    for call_id in seeded.calls:
                        await flag_call(db, call_id, short_call_s=30, at=NOW)
                    await db.commit()
            finally:
                await engine.dispose()
            return seeded

        return asyncio.run(seed())

    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{Path(tmp_path_factory.mktemp('calls')) / 'calls.db'}"
        yield url, in_thread(build, url)
    else:
        with fresh_pg_database() as url:
            yield url, in_thread(build, url)


async def _page(url: str, **params: str) -> tuple[list[str], bool]:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as db:
            rows, more = await list_calls(db, query_of(parse_filters(params)))
            return [r.id for r in rows], more
    finally:
        await engine.dispose()


async def test_pages_walk_newest_first_with_the_keyset(world: tuple[str, Seeded]) -> None:
    url, s = world
    ids, more = await _page(url, limit="5")
    assert ids == s.calls[:5] and more
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as db:
            rows, _ = await list_calls(db, CallQuery(limit=5))
            last = rows[-1]
            rest, more = await list_calls(db, CallQuery(limit=5, after=(last.created_at, last.id)))
            assert [r.id for r in rest] == s.calls[5:] and not more
            cursor = Cursor(last.created_at, last.id).encode()
            again, _ = await list_calls(db, query_of(parse_filters({"cursor": cursor})))
            assert [r.id for r in again] == s.calls[5:]
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({"outcome": "ACORDO"}, ["acordo"]),
        ({"min_amount": "1234.56", "max_amount": "1234.56"}, ["promessa"]),
        ({"min_amount": "1300"}, ["acordo"]),
        ({"min_talk": "12", "max_talk": "12"}, ["curta"]),
        ({"flagged": "true", "outcome": "RECUSA"}, ["curta"]),
        ({"reviewed": "false", "outcome": "CONTESTA", "agent": "ana"}, ["contesta"]),
    ],
)
async def test_filters_agree_on_both_databases(world: tuple[str, Seeded], params: dict[str, str], names: list[str]) -> None:
    url, s = world
    ids, _ = await _page(url, **params)
    assert ids == [s.by_name[n] for n in names]


async def test_the_export_formats_time_talk_and_amount_in_the_database(world: tuple[str, Seeded]) -> None:
    url, s = world
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as db:
            rows = [csv_row(r) async for r in stream_calls(db, query_of(parse_filters({})))]
    finally:
        await engine.dispose()
    assert len(rows) == len(s.calls)
    by_id = {line.split(";")[0]: line.rstrip("\r\n").split(";") for line in rows}
    promessa = by_id[s.by_name["promessa"]]
    assert promessa[1] == "02/03/2026 08:50:00" and promessa[8] == "200" and promessa[9] == "1234,56"
    acordo = by_id[s.by_name["acordo"]]
    assert acordo[9] == "2100,00" and acordo[10] == "sim" and acordo[2] == "ana" and acordo[3] == "Carteira A"
    unanswered = by_id[s.calls[3]]
    assert unanswered[8] == "" and unanswered[9] == "" and unanswered[12] == ""
    assert Decimal(acordo[9].replace(",", ".")) == Decimal("2100.00")
