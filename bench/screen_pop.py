"""P1 (SPEC §10): screen-pop latency in the production process shape, 50 to 400 agents.

Three processes, as production runs them:

1. ``cobra pbx-sim`` — the PBX simulator (a real AMI server over TCP). With
   ``COBRA_PBX_SIM_ORIGINATE_LOG`` set it appends ``<call id> <time.monotonic()>`` to a file
   as it writes each successful ``OriginateResponse`` to its sockets;
2. ``cobra serve`` — the service (web + dialer), from a generated ``cobra.toml`` on a SQLite
   file built by the migrations, connected to the simulator over AMI (``simulator = false``),
   with ``COBRA_CLOCK=business`` so it dials at any hour;
3. the agent fleet — this script in ``fleet`` mode: N websocket clients (``web.demo.client``)
   on sessions the bench stored (as the login form would), go ready, and dispose each call ``--wrap`` seconds after
   it ends; each writes ``<call id> <time.monotonic()>`` when it reads a ``screen_pop`` frame.

Latency = the fleet's read time − the simulator's write time for the same call:
``time.monotonic()`` is one clock for every process of a machine, so there is no skew. The
service's event-loop lag (``cobra_event_loop_lag_seconds``) and RSS come from its ``/metrics``,
read before and after the measured window; the load average of the machine is reported with
the figures (the benches share it).

The connect rate comes from the agents' cycle: customers answer after ~``--ring`` s, talk
~``--talk`` s once joined and the agent disposes ``--wrap`` s after the end: 200 agents on a
~4 s cycle ask for ~50 connects/s; ``connects_per_s`` says what was actually reached.

    .venv/bin/python bench/screen_pop.py                       # 200 agents → bench/results/screen_pop.json
    .venv/bin/python bench/screen_pop.py --agents 50,100,200,400   # the curve
    .venv/bin/python bench/screen_pop.py --agents 200 --profile    # + py-spy flame graph of the service
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import logging
import os
import platform
import re
import shutil
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from argon2 import PasswordHasher
from sqlalchemy import select

from dialer.clocks import BRASILIA, business_clock
from storage import migrate
from storage.engine import create_engine, session_factory
from storage.models import Role, User
from web.auth.sessions import create_session
from web.demo.client import DeskClient, DeskError, log_in
from web.demo.seed import (
    DEMO_PASSWORD,
    DemoUser,
    ensure_campaign,
    ensure_users,
    load_portfolio,
)

RESULTS = Path(__file__).resolve().parent / "results" / "screen_pop.json"
SIM_WINDOW_S = 3.0
START_TIMEOUT_S = 60.0
LOGIN_BATCH = 10


# ---------------------------------------------------------------------------------- setup


class _OneHash(PasswordHasher):
    """The production hasher's parameters (so a login verifies and never re-hashes), hashing the
    one shared bench password once: 400 users seeded in a second, not minutes."""

    def __init__(self) -> None:
        super().__init__()
        self._hashed: dict[str | bytes, str] = {}

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        if password not in self._hashed:
            self._hashed[password] = super().hash(password)
        return self._hashed[password]


def _scenario(ring_s: float, talk_s: float) -> dict[str, Any]:
    def dist(mean: float) -> dict[str, Any]:
        return {"dist": "lognormal", "mean": mean, "sd": mean * 0.1}

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


async def _prepare_db(url: str, agents: int, leads: int) -> list[str]:
    """Users, campaign and portfolio, with the leads due by the business clock the service runs on;
    a web session per agent (the cookies' tokens, in order), as the login form would store it:
    the argon2 checks of 400 logins would take minutes on a loaded machine and are not P1."""
    await asyncio.to_thread(migrate.upgrade, url)
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as db:
            users = [DemoUser(f"bench{n}", Role.AGENT, f"Agente Bench {n}", str(7000 + n)) for n in range(1, agents + 1)]
            await ensure_users(db, _OneHash(), users)
            campaign, _ = await ensure_campaign(db)
            now = business_clock()()
            await load_portfolio(db, campaign, leads, today=now.astimezone(BRASILIA).date(), now=now)
            by_login = {u.login: u for u in (await db.execute(select(User).where(User.login.like("bench%")))).scalars()}
            tokens = []
            for n in range(1, agents + 1):
                new = await create_session(
                    db, by_login[f"bench{n}"], now=now, ttl=timedelta(hours=12), ip="127.0.0.1", user_agent="bench"
                )
                tokens.append(new.token)
            await db.commit()
    finally:
        await engine.dispose()
    return tokens


def _config(db_url: str, sim_port: int) -> str:
    return f"""# generated by bench/screen_pop.py
[database]
url = "{db_url}"

[web]
host = "127.0.0.1"
port = 0
client_free_failures = 100000

[[pbx]]
name = "sim"
host = "127.0.0.1"
port = {sim_port}
simulator = false
ping_interval_s = 30.0

[dialer]
connect_window_s = {0.8 * SIM_WINDOW_S}

[log]
level = "warning"
"""


def _cobra() -> str:
    beside = Path(sys.executable).parent / "cobra"
    found = str(beside) if beside.exists() else shutil.which("cobra")
    if found is None:
        raise SystemExit("no `cobra` command: install the project (pip install -e .) in this environment")
    return found


@dataclass
class Child:
    """A process of the bench, its stdout read line by line in a thread-free way (asyncio pipes)."""

    name: str
    proc: asyncio.subprocess.Process
    lines: list[str]
    reader: asyncio.Task[None]

    @classmethod
    async def start(cls, name: str, argv: list[str], env: dict[str, str], stderr: Path) -> Child:
        err = open(stderr, "wb")  # noqa: SIM115, ASYNC230  (the child holds it; ours is closed at once)
        proc = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.PIPE, stderr=err, stdin=asyncio.subprocess.DEVNULL, env=env
        )
        err.close()
        lines: list[str] = []

        async def read() -> None:
            assert proc.stdout is not None
            async for raw in proc.stdout:
                lines.append(raw.decode(errors="replace").rstrip())

        return cls(name, proc, lines, asyncio.create_task(read()))

    async def wait_line(self, pattern: str, timeout: float = START_TIMEOUT_S) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < deadline:
            for line in self.lines[seen:]:
                found = re.search(pattern, line)
                if found:
                    return found
            seen = len(self.lines)
            if self.proc.returncode is not None:
                break
            await asyncio.sleep(0.05)
        raise SystemExit(f"{self.name}: no line matching {pattern!r} (exit {self.proc.returncode}); output: {self.lines[-5:]}")

    async def stop(self, timeout: float = 30.0) -> None:
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), timeout)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.reader, 5)


# ---------------------------------------------------------------------------------- metrics


def _parse_metrics(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            with contextlib.suppress(ValueError):
                out[name] = float(value)
    return out


async def _scrape(http: aiohttp.ClientSession, base: str) -> dict[str, float]:
    async with http.get(f"{base}/metrics") as resp:
        return _parse_metrics(await resp.text())


def _lag_quantile(
    before: dict[str, float], after: dict[str, float], q: float, metric: str = "cobra_event_loop_lag_seconds"
) -> float | None:
    """``histogram_quantile`` of ``metric`` over the window (linear inside the bucket), in ms."""
    bounds = []
    for key, value in after.items():
        found = re.fullmatch(re.escape(metric) + r'_bucket\{le="([^"]+)"\}', key)
        if found:
            le = float(found.group(1))
            bounds.append((le, value - before.get(key, 0.0)))
    bounds.sort()
    if not bounds or bounds[-1][1] <= 0:
        return None
    total = bounds[-1][1]
    rank = q * total
    low, below = 0.0, 0.0
    for le, count in bounds:
        if count >= rank:
            if le == float("inf"):
                return low * 1000.0
            inside = count - below
            frac = (rank - below) / inside if inside > 0 else 1.0
            return (low + (le - low) * frac) * 1000.0
        low, below = le, count
    return None


def _cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _read_times(path: Path) -> dict[str, float]:
    out: dict[str, float] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            call_id, _, at = line.partition(" ")
            with contextlib.suppress(ValueError):
                out.setdefault(call_id, float(at))
    return out


def _read_cycles(path: Path, start: float, end: float) -> dict[str, Any]:
    """p50/p99 of the fleet's ``dispose_to_ready`` and ``ready_to_pop`` times read in the window, in ms."""
    found: dict[str, list[float]] = {"dispose_to_ready": [], "ready_to_pop": []}
    if path.exists():
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[0] in found:
                with contextlib.suppress(ValueError):
                    if start <= float(parts[1]) < end:
                        found[parts[0]].append(float(parts[2]) * 1000.0)
    out: dict[str, Any] = {}
    for name, values in found.items():
        out[name] = (
            {"n": len(values), "p50": round(_pct(values, 50), 1), "p99": round(_pct(values, 99), 1)} if values else None
        )
    return out


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


# ---------------------------------------------------------------------------------- one run


async def run_one(args: argparse.Namespace, agents: int, tree: Path | None = None) -> dict[str, Any]:
    """One measured run; ``tree``: run ``cobra serve`` from that source tree instead (the A/B baseline)."""
    work = Path(tempfile.mkdtemp(prefix="cobra-bench-pop-"))
    children: list[Child] = []
    try:
        db_url = f"sqlite+aiosqlite:///{work / 'bench.db'}"
        leads = max(args.leads, agents * 40)
        tokens = await _prepare_db(db_url, agents, leads)
        (work / "sessions.txt").write_text("\n".join(tokens) + "\n")
        (work / "scenario.json").write_text(json.dumps(_scenario(args.ring, args.talk)))
        env = {**os.environ, "COBRA_PBX_SIM_ORIGINATE_LOG": str(work / "originated.txt"), "PYTHONUNBUFFERED": "1"}
        env.pop("COBRA_CONFIG", None)
        cobra = _cobra()
        sim = await Child.start(
            "pbx-sim",
            [cobra, "pbx-sim", "--port", "0", "--scenario", str(work / "scenario.json"), "--log-level", "warning"],
            env,
            work / "pbx-sim.log",
        )
        children.append(sim)
        sim_port = int((await sim.wait_line(r"AMI on [\d.]+:(\d+)")).group(1))
        (work / "cobra.toml").write_text(_config(db_url, sim_port))
        serve = await Child.start(
            "serve",
            [cobra, "serve", "--config", str(work / "cobra.toml")],
            {**env, "COBRA_CLOCK": "business", **({"PYTHONPATH": str(tree)} if tree is not None else {})},
            work / "serve.log",
        )
        children.append(serve)
        base = (await serve.wait_line(r"web on (http://[\d.]+:\d+)")).group(1)
        fleet = await Child.start(
            "fleet",
            [
                sys.executable, str(Path(__file__).resolve()), "fleet", "--url", base, "--agents", str(agents),
                "--ramp", str(args.ramp), "--wrap", str(args.wrap), "--out", str(work / "pops.txt"),
                "--sessions", str(work / "sessions.txt"), "--cycles", str(work / "cycles.txt"),
            ],
            env,
            work / "fleet.log",
        )
        children.append(fleet)
        await fleet.wait_line(r"fleet: \d+ agents connected", timeout=START_TIMEOUT_S + agents * 0.5)
        async with aiohttp.ClientSession() as http:
            await asyncio.sleep(args.warmup)
            before = await _scrape(http, base)
            cpu_before = _cpu_seconds(serve.proc.pid)
            load_before = os.getloadavg()
            measure_from = time.monotonic()
            profiler = None
            if args.profile:
                # collapsed stacks of the samples holding the GIL (CPU spent in Python, not waits), which
                # flamegraph.pl and speedscope read
                stacks = RESULTS.parent / f"screen_pop_profile_{agents}.txt"
                profiler = await asyncio.create_subprocess_exec(
                    shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy"),
                    "record", "--pid", str(serve.proc.pid), "--duration", str(int(args.seconds)),
                    "--rate", "100", "--format", "raw", "--output", str(stacks), "--nonblocking", "--gil",
                    stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
                )
            await asyncio.sleep(args.seconds)
            measure_to = time.monotonic()
            after = await _scrape(http, base)
            cpu_after = _cpu_seconds(serve.proc.pid)
            load_after = os.getloadavg()
            if profiler is not None:
                await profiler.wait()
        await fleet.stop()
        await serve.stop()
        await sim.stop()
        sent = _read_times(work / "originated.txt")
        popped = _read_times(work / "pops.txt")
        lat = [
            (at - sent[call_id]) * 1000.0
            for call_id, at in popped.items()
            if measure_from <= at < measure_to and call_id in sent
        ]
        missing = sum(1 for call_id, at in popped.items() if measure_from <= at < measure_to and call_id not in sent)
        errors = [line for line in fleet.lines if line.startswith("fleet: error")][:5]
        fleet_lag = next((float(m.group(1)) for line in fleet.lines
                          if (m := re.search(r"fleet loop lag p99 ([\d.]+) ms", line))), None)
        serve_log = (work / "serve.log").read_text(errors="replace").splitlines()
        warnings = [line for line in serve_log if " WARNING " in line or " ERROR " in line]
        if not lat:
            raise SystemExit(f"{agents} agents: no screen-pop measured; fleet: {fleet.lines[-5:]}; serve: {serve_log[-5:]}")
        measured_s = measure_to - measure_from
        idle = _read_cycles(work / "cycles.txt", measure_from, measure_to)
        ceiling = agents / (args.ring + args.talk + args.wrap)
        lag_p99 = _lag_quantile(before, after, 0.99)
        lag_p50 = _lag_quantile(before, after, 0.50)
        # the service's own part: pop made (call routed) -> frame queued on the socket (coarse buckets)
        queued_p99 = _lag_quantile(before, after, 0.99, "cobra_screen_pop_latency_seconds")
        cpu = None if cpu_before is None or cpu_after is None else (cpu_after - cpu_before) / measured_s
        return {
            "agents": agents,
            "service_code": "this tree" if tree is None else f"baseline {tree}",
            "leads": leads,
            "measured_s": round(measured_s, 2),
            "pops": len(lat),
            "connects_per_s": round(len(lat) / measured_s, 1),
            # what the bots' cycle allows with a service that costs nothing: agents / (ring + talk + wrap)
            "ceiling_connects_per_s": round(ceiling, 1),
            "share_of_ceiling": round(len(lat) / measured_s / ceiling, 2),
            # an agent's idle time per call, as the agent sees it (ready includes the ring_s the customer takes)
            "agent_idle_ms": idle,
            "latency_ms": {
                "p50": round(statistics.median(lat), 2),
                "p95": round(_pct(lat, 95), 2),
                "p99": round(_pct(lat, 99), 2),
                "max": round(max(lat), 2),
                "mean": round(statistics.fmean(lat), 2),
            },
            "service": {
                "loop_lag_ms_p50": None if lag_p50 is None else round(lag_p50, 2),
                "loop_lag_ms_p99": None if lag_p99 is None else round(lag_p99, 2),
                "pop_routed_to_queued_ms_p99": None if queued_p99 is None else round(queued_p99, 2),
                "rss_mb": round(after.get("process_resident_memory_bytes", 0.0) / 2**20, 1),
                "cpu_share": None if cpu is None else round(cpu, 2),  # CPU seconds per second (1.0 = one core)
                "warnings_logged": len(warnings),
                "first_warnings": warnings[:3],
            },
            "fleet_loop_lag_ms_p99": fleet_lag,
            "load_average_1m": {"before": round(load_before[0], 2), "after": round(load_after[0], 2)},
            "meets_target": statistics.median(lat) <= 5.0 and _pct(lat, 99) <= 20.0,
            "pops_without_originate_time": missing,
            "fleet_errors": errors,
        }
    finally:
        for child in reversed(children):
            await child.stop()
        if args.keep:
            print(f"  work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    runs = []
    comparisons = []
    for agents in args.agents:
        for _ in range(args.repeat):
            base = None
            if args.baseline is not None:
                # baseline and this tree back to back, so both meet the same machine load
                base = await run_one(args, agents, args.baseline)
                _print_run(base)
                runs.append(base)
            one = await run_one(args, agents)
            _print_run(one)
            runs.append(one)
            if base is not None:
                comparisons.append(_compare(base, one))
                print(f"  baseline/this p99 ratio {comparisons[-1]['p99_ratio']}, "
                      f"loop lag p99 ratio {comparisons[-1]['loop_lag_p99_ratio']}", flush=True)
    return {
        "name": "screen_pop",
        "spec": "P1",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "setup": {
            "shape": "three processes: `cobra pbx-sim`, `cobra serve` (generated cobra.toml, SQLite WAL file "
            "built by the migrations), and the agent fleet (this script's `fleet` mode, websocket clients)",
            "latency": "fleet reads screen_pop (time.monotonic) − simulator wrote OriginateResponse (time.monotonic)",
            "ring_s": args.ring,
            "talk_s": args.talk,
            "wrap_s": args.wrap,
            "ramp_s": args.ramp,
            "warmup_s": args.warmup,
            "seconds": args.seconds,
        },
        "target": {"p50_ms": 5.0, "p99_ms": 20.0, "agents": 200, "connects_per_s": 45},
        "runs": runs,
        "baseline_vs_this": comparisons,
    }


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else round(a / b, 2)


def _compare(base: dict[str, Any], this: dict[str, Any]) -> dict[str, Any]:
    return {
        "agents": this["agents"],
        "p50_ratio": _ratio(base["latency_ms"]["p50"], this["latency_ms"]["p50"]),
        "p99_ratio": _ratio(base["latency_ms"]["p99"], this["latency_ms"]["p99"]),
        "loop_lag_p99_ratio": _ratio(base["service"]["loop_lag_ms_p99"], this["service"]["loop_lag_ms_p99"]),
        "cpu_ratio": _ratio(base["service"]["cpu_share"], this["service"]["cpu_share"]),
        "connects_per_s": {"baseline": base["connects_per_s"], "this": this["connects_per_s"]},
        "ready_to_pop_ms_p50": {
            "baseline": (base["agent_idle_ms"].get("ready_to_pop") or {}).get("p50"),
            "this": (this["agent_idle_ms"].get("ready_to_pop") or {}).get("p50"),
        },
        "dispose_to_ready_ms_p50": {
            "baseline": (base["agent_idle_ms"].get("dispose_to_ready") or {}).get("p50"),
            "this": (this["agent_idle_ms"].get("dispose_to_ready") or {}).get("p50"),
        },
    }


def _print_run(r: dict[str, Any]) -> None:
    lat, svc = r["latency_ms"], r["service"]
    print(
        f"screen_pop (P1) [{r['service_code']}] {r['agents']} agents: {r['pops']} pops, {r['connects_per_s']} connects/s "
        f"(ceiling {r['ceiling_connects_per_s']}/s = agents / (ring + talk + wrap)); "
        f"p50 {lat['p50']} ms, p95 {lat['p95']} ms, p99 {lat['p99']} ms, max {lat['max']} ms; "
        f"service loop lag p99 {svc['loop_lag_ms_p99']} ms (fleet's {r['fleet_loop_lag_ms_p99']} ms), RSS {svc['rss_mb']} MB, CPU {svc['cpu_share']}; "
        f"load {r['load_average_1m']['before']}→{r['load_average_1m']['after']}; "
        f"target p50 <= 5, p99 <= 20 ms: {'met' if r['meets_target'] else 'NOT met'}",
        flush=True,
    )
    idle = r["agent_idle_ms"]
    parts = [f"{name} p50 {v['p50']} / p99 {v['p99']} ms (n {v['n']})" for name, v in idle.items() if v]
    if parts:
        print(f"  agent idle per call: {'; '.join(parts)}", flush=True)
    if svc["warnings_logged"] or r["fleet_errors"] or r["pops_without_originate_time"]:
        print(f"  service warnings: {svc['warnings_logged']} {svc['first_warnings']}; fleet errors: {r['fleet_errors']}; "
              f"pops without originate time: {r['pops_without_originate_time']}", flush=True)


# ---------------------------------------------------------------------------------- fleet mode


async def _agent(
    client: DeskClient, ready_after_s: float, wrap_s: float, stop: asyncio.Event, errors: list[str], cycle: dict[str, float]
) -> None:
    try:
        await asyncio.sleep(ready_after_s)
        await client.request({"type": "set_state", "state": "ready"}, timeout=60)
        seen = 0
        while not stop.is_set():
            ended = await client.wait_for(lambda f: f.get("type") == "call_ended", 3600, seen, "call end")
            seen = len(client.frames)
            await asyncio.sleep(wrap_s)
            if stop.is_set():
                break
            cycle["disposed"] = time.monotonic()
            await client.send(
                {"type": "dispose", "call_id": ended["call_id"], "code": "RECUSA", "client_key": uuid.uuid4().hex}
            )
            # frames already handled are not kept: a long run would grow the fleet's memory
            del client.frames[:seen]
            seen = 0
    except (DeskError, OSError) as exc:
        if not stop.is_set():
            errors.append(f"error: {exc}")
            print(f"fleet: error: {exc}", flush=True)
    finally:
        await client.close()


async def fleet(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.ERROR)
    out = open(args.out, "a", encoding="ascii", buffering=1)  # noqa: SIM115, ASYNC230
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    cycles_out = open(args.cycles, "a", encoding="ascii", buffering=1) if args.cycles else None  # noqa: SIM115, ASYNC230

    def watcher(cycle: dict[str, float]) -> Callable[[Any], None]:
        """Per agent: the pop's read time, and the idle part of its cycle (disposed -> ready -> pop)."""

        def on_frame(got: Any) -> None:
            frame = got.frame
            kind = frame.get("type")
            if kind == "screen_pop" and frame.get("call_id"):
                out.write(f"{frame['call_id']} {got.at:.6f}\n")
                ready = cycle.pop("ready", None)
                if ready is not None and cycles_out is not None:
                    cycles_out.write(f"ready_to_pop {got.at:.6f} {got.at - ready:.6f}\n")
            elif kind == "agent_state" and frame.get("state") == "ready":
                cycle["ready"] = got.at
                disposed = cycle.pop("disposed", None)
                if disposed is not None and cycles_out is not None:
                    cycles_out.write(f"dispose_to_ready {got.at:.6f} {got.at - disposed:.6f}\n")

        return on_frame

    clients: list[DeskClient] = []
    cycles: list[dict[str, float]] = []
    started = time.monotonic()
    tokens = args.sessions.read_text().split() if args.sessions is not None else []
    # sockets a few at a time (a floor does not log 200 people in at the same instant)
    for first in range(1, args.agents + 1, LOGIN_BATCH):
        batch = range(first, min(args.agents, first + LOGIN_BATCH - 1) + 1)
        if tokens:
            cookies = [tokens[n - 1] for n in batch]
        else:
            cookies = await asyncio.gather(*(log_in(args.url, f"bench{n}", DEMO_PASSWORD) for n in batch))
        for cookie in cookies:
            client = DeskClient(args.url, cookie)
            cycles.append({})
            client.on_frame = watcher(cycles[-1])
            clients.append(client)
        await asyncio.gather(*(c.open(open_timeout=60) for c in clients[-len(cookies):]))
        if len(clients) % 50 == 0:
            print(f"fleet: {len(clients)} logged in ({time.monotonic() - started:.1f} s)", flush=True)
    print(f"fleet: {len(clients)} agents connected in {time.monotonic() - started:.1f} s", flush=True)
    gc.collect()
    gc.freeze()  # the fleet's own collections must not show as pop latency
    lags: list[float] = []
    sampler = asyncio.create_task(_sample_lag(lags, stop))
    errors: list[str] = []
    step = args.ramp / max(1, len(clients))
    tasks = [
        asyncio.create_task(_agent(c, i * step, args.wrap, stop, errors, cycles[i])) for i, c in enumerate(clients)
    ]
    await stop.wait()
    await asyncio.wait([*tasks, sampler], timeout=10)
    out.close()
    if cycles_out is not None:
        cycles_out.close()
    lag_p99 = _pct(lags, 99) * 1000 if lags else 0.0
    print(f"fleet: stopped ({len(errors)} error(s)); fleet loop lag p99 {lag_p99:.1f} ms", flush=True)


async def _sample_lag(lags: list[float], stop: asyncio.Event, interval_s: float = 0.05) -> None:
    """The fleet's own event-loop lag (a late fleet shows as pop latency that is not the service's)."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        asked = loop.time() + interval_s
        await asyncio.sleep(interval_s)
        lags.append(max(0.0, loop.time() - asked))


# ---------------------------------------------------------------------------------- CLI


def _agents(value: str) -> list[int]:
    counts = [int(v) for v in value.split(",") if v.strip()]
    if not counts or any(not 1 <= n <= 999 for n in counts):
        raise argparse.ArgumentTypeError("agent counts between 1 and 999 (extensions 7001-7999), comma-separated")
    return counts


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "fleet":
        parser = argparse.ArgumentParser(prog="screen_pop.py fleet", description="the bench's agent fleet (internal)")
        parser.add_argument("--url", required=True)
        parser.add_argument("--agents", type=int, required=True)
        parser.add_argument("--ramp", type=float, default=10.0)
        parser.add_argument("--wrap", type=float, default=1.0)
        parser.add_argument("--out", type=Path, required=True)
        parser.add_argument("--sessions", type=Path, default=None, help="session tokens, one per agent (else the login form)")
        parser.add_argument("--cycles", type=Path, default=None, help="where to write the agents' idle times")
        asyncio.run(fleet(parser.parse_args(sys.argv[2:])))
        return
    doc = __doc__ or ""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0], epilog=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=_agents, default=[200], help="agent counts, comma-separated: one run each (default 200)")
    parser.add_argument("--leads", type=int, default=4000, help="leads in the campaign (at least 40 per agent)")
    parser.add_argument("--ring", type=float, default=1.0, help="seconds a customer rings before answering")
    parser.add_argument("--talk", type=float, default=2.0, help="seconds a customer talks once connected")
    parser.add_argument("--wrap", type=float, default=1.0, help="seconds an agent takes to dispose")
    parser.add_argument("--ramp", type=float, default=10.0, help="seconds over which the agents go ready")
    parser.add_argument("--warmup", type=float, default=15.0, help="seconds after all agents connected before measuring")
    parser.add_argument("--seconds", type=float, default=30.0, help="seconds measured")
    parser.add_argument("--profile", action="store_true", help="record the service with py-spy while measuring "
                        "(collapsed stacks in bench/results/screen_pop_profile_N.txt)")
    parser.add_argument("--baseline", type=Path, default=None, help="a source tree (e.g. `git archive REV | tar -x "
                        "-C DIR`) whose `cobra serve` runs just before this tree's, for before/after ratios")
    parser.add_argument("--repeat", type=int, default=1, help="runs per agent count (default 1)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, database, timings)")
    parser.add_argument("--output", type=Path, default=RESULTS, help=f"result file (default {RESULTS})")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"  written to {args.output}")


if __name__ == "__main__":
    main()
