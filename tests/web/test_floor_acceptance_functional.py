"""The floor-model issue's acceptance, as an operator runs it: a running service on the simulator, `cobra bots`
working its agents, and `cobra campaign pause` / `start` from another terminal, with no restart."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from pathlib import Path

import pytest

from tests.web.conftest import FAST_HASHER
from web.demo.seed import CAMPAIGN_NAME, DEMO_PASSWORD
from web.demo.service import CLI_CONFIG, DemoOptions, running_demo

ROOT = Path(__file__).resolve().parents[2]
GUARD_S = 60.0  # a guard against a hung run, not a measurement

pytestmark = pytest.mark.slow


def _attempts(db: Path) -> int:
    """Calls the running service has placed (an attempt is stored just before its originate)."""
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM call_attempts WHERE originated_at IS NOT NULL").fetchone()[0])


async def _cobra(*args: str, env: dict[str, str]) -> str:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "web.cli.main", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        cwd=ROOT, env={**os.environ, **env},
    )
    async with asyncio.timeout(GUARD_S):
        out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return out.decode()


async def _until(check, what: str, guard: float = GUARD_S) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + guard
    while not check():
        assert asyncio.get_running_loop().time() < deadline, f"never happened: {what}"
        await asyncio.sleep(0.05)


async def test_cli_pause_stops_new_calls_within_a_second_and_start_resumes_them(tmp_path: Path) -> None:
    options = DemoOptions(directory=tmp_path, port=0, customers=400, time_scale=0.1, hasher=FAST_HASHER)
    db = tmp_path / "cobra.db"
    env = {"COBRA_CONFIG": str(tmp_path / CLI_CONFIG)}
    async with running_demo(options) as demo:
        log = (tmp_path / "bots.log").open("wb")  # a file, not a pipe nobody reads (it would fill and block them)
        bots = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "web.cli.main", "bots", "--url", demo.url, "--login", "agente1", "--login",
            "agente2", "--login", "agente3", "--every", "1", "--speed", "50",
            stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log,
            cwd=ROOT, env={**os.environ, "COBRA_BOTS_PASSWORD": DEMO_PASSWORD},
        )
        try:
            await _until(lambda: _attempts(db) >= 3, "the bots taking calls")
            out = await _cobra("campaign", "pause", CAMPAIGN_NAME, env=env)
            assert "paused" in out
            await asyncio.sleep(1.0)  # the bound: no new originate later than 1 s after the pause
            placed = _attempts(db)
            await asyncio.sleep(3.0)
            assert _attempts(db) == placed, "a paused campaign placed new calls"

            out = await _cobra("campaign", "start", CAMPAIGN_NAME, env=env)
            assert "active" in out
            await _until(lambda: _attempts(db) > placed, "dialing resumed", guard=20.0)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- cobra bots said:\n{(tmp_path / 'bots.log').read_text()[-3000:]}") from None
        finally:
            bots.terminate()
            async with asyncio.timeout(GUARD_S):
                await bots.wait()
            log.close()
