"""The served app checkpoints its SQLite file's WAL in the background, from start to cleanup."""

from __future__ import annotations

import asyncio

from aiohttp import web
from aiohttp.test_utils import TestClient

from storage.engine import sqlite_file
from web.keys import ENGINE, WAL_CHECKPOINTER


async def test_the_app_runs_one_checkpointer_on_its_database_file(
    client: TestClient[web.Request, web.Application],
) -> None:
    app = client.app
    checkpointer = app[WAL_CHECKPOINTER]
    assert checkpointer is not None
    assert checkpointer.path == sqlite_file(app[ENGINE])
    assert checkpointer.running
    resp = await client.get("/login")  # the app works beside it
    assert resp.status == 200
    for _ in range(200):  # the first checkpoint comes after one interval
        if checkpointer.checkpoints:
            break
        await asyncio.sleep(0.05)
    assert checkpointer.checkpoints >= 1
    assert checkpointer.last is not None and not checkpointer.last.busy

    await client.close()
    assert not checkpointer.running
