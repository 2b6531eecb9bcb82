"""P1 (SPEC §10): screen-pop latency with 200 agents connected and ~50 connects per second.

One process, one event loop: the PBX simulator (a real AMI server on loopback), the web
application with the dialer (real ``AmiGateway`` over TCP, ``DialerRuntime``, SQLite built
by the migrations), and N agent websocket clients (the ``websockets`` package) that log in
over HTTP, go ready, and dispose each call after a short wrap-up.

Latency = time the agent's client reads the ``screen_pop`` frame − time the gateway read
the call's ``OriginateResponse`` from the AMI socket (``Received.at``). Both are
``time.monotonic()`` in this process (the loop clock), so there is no clock skew.

The connect rate comes from the agents' cycle: every customer answers after ~``--ring``
seconds and hangs up ~``--talk`` seconds after joining the agent; the agent disposes
``--wrap`` seconds after the end. 200 agents on a 4 s cycle give ~50 connects/s.

    .venv/bin/python bench/screen_pop.py             # writes bench/results/screen_pop.json
    .venv/bin/python bench/screen_pop.py --agents 20 --seconds 5 --output /tmp/x.json   # quick look
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiohttp import web
from argon2 import PasswordHasher

from dialer.ami import events as ami_events
from dialer.ami.gateway import AmiGateway, AmiSettings, GatewayItem, Received
from dialer.clocks import BRASILIA, Clock, business_clock
from dialer.runtime import DialerSettings
from dialer.simulator.server import SimulatorServer
from storage import migrate
from storage.engine import create_engine, session_factory
from storage.models import Role
from web.agent.dialer import attach_dialer
from web.agent.http import AGENT_DESK
from web.app import create_app
from web.auth.settings import Auth, AuthSettings
from web.config import Config, DatabaseConfig, WebConfig
from web.demo.client import DeskClient, log_in
from web.demo.client import Received as FrameRead
from web.demo.seed import (
    DEMO_PASSWORD,
    DemoUser,
    ensure_campaign,
    ensure_users,
    load_portfolio,
)

RESULTS = Path(__file__).resolve().parent / "results" / "screen_pop.json"
# The bench's logins verify cheap hashes: 200 production argon2 checks would take a minute
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
SIM_WINDOW_S = 3.0


class TimedGateway(AmiGateway):
    """The real gateway, noting when each successful ``OriginateResponse`` was read (the hook P1 needs)."""

    def __init__(self, settings: AmiSettings) -> None:
        super().__init__(settings)
        self.answered_at: dict[str, float] = {}

    async def events(self) -> AsyncIterator[GatewayItem]:
        async for item in super().events():
            if isinstance(item, Received) and isinstance(item.event, ami_events.OriginateResponse) and item.event.success:
                self.answered_at[item.event.action_id] = item.at
            yield item


@dataclass
class Stats:
    latencies_ms: list[float] = field(default_factory=list)
    missing: int = 0  # pops whose OriginateResponse time was not found (should stay 0)
    to_hub_ms: list[float] = field(default_factory=list)  # AMI read → frame numbered in the hub
    hub_to_client_ms: list[float] = field(default_factory=list)  # hub → frame read by the agent's client
    notified_at: dict[str, float] = field(default_factory=dict)
    pops_at: list[float] = field(default_factory=list)
    disposed: int = 0
    errors: list[str] = field(default_factory=list)


def _scenario(ring_s: float, talk_s: float) -> dict[str, Any]:
    dist = lambda mean: {"dist": "lognormal", "mean": mean, "sd": mean * 0.1}
    return {
        "name": "screen-pop-bench",
        "seed": 3,
        "outcomes": {"live": 1.0},
        "ring_to_answer_s": dist(ring_s),
        "ring_to_fail_s": dist(1.0),
        "no_answer_timeout_s": 20,
        "amd_detect_s": dist(1.0),
        "talk_s": dist(talk_s),
        "connect_window_s": SIM_WINDOW_S,
    }


async def _prepare_db(directory: Path, agents: int, leads: int, clock: Clock) -> str:
    """Users, campaign and portfolio, with the leads due by ``clock`` (the dialer's), not the wall clock."""
    url = f"sqlite+aiosqlite:///{directory / 'bench.db'}"
    await asyncio.to_thread(migrate.upgrade, url)
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as db:
            users = [
                DemoUser(f"bench{n}", Role.AGENT, f"Agente Bench {n}", str(7000 + n)) for n in range(1, agents + 1)
            ]
            await ensure_users(db, FAST_HASHER, users)
            campaign, _ = await ensure_campaign(db)
            now = clock()
            await load_portfolio(db, campaign, leads, today=now.astimezone(BRASILIA).date(), now=now)
            await db.commit()
    finally:
        await engine.dispose()
    return url


def _timed_client(url: str, cookie: str, stats: Stats, gateway: TimedGateway) -> DeskClient:
    client = DeskClient(url, cookie)

    def on_frame(got: FrameRead) -> None:
        frame = got.frame
        if frame.get("type") == "screen_pop":
            sent = gateway.answered_at.pop(frame["call_id"], None)
            if sent is None:
                stats.missing += 1
            else:
                stats.latencies_ms.append((got.at - sent) * 1000.0)
                stats.pops_at.append(got.at)
                hub_at = stats.notified_at.pop(frame["call_id"], None)
                if hub_at is not None:
                    stats.to_hub_ms.append((hub_at - sent) * 1000.0)
                    stats.hub_to_client_ms.append((got.at - hub_at) * 1000.0)

    client.on_frame = on_frame
    return client


async def _agent(client: DeskClient, ready_after_s: float, wrap_s: float, stop: asyncio.Event, stats: Stats) -> None:
    try:
        await asyncio.sleep(ready_after_s)
        await client.request({"type": "set_state", "state": "ready"}, timeout=30)
        seen = 0
        while not stop.is_set():
            try:
                ended = await client.wait_for(lambda f: f.get("type") == "call_ended", 600, seen, "call end")
            except Exception:
                if stop.is_set():
                    break
                raise
            seen = len(client.frames)
            await asyncio.sleep(wrap_s)
            if stop.is_set():
                break
            await client.send(
                {"type": "dispose", "call_id": ended["call_id"], "code": "RECUSA", "client_key": uuid.uuid4().hex}
            )
            stats.disposed += 1
    finally:
        await client.close()


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


async def run(args: argparse.Namespace) -> dict[str, Any]:
    logging.basicConfig(level=logging.ERROR)
    work = Path(tempfile.mkdtemp(prefix="cobra-bench-pop-"))
    try:
        # one clock for seeding and for the dialer: business hours (the hopper calls nobody at
        # night or on a Sunday), and leads due by that same clock whatever the wall clock says
        clock = business_clock()
        url_db = await _prepare_db(work, args.agents, args.leads, clock)
        sim = SimulatorServer(port=0, scenario=_scenario(args.ring, args.talk), time_scale=1.0)
        await sim.start()
        config = Config(database=DatabaseConfig(url=url_db), web=WebConfig(host="127.0.0.1", port=0))
        app = create_app(config, auth=Auth(settings=AuthSettings(client_free_failures=10_000), hasher=FAST_HASHER), clock=clock)
        gateways: list[TimedGateway] = []

        def factory(settings: AmiSettings) -> AmiGateway:
            gateways.append(TimedGateway(settings))
            return gateways[-1]

        ami = AmiSettings(host="127.0.0.1", port=sim.port, ping_interval_s=30.0, action_timeout_s=10.0)
        settings = DialerSettings(connect_window_s=0.8 * SIM_WINDOW_S, tick_s=0.1, recording=False)
        attach_dialer(app, ami, settings, gateway_factory=factory, clock=clock)
        runner = web.AppRunner(app, shutdown_timeout=2.0)
        stats = Stats()
        stop = asyncio.Event()
        try:
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            host, port = runner.addresses[0][:2]
            base = f"http://{host}:{port}"
            gateway = gateways[0]

            def on_hub_frame(user_id: int, frame: Any) -> None:
                if frame.type == "screen_pop":
                    stats.notified_at.setdefault(frame.body["call_id"], time.monotonic())

            app[AGENT_DESK].hub.on_frame = on_hub_frame
            # logins and sockets one after the other (a floor does not log 200 people in at the same instant)
            clients = []
            for n in range(1, args.agents + 1):
                client = _timed_client(base, await log_in(base, f"bench{n}", DEMO_PASSWORD), stats, gateway)
                await client.open(open_timeout=30)
                clients.append(client)
            # agents go ready over --ramp seconds, as a shift starts, not all in one tick
            step = args.ramp / max(1, len(clients))
            tasks = [
                asyncio.create_task(_agent(c, i * step, args.wrap, stop, stats)) for i, c in enumerate(clients)
            ]
            await asyncio.sleep(args.warmup)
            stats.latencies_ms.clear()
            stats.pops_at.clear()
            stats.to_hub_ms.clear()
            stats.hub_to_client_ms.clear()
            measure_from = time.monotonic()
            await asyncio.sleep(args.seconds)
            measured_s = time.monotonic() - measure_from
            stop.set()
            done, pending = await asyncio.wait(tasks, timeout=40)
            for task in pending:
                task.cancel()
            for task in done:
                if not task.cancelled() and task.exception() is not None:
                    stats.errors.append(repr(task.exception()))
            connected_agents = sum(1 for t in done if not t.cancelled() and t.exception() is None) + len(pending)
        finally:
            await runner.cleanup()
            await sim.stop()
        lat = stats.latencies_ms
        if not lat:
            raise SystemExit(f"no screen-pop measured; errors: {stats.errors[:3]}")
        return {
            "name": "screen_pop",
            "spec": "P1",
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "python": platform.python_version(),
            "machine": {"platform": platform.platform(), "processor": platform.processor(), "cpus": _cpus()},
            "setup": {
                "agents": args.agents,
                "agents_without_error": connected_agents,
                "leads": args.leads,
                "ring_s": args.ring,
                "talk_s": args.talk,
                "wrap_s": args.wrap,
                "ramp_s": args.ramp,
                "warmup_s": args.warmup,
                "measured_s": round(measured_s, 2),
                "database": "SQLite (WAL) file, built by the migrations",
                "process": "one process, one event loop: simulator + web + dialer + all agent clients",
            },
            "pops": len(lat),
            "connects_per_s": round(len(lat) / measured_s, 1),
            "latency_ms": {
                "p50": round(statistics.median(lat), 2),
                "p95": round(_pct(lat, 95), 2),
                "p99": round(_pct(lat, 99), 2),
                "max": round(max(lat), 2),
                "mean": round(statistics.fmean(lat), 2),
            },
            "breakdown_ms": {
                "ami_read_to_hub_p50": round(statistics.median(stats.to_hub_ms), 2) if stats.to_hub_ms else None,
                "ami_read_to_hub_p99": round(_pct(stats.to_hub_ms, 99), 2) if stats.to_hub_ms else None,
                "hub_to_client_p50": round(statistics.median(stats.hub_to_client_ms), 2) if stats.hub_to_client_ms else None,
                "hub_to_client_p99": round(_pct(stats.hub_to_client_ms, 99), 2) if stats.hub_to_client_ms else None,
            },
            "target_ms": {"p50": 5.0, "p99": 20.0},
            "meets_target": statistics.median(lat) <= 5.0 and _pct(lat, 99) <= 20.0,
            "pops_without_originate_time": stats.missing,
            "errors": stats.errors[:5],
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _cpus() -> int | None:
    return os.cpu_count()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=200, help="agents connected (default 200, at most 999: extensions 7001-7999)")
    parser.add_argument("--leads", type=int, default=4000, help="leads in the campaign (default 4000)")
    parser.add_argument("--ring", type=float, default=1.0, help="seconds a customer rings before answering")
    parser.add_argument("--talk", type=float, default=2.0, help="seconds a customer talks once connected")
    parser.add_argument("--wrap", type=float, default=1.0, help="seconds an agent takes to dispose")
    parser.add_argument("--ramp", type=float, default=10.0, help="seconds over which the agents go ready")
    parser.add_argument("--warmup", type=float, default=15.0, help="seconds before measuring (ramp, first calls)")
    parser.add_argument("--seconds", type=float, default=30.0, help="seconds measured")
    parser.add_argument("--output", type=Path, default=RESULTS, help=f"result file (default {RESULTS})")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    lat = result["latency_ms"]
    print(
        f"screen_pop (P1): {result['pops']} pops, {result['connects_per_s']} connects/s, "
        f"{result['setup']['agents']} agents: p50 {lat['p50']} ms, p95 {lat['p95']} ms, p99 {lat['p99']} ms "
        f"(max {lat['max']} ms); target p50 <= 5 ms, p99 <= 20 ms: {'met' if result['meets_target'] else 'NOT met'}"
    )
    b = result["breakdown_ms"]
    print(
        f"  AMI read → hub (dialer side): p50 {b['ami_read_to_hub_p50']} ms, p99 {b['ami_read_to_hub_p99']} ms; "
        f"hub → client read (websocket side): p50 {b['hub_to_client_p50']} ms, p99 {b['hub_to_client_p99']} ms"
    )
    if result["errors"] or result["pops_without_originate_time"]:
        print(f"  errors: {result['errors']}; pops without originate time: {result['pops_without_originate_time']}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"  written to {args.output}")


if __name__ == "__main__":
    main()
