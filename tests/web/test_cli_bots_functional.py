"""``cobra bots``: the real command, as a subprocess, against a real Cobra (the demo's service on the simulator)."""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import socket
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from dialer.agents.state import AgentState
from dialer.clocks import BRASILIA
from storage.engine import create_engine, session_factory
from storage.models import Outcome, User
from tests.web.conftest import FAST_HASHER, PASSWORD
from web.agent.http import AGENT_DESK
from web.cli.main import cli
from web.demo.bots import OUTCOME_MIX, ServerClock, disposition_for
from web.demo.seed import DEMO_PASSWORD
from web.demo.service import DemoOptions, running_demo

GUARD_S = 60.0  # a guard against a hung run, not a measurement
ROOT = Path(__file__).resolve().parents[2]
DISPOSED = re.compile(r"(\d+) disposed")


async def _start_bots(url: str, *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None
                      ) -> asyncio.subprocess.Process:
    environ = {k: v for k, v in os.environ.items() if k != "COBRA_BOTS_PASSWORD"}
    environ.update(env or {})
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "web.cli.main", "bots", "--url", url, *args,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        cwd=ROOT, env=environ,
    )
    assert proc.stdin is not None
    if stdin is not None:
        proc.stdin.write(stdin)
        await proc.stdin.drain()
    proc.stdin.close()
    return proc


async def _finish(proc: asyncio.subprocess.Process) -> tuple[int, str, str]:
    async with asyncio.timeout(GUARD_S):
        out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_bots_take_and_dispose_calls_then_log_out_on_sigint(tmp_path: Path) -> None:
    options = DemoOptions(directory=tmp_path, port=0, customers=1000, time_scale=0.1, tick_s=0.05, hasher=FAST_HASHER)
    async with running_demo(options) as demo:
        proc = await _start_bots(
            demo.url, "--login", "agente1", "--login", "agente2", "--password-stdin", "--every", "0.2",
            "--speed", "200", stdin=f"{DEMO_PASSWORD}\n".encode(),
        )
        assert proc.stdout is not None
        seen: list[str] = []
        try:
            async with asyncio.timeout(GUARD_S):
                while True:
                    line = (await proc.stdout.readline()).decode()
                    assert line, f"bots exited early: {seen}"
                    seen.append(line)
                    found = DISPOSED.search(line)
                    if found and int(found.group(1)) >= 4:
                        break
        except BaseException:
            proc.kill()
            raise
        proc.send_signal(signal.SIGINT)
        status, rest, err = await _finish(proc)
        output = "".join(seen) + rest
        assert status == 0, output + err
        runtime = demo.app[AGENT_DESK].runtime
        assert runtime is not None
        engine = create_engine(demo.config.database.url)
        try:
            async with session_factory(engine)() as db:
                users = dict((await db.execute(select(User.login, User.id).where(User.login.like("agente%")))).all())
                rows = (await db.execute(select(Outcome.code, User.login).join(User, User.id == Outcome.agent_id))).all()
        finally:
            await engine.dispose()
        # read before the demo stops: the dialer itself says the agents left
        states = {login: runtime.status(users[login]).state for login in ("agente1", "agente2")}
    assert "cobra bots: 2 of 2 bot(s) working" in output
    assert re.search(r"cobra bots: 2/2 logged in, \d ready; \d+ calls taken, \d+ disposed \(", output), output
    final = next(line for line in output.splitlines() if line.startswith("cobra bots: stopped:"))
    assert final.endswith("; 0 errors; 2/2 logged out"), output
    assert states == {"agente1": AgentState.OFFLINE, "agente2": AgentState.OFFLINE}
    assert len(rows) >= 4
    assert {login for _, login in rows} == {"agente1", "agente2"}
    assert {code.value for code, _ in rows} <= {code for code, _ in OUTCOME_MIX}
    assert int(DISPOSED.findall(final)[0]) == len(rows)


def test_no_password_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["bots", "--url", "http://127.0.0.1:9", "--login", "ana"], env={"COBRA_BOTS_PASSWORD": None})
    assert result.exit_code == 2
    assert "--password-stdin" in result.output and "COBRA_BOTS_PASSWORD" in result.output

    empty = CliRunner().invoke(cli, ["bots", "--url", "http://127.0.0.1:9", "--login", "ana", "--password-stdin"], input="")
    assert empty.exit_code == 2
    assert "no password on standard input" in empty.output


async def test_wrong_password_names_the_login_and_exits_1(served: str) -> None:
    status, out, err = await _finish(await _start_bots(served, "--login", "ana", env={"COBRA_BOTS_PASSWORD": PASSWORD + "x"}))
    assert status == 1, out + err
    assert "cobra bots: ana could not log in: login 'ana': HTTP" in out
    assert "wrong password" in out
    assert "no bot could log in" in out


async def test_unreachable_url_says_so_and_exits_1() -> None:
    with socket.socket() as s:  # a port nobody listens on once closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    status, out, err = await _finish(await _start_bots(url, "--login", "agente1", env={"COBRA_BOTS_PASSWORD": "x"}))
    assert status == 1, out + err
    assert f"agente1 could not log in: login 'agente1': cannot reach {url}" in out


def test_dates_follow_the_servers_clock_not_this_machines() -> None:
    # the demo's dialer runs days ahead of the wall clock (a Friday night demo runs on Monday)
    ahead = datetime.now(UTC) + timedelta(days=3, hours=2)
    clock = ServerClock()
    clock.note_frame({"type": "hello", "server_time": datetime.now(UTC).isoformat()})
    clock.note_frame({"type": "screen_pop", "created_at": ahead.isoformat()})
    server_today = ahead.astimezone(BRASILIA).date()
    rng = random.Random(1)
    for _ in range(50):
        promise = disposition_for("PROMESSA", "c1", rng, clock.now())
        assert server_today < datetime.fromisoformat(promise["promise_date"]).date() <= server_today + timedelta(days=10)
        callback = disposition_for("RETORNAR", "c1", rng, clock.now())
        assert datetime.fromisoformat(callback["callback_at"]) > ahead


def test_acordo_closes_an_offer_from_the_calculator_or_becomes_a_promise() -> None:
    quote = {"offers": [{"kind": "parcelado", "installments_count": 6, "discount_pct": "10.00"}]}
    closed = disposition_for("ACORDO", "c1", random.Random(1), datetime.now(UTC), quote)
    assert closed["code"] == "ACORDO"
    assert closed["agreement"] == {"kind": "parcelado", "installments": 6, "discount_pct": "10.00"}
    assert disposition_for("ACORDO", "c1", random.Random(1), datetime.now(UTC), None)["code"] == "PROMESSA"
