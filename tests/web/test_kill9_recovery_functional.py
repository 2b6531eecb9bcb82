"""`kill -9` of a real running service mid-call, 20 times: nothing acknowledged is lost, nothing is left open,
the dialer resumes (issue: security and reliability, item 5).

The service is `cobra demo` (the service with the built-in PBX simulator and a clock inside business hours,
so it dials at any hour); a websocket agent works calls and disposes some; the process is killed with SIGKILL
while a call is on the agent's screen, then started again on the same database.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

from web.demo.client import DeskClient, log_in
from web.demo.seed import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = int(os.environ.get("COBRA_KILL9_ROUNDS", "20"))
GUARD_S = 30.0  # a guard against a hung step, not a measurement

pytestmark = [pytest.mark.slow, pytest.mark.timeout(480)]  # 20 starts of a real service


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _start(directory: Path, port: int) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "web.cli.main", "demo", "--dir", str(directory), "--port", str(port), "--speed", "10",
        "--log-level", "warning", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    seen: list[str] = []
    async with asyncio.timeout(60):
        while True:
            line = (await proc.stdout.readline()).decode()
            assert line, f"the service exited during start-up: {''.join(seen)[-2000:]}"
            seen.append(line)
            if "/login" in line:
                break
    asyncio.get_running_loop().create_task(proc.stdout.read())  # keep the pipe drained
    return proc


def _db_state(db: Path) -> tuple[list[str], int, set[str]]:
    """(open attempts, leads in progress, call ids with an outcome) straight from the SQLite file."""
    with sqlite3.connect(db) as conn:
        open_ids = [r[0] for r in conn.execute("SELECT id FROM call_attempts WHERE ended_at IS NULL AND result IS NULL")]
        busy = int(conn.execute("SELECT count(*) FROM leads WHERE state = 'in_progress'").fetchone()[0])
        outcomes = {r[0] for r in conn.execute("SELECT attempt_id FROM outcomes")}
    return open_ids, busy, outcomes


async def _dispose(client: DeskClient, call_id: str, n: int) -> None:
    await client.request({"type": "dispose", "call_id": call_id, "code": "RECUSA", "client_key": f"k9-{n}-{call_id[:8]}"})


async def test_kill_9_mid_call_twenty_times_loses_nothing_and_leaves_nothing_open(tmp_path: Path) -> None:
    db = tmp_path / "cobra.db"
    acknowledged: set[str] = set()
    pops = 0
    for n in range(ROUNDS):
        port = _free_port()
        proc = await _start(tmp_path, port)
        url = f"http://127.0.0.1:{port}"
        try:
            # the start-up has settled what the killed run left: nothing open, no lease held
            open_ids, busy, outcomes = _db_state(db)
            assert open_ids == [] and busy == 0, f"round {n}: left open after restart: {open_ids}, {busy} lead(s)"
            assert acknowledged <= outcomes, f"round {n}: acknowledged but not stored: {acknowledged - outcomes}"

            client = DeskClient(url, await log_in(url, "agente1", DEMO_PASSWORD))
            await client.open()
            try:
                state = await client.wait_for(lambda f: f["type"] == "agent_state", GUARD_S, what="agent state")
                if state["state"] == "wrap_up":  # the call the crash interrupted is back on the screen
                    left = await client.wait_for(lambda f: f["type"] == "screen_pop", GUARD_S, what="restored pop")
                    await _dispose(client, left["call_id"], n)
                    acknowledged.add(left["call_id"])
                start = len(client.frames)
                await client.request({"type": "set_state", "state": "ready"})
                pop: dict[str, Any] = await client.wait_for(
                    lambda f: f["type"] == "screen_pop", GUARD_S, start, "a call (the dialer resumed)"
                )
                pops += 1
                if n % 2 == 0:
                    # end this one ("Desligar") and dispose it (acknowledged), then die with the next one on screen
                    call_id = pop["call_id"]
                    await client.wait_for(
                        lambda f: f["type"] == "call_state" and f["call_id"] == call_id and f["phase"] == "connected",
                        GUARD_S, start, "connected",
                    )
                    await client.request({"type": "hangup", "call_id": call_id})
                    await client.wait_for(
                        lambda f: f["type"] == "call_ended" and f["call_id"] == call_id, GUARD_S, start, "call ended"
                    )
                    await _dispose(client, call_id, n)
                    acknowledged.add(call_id)
                    start = len(client.frames)
                    await client.wait_for(lambda f: f["type"] == "screen_pop", GUARD_S, start, "the next call")
                else:
                    # die while talking: the wrap-up comes back after the restart
                    call_id = pop["call_id"]
                    await client.wait_for(
                        lambda f: f["type"] == "call_state" and f["call_id"] == call_id and f["phase"] == "connected",
                        GUARD_S, start, "connected",
                    )
            finally:
                proc.send_signal(signal.SIGKILL)
                await client.close(timeout=2.0)
        finally:
            if proc.returncode is None:
                proc.kill()
            await proc.wait()
    # one last start settles the last kill
    proc = await _start(tmp_path, _free_port())
    try:
        open_ids, busy, outcomes = _db_state(db)
    finally:
        proc.send_signal(signal.SIGTERM)
        await proc.wait()
    assert open_ids == [] and busy == 0
    assert acknowledged <= outcomes and len(acknowledged) >= ROUNDS // 2
    assert pops == ROUNDS
