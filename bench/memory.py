"""P7 (SPEC §10): the service's memory with 500 connected agents and 1M leads, idle and while dialing.

Production shape, three processes (as ``bench/screen_pop.py``):

1. ``cobra pbx-sim`` — the PBX simulator (real AMI over TCP), every customer answers;
2. ``cobra serve`` — the service, from a generated ``cobra.toml``, on a SQLite file (or, with
   ``--pg-url``, a scratch PostgreSQL database) holding ``--leads`` leads in one campaign
   (built with the bulk path of ``bench/lead_pick.py``; ``--reuse DIR`` keeps the build),
   ``COBRA_CLOCK=business`` so it dials at any hour;
3. the agent fleet — this script's ``fleet`` mode: ``--agents`` websocket clients on stored
   sessions (as the login form would store them). They connect and stay logged in, not ready
   (idle); on SIGUSR1 they go ready over ``--ramp`` s and work calls: customers answer after
   ~``--ring`` s, talk ~``--talk`` s, the agent disposes ``--wrap`` s after the end.

The service's memory is read from ``/proc/<pid>/status`` (VmRSS, VmHWM) and
``/proc/<pid>/smaps_rollup`` (Pss; USS = Private_Clean + Private_Dirty; Anonymous) at three
points: after start, after the agents logged in and stayed idle ``--idle`` s, and every second
during ``--dial`` s of dialing (p50/max). The SQLite settings in effect (page cache per
connection, mmap) and the connections the service holds open on the database file are reported
with the figures, and the machine's load average (the benches share a 2-core machine).

    .venv/bin/python bench/memory.py --reuse /tmp/cobra-bench-cache     # → bench/results/memory.json
    .venv/bin/python bench/memory.py --agents 50 --leads 20000 --idle 5 --dial 10 --output /tmp/m.json
    .venv/bin/python bench/memory.py --reuse DIR --pg-url postgresql+asyncpg://postgres@127.0.0.1:5432/test

``--tracemalloc DIR`` runs the service with ``COBRA_TRACEMALLOC=DIR``: it traces allocations
and writes a snapshot at each phase (SIGUSR2), and the bench prints the top growth between
them (what to look at when the RSS is over target).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import logging
import os
import platform
import shutil
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import lead_pick
from screen_pop import Child, _cobra, _OneHash, _scenario
from sqlalchemy import select, update
from websockets.exceptions import WebSocketException

from dialer.clocks import business_clock
from storage import migrate
from storage.engine import create_engine, session_factory
from storage.models import Campaign, CampaignMode, CampaignStatus, Role, User
from storage.repositories.segments import replace_segments
from web.auth.sessions import create_session
from web.demo.client import DeskClient, DeskError
from web.demo.seed import CALLER_ID, DIAL_TEMPLATE, DemoUser, ensure_users

RESULTS = Path(__file__).resolve().parent / "results" / "memory.json"
TARGET_MB = 250.0
LOGIN_BATCH = 20
START_TIMEOUT_S = 120.0
MB = 2**20


# ---------------------------------------------------------------------------------- the database


def _build_sqlite(path: Path, leads: int, reuse: Path | None) -> float | None:
    """The 1M-lead file at ``path`` (copied from the cache in ``reuse`` when there); build seconds or None."""
    cached = reuse / f"memory_{leads}.db" if reuse is not None else None
    if cached is not None and cached.exists():
        shutil.copyfile(cached, path)
        print(f"sqlite: reusing {cached}", flush=True)
        return None
    url = f"sqlite+aiosqlite:///{path}"
    migrate.upgrade(url)
    started = time.perf_counter()
    lead_pick.build_sqlite(path, lead_pick.synthetic(leads), {1: leads})
    took = round(time.perf_counter() - started, 1)
    print(f"sqlite: built {leads:,} leads in {took} s", flush=True)
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path)
        try:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            db.close()
        shutil.copyfile(path, cached)
    return took


async def _build_pg(pg_url: str, leads: int, reuse: Path | None) -> tuple[str, str, float | None]:
    """A scratch database (name, URL) holding the leads, from a kept template with ``reuse``; build seconds."""
    from sqlalchemy.engine import make_url

    name = f"cobra_bench_mem_{uuid.uuid4().hex[:8]}"
    url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    template = f"cobra_bench_mem_cache_{leads}"
    took: float | None = None
    if reuse is not None and await lead_pick._pg_database_exists(pg_url, template):
        print(f"postgresql: reusing {template}", flush=True)
    else:
        target = template if reuse is not None else name
        target_url = make_url(pg_url).set(database=target).render_as_string(hide_password=False)
        await lead_pick._admin_sql(pg_url, f'CREATE DATABASE "{target}"')
        try:
            await asyncio.to_thread(migrate.upgrade, target_url)
            started = time.perf_counter()
            await lead_pick.build_pg(target_url, lead_pick.synthetic(leads), {1: leads})
            took = round(time.perf_counter() - started, 1)
        except BaseException:
            await lead_pick._admin_sql(pg_url, f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
            raise
        print(f"postgresql: built {leads:,} leads in {took} s", flush=True)
        if reuse is None:
            return name, url, took
    await lead_pick._admin_sql(pg_url, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return name, url, took


async def _prepare(url: str, agents: int) -> list[str]:
    """Migrated to head; the campaign dialable on the simulator; the agents and a session each (tokens)."""
    await asyncio.to_thread(migrate.upgrade, url)
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as db:
            await db.execute(
                update(Campaign).where(Campaign.id == 1).values(
                    mode=CampaignMode.PROGRESSIVE, status=CampaignStatus.ACTIVE, dial_template=DIAL_TEMPLATE,
                    caller_id=CALLER_ID, pbx_name="sim",
                )
            )
            # the priorities were computed at build time with these segments
            await replace_segments(db, 1, lead_pick.SEGMENTS)
            users = [DemoUser(f"bench{n}", Role.AGENT, f"Agente Bench {n}", str(7000 + n)) for n in range(1, agents + 1)]
            await ensure_users(db, _OneHash(), users)
            by_login = {u.login: u for u in (await db.execute(select(User).where(User.login.like("bench%")))).scalars()}
            now = business_clock()()
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
    return f"""# generated by bench/memory.py
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
connect_window_s = 2.4

[log]
level = "warning"
"""


# ---------------------------------------------------------------------------------- memory


def memory(pid: int) -> dict[str, float]:
    """The process's memory in MB: rss, hwm (peak RSS), and from smaps_rollup pss, uss, anon."""
    out: dict[str, float] = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out["rss" if key == "VmRSS" else "hwm"] = int(value.split()[0]) / 1024
    rollup: dict[str, int] = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
            key, _, value = line.partition(":")
            with contextlib.suppress(ValueError, IndexError):
                rollup[key] = int(value.split()[0])
    if rollup:
        out["pss"] = rollup.get("Pss", 0) / 1024
        out["uss"] = (rollup.get("Private_Clean", 0) + rollup.get("Private_Dirty", 0)) / 1024
        out["anon"] = rollup.get("Anonymous", 0) / 1024
    return {k: round(v, 1) for k, v in out.items()}


def database_handles(pid: int, path: Path | None) -> int | None:
    """Open descriptors of ``pid`` on the database file itself (one per SQLite connection)."""
    if path is None:
        return None
    count = 0
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                if os.readlink(fd) == str(path):
                    count += 1
    return count


def sqlite_settings(url: str) -> dict[str, Any]:
    """The page cache and mmap settings the service's SQLite connections run with."""
    from storage.repositories import hopper

    engine = create_engine(url)
    try:
        pool = engine.sync_engine.pool
        size = getattr(pool, "size", lambda: None)()
        overflow = getattr(pool, "_max_overflow", None)
    finally:
        asyncio.run(engine.dispose())
    return {
        # SQLite's default (negative = KiB): every connection of the engine's pool
        "cache_size_kib_default": 2000,
        # the connections the lead pick runs on raise theirs (storage.repositories.hopper)
        "cache_size_kib_pick_connections": getattr(hopper, "PICK_CACHE_KIB", None),
        "mmap_size": 0,
        "pool_size": size,
        "pool_max_overflow": overflow,
    }


def _summary(samples: list[dict[str, float]], key: str) -> dict[str, float | None]:
    values = [s[key] for s in samples if key in s]
    if not values:
        return {"p50": None, "max": None}
    return {"p50": round(statistics.median(values), 1), "max": round(max(values), 1)}


# ---------------------------------------------------------------------------------- one run


async def run_one(args: argparse.Namespace, database: str) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="cobra-bench-mem-"))
    children: list[Child] = []
    pg_name: str | None = None
    db_file: Path | None = None
    try:
        if database == "sqlite":
            db_file = work / "bench.db"
            build_s = await asyncio.to_thread(_build_sqlite, db_file, args.leads, args.reuse)
            db_url = f"sqlite+aiosqlite:///{db_file}"
        else:
            pg_name, db_url, build_s = await _build_pg(args.pg_url, args.leads, args.reuse)
        tokens = await _prepare(db_url, args.agents)
        settings = await asyncio.to_thread(sqlite_settings, db_url) if db_file is not None else None
        (work / "sessions.txt").write_text("\n".join(tokens) + "\n")
        (work / "scenario.json").write_text(json.dumps(_scenario(args.ring, args.talk)))
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("COBRA_CONFIG", None)
        cobra = _cobra()
        sim = await Child.start(
            "pbx-sim",
            [cobra, "pbx-sim", "--port", "0", "--scenario", str(work / "scenario.json"), "--log-level", "warning"],
            env, work / "pbx-sim.log",
        )
        children.append(sim)
        sim_port = int((await sim.wait_line(r"AMI on [\d.]+:(\d+)")).group(1))
        (work / "cobra.toml").write_text(_config(db_url, sim_port))
        serve_env = {**env, "COBRA_CLOCK": "business"}
        if args.tracemalloc is not None:
            args.tracemalloc.mkdir(parents=True, exist_ok=True)
            serve_env["COBRA_TRACEMALLOC"] = str(args.tracemalloc)
        serve = await Child.start(
            "serve", [cobra, "serve", "--config", str(work / "cobra.toml")], serve_env, work / "serve.log"
        )
        children.append(serve)
        base = (await serve.wait_line(r"web on (http://[\d.]+:\d+)")).group(1)
        pid = serve.proc.pid
        load: dict[str, list[float]] = {}

        async def snapshot(phase: str) -> None:
            load[phase] = [round(v, 2) for v in os.getloadavg()]
            if args.tracemalloc is not None:
                serve.proc.send_signal(signal.SIGUSR2)
                await serve_wait_file(args.tracemalloc, phase)

        await asyncio.sleep(args.settle)
        at_start = memory(pid)
        await snapshot("start")
        print(f"  {database}: after start {at_start}", flush=True)

        fleet = await Child.start(
            "fleet",
            [sys.executable, str(Path(__file__).resolve()), "fleet", "--url", base, "--agents", str(args.agents),
             "--ramp", str(args.ramp), "--wrap", str(args.wrap), "--out", str(work / "pops.txt"),
             "--sessions", str(work / "sessions.txt")],
            env, work / "fleet.log",
        )
        children.append(fleet)
        try:
            await fleet.wait_line(r"fleet: \d+ agents connected", timeout=START_TIMEOUT_S + args.agents * 0.5)
        except SystemExit:
            print((work / "fleet.log").read_text(errors="replace")[-2000:], flush=True)
            raise
        await asyncio.sleep(args.idle)
        at_idle = memory(pid)
        handles_idle = database_handles(pid, db_file)
        await snapshot("idle")
        print(f"  {database}: {args.agents} agents idle {args.idle:g} s {at_idle}", flush=True)

        fleet.proc.send_signal(signal.SIGUSR1)  # the agents go ready over --ramp s
        await asyncio.sleep(args.ramp + args.warmup)
        samples: list[dict[str, float]] = []
        dial_from = time.monotonic()
        load_before = os.getloadavg()
        while time.monotonic() - dial_from < args.dial:
            samples.append(memory(pid))
            await asyncio.sleep(1.0)
        dial_to = time.monotonic()
        handles_dialing = database_handles(pid, db_file)
        await snapshot("dialing")
        at_end = memory(pid)
        await fleet.stop()
        await serve.stop()
        await sim.stop()
        pops = _count_between(work / "pops.txt", dial_from, dial_to)
        serve_log = (work / "serve.log").read_text(errors="replace").splitlines()
        warnings = [line for line in serve_log if " WARNING " in line or " ERROR " in line]
        errors = [line for line in fleet.lines if line.startswith("fleet: error")]
        frame_sizes = next((json.loads(line.partition("frame sizes ")[2]) for line in fleet.lines
                            if line.startswith("fleet: frame sizes ")), None)
        dialing = {key: _summary(samples, key) for key in ("rss", "uss", "pss", "anon")}
        peak = max([at_start.get("rss", 0), at_idle.get("rss", 0), dialing["rss"]["max"] or 0])
        return {
            "database": database,
            "agents": args.agents,
            "leads": args.leads,
            "build_s": build_s,
            "memory_mb": {
                "after_start": at_start,
                "idle": at_idle,
                "dialing": dialing,
                "dialing_samples": len(samples),
                "after_dialing": at_end,
            },
            "peak_rss_mb": round(peak, 1),
            "meets_target": peak <= TARGET_MB,
            "dialing_rss_series_mb": [s.get("rss") for s in samples],
            # per frame type the agents received: [count, mean bytes, max bytes] (the outbox keeps the last
            # OUTBOX_CAPACITY of each agent's frames as text)
            "frame_sizes": frame_sizes,
            "dialing": {"seconds": round(dial_to - dial_from, 1), "screen_pops": pops,
                        "connects_per_s": round(pops / max(0.001, dial_to - dial_from), 1)},
            "sqlite": None if settings is None else {
                **settings, "open_connections_idle": handles_idle, "open_connections_dialing": handles_dialing,
            },
            "load_average": {"start": load.get("start"), "idle": load.get("idle"),
                             "dialing_before": [round(v, 2) for v in load_before], "dialing_after": load.get("dialing")},
            "service_warnings": len(warnings),
            "first_warnings": warnings[:3],
            "fleet_errors": errors[:5],
        }
    finally:
        for child in reversed(children):
            await child.stop()
        if pg_name is not None:
            await lead_pick._admin_sql(args.pg_url, f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
        if args.keep:
            print(f"  work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


async def serve_wait_file(directory: Path, phase: str, timeout: float = 60.0) -> None:
    """Wait for the service's next tracemalloc snapshot file and rename it after the phase."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready = sorted(p for p in directory.glob("tracemalloc-*.snap") if not p.name.startswith("tracemalloc-phase"))
        if ready:
            ready[0].rename(directory / f"tracemalloc-phase-{phase}.snap")
            return
        await asyncio.sleep(0.2)
    print(f"  no tracemalloc snapshot for {phase} within {timeout:g} s", flush=True)


def _count_between(path: Path, start: float, end: float) -> int:
    count = 0
    if path.exists():
        for line in path.read_text().splitlines():
            with contextlib.suppress(ValueError, IndexError):
                if start <= float(line.split()[1]) < end:
                    count += 1
    return count


def _tracemalloc_report(directory: Path, top: int = 15) -> list[str]:
    import tracemalloc

    lines: list[str] = []
    phases = ["start", "idle", "dialing"]
    snaps = {p: directory / f"tracemalloc-phase-{p}.snap" for p in phases}
    for older, newer in itertools.pairwise(phases):
        if not (snaps[older].exists() and snaps[newer].exists()):
            continue
        a = tracemalloc.Snapshot.load(str(snaps[older]))
        b = tracemalloc.Snapshot.load(str(snaps[newer]))
        total = sum(s.size for s in b.statistics("filename")) / MB
        lines.append(f"tracemalloc {older} → {newer} (traced at {newer}: {total:.1f} MB), top growth by line:")
        for stat in b.compare_to(a, "lineno")[:top]:
            lines.append(f"  {stat.size_diff / MB:+8.2f} MB {stat.count_diff:+8d} blocks  {stat.traceback}")
    return lines


# ---------------------------------------------------------------------------------- fleet mode


async def _work(client: DeskClient, ready_after_s: float, wrap_s: float, stop: asyncio.Event) -> None:
    try:
        await asyncio.sleep(ready_after_s)
        await client.request({"type": "set_state", "state": "ready"}, timeout=120)
        while not stop.is_set():
            ended = await client.wait_for(lambda f: f.get("type") == "call_ended", 3600, 0, "call end")
            # the frames read so far are handled: a long run must not grow the fleet's memory
            client.frames.clear()
            await asyncio.sleep(wrap_s)
            if stop.is_set():
                break
            await client.send(
                {"type": "dispose", "call_id": ended["call_id"], "code": "RECUSA", "client_key": uuid.uuid4().hex}
            )
    except (DeskError, OSError) as exc:
        if not stop.is_set():
            print(f"fleet: error: {exc}", flush=True)


async def _open(client: DeskClient, attempts: int = 5) -> None:
    """Connect, trying again a few times: a service slowed down (``--tracemalloc``, a loaded
    machine) may let an upgrade time out while hundreds of agents log in."""
    for attempt in range(1, attempts + 1):
        try:
            await client.open(open_timeout=60)
            return
        except (OSError, TimeoutError, DeskError, WebSocketException) as exc:
            if attempt == attempts:
                raise
            print(f"fleet: connect failed ({exc!r}), trying again", flush=True)
            await asyncio.sleep(attempt)


async def fleet(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.ERROR)
    out = open(args.out, "a", encoding="ascii", buffering=1)  # noqa: SIM115, ASYNC230
    stop, go = asyncio.Event(), asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGUSR1, go.set)

    sizes: dict[str, list[int]] = {}

    def on_frame(got: Any) -> None:
        kind = str(got.frame.get("type"))
        if kind == "screen_pop" and got.frame.get("call_id"):
            out.write(f"{got.frame['call_id']} {got.at:.6f}\n")
        # what the service's per-agent outbox keeps of each frame is about its encoded size
        sizes.setdefault(kind, []).append(len(json.dumps(got.frame, ensure_ascii=False, separators=(",", ":"))))

    tokens = args.sessions.read_text().split()[: args.agents]
    clients: list[DeskClient] = []
    started = time.monotonic()
    for first in range(0, len(tokens), LOGIN_BATCH):
        batch = [DeskClient(args.url, token) for token in tokens[first: first + LOGIN_BATCH]]
        for client in batch:
            client.on_frame = on_frame
        await asyncio.gather(*(_open(c) for c in batch))
        clients.extend(batch)
    print(f"fleet: {len(clients)} agents connected in {time.monotonic() - started:.1f} s", flush=True)
    # idle: logged in, not ready; nothing read is kept
    while not (go.is_set() or stop.is_set()):
        for client in clients:
            client.frames.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(go.wait(), 1.0)
    tasks = []
    if not stop.is_set():
        step = args.ramp / max(1, len(clients))
        tasks = [asyncio.create_task(_work(c, i * step, args.wrap, stop)) for i, c in enumerate(clients)]
    await stop.wait()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.gather(*(c.close(timeout=2) for c in clients), return_exceptions=True)
    out.close()
    stats = {kind: [len(v), round(statistics.fmean(v)), max(v)] for kind, v in sorted(sizes.items())}
    print(f"fleet: frame sizes {json.dumps(stats)}", flush=True)
    print("fleet: stopped", flush=True)


# ---------------------------------------------------------------------------------- CLI


def _print(r: dict[str, Any]) -> None:
    m = r["memory_mb"]
    d = m["dialing"]

    def row(name: str, values: dict[str, Any]) -> str:
        cells = "".join(f"{'-' if values.get(k) is None else values.get(k):>9}" for k in ("rss", "uss", "pss", "anon"))
        return f"  {name:<28}{cells}"

    print(f"memory (P7) on {r['database']}: {r['agents']} agents, {r['leads']:,} leads — MB")
    print(f"  {'phase':<28}{'RSS':>9}{'USS':>9}{'PSS':>9}{'anon':>9}")
    print(row("after start", m["after_start"]))
    print(row("idle (agents logged in)", m["idle"]))
    print(row("dialing p50", {k: d[k]["p50"] for k in d}))
    print(row("dialing max", {k: d[k]["max"] for k in d}))
    print(f"  dialing: {r['dialing']['connects_per_s']} connects/s over {r['dialing']['seconds']} s; "
          f"peak RSS {r['peak_rss_mb']} MB (VmHWM {m['after_dialing'].get('hwm')}); "
          f"target <= {TARGET_MB:g} MB: {'met' if r['meets_target'] else 'NOT met'}")
    if r["sqlite"]:
        s = r["sqlite"]
        print(f"  sqlite: cache_size {s['cache_size_kib_default']} KiB per connection, "
              f"{s['cache_size_kib_pick_connections']} KiB on pick connections, mmap_size {s['mmap_size']}; "
              f"connections open idle {s['open_connections_idle']}, dialing {s['open_connections_dialing']} "
              f"(pool {s['pool_size']} + overflow {s['pool_max_overflow']})")
    print(f"  load average: {r['load_average']}")
    if r["service_warnings"] or r["fleet_errors"]:
        print(f"  service warnings: {r['service_warnings']} {r['first_warnings']}; fleet errors: {r['fleet_errors']}")


async def run(args: argparse.Namespace) -> dict[str, Any]:
    runs = []
    for database in (["sqlite"] if not args.no_sqlite else []) + (["postgresql"] if args.pg_url else []):
        if args.tracemalloc is not None:
            for old in args.tracemalloc.glob("tracemalloc-*.snap"):
                old.unlink()
        one = await run_one(args, database)
        _print(one)
        if args.tracemalloc is not None:
            report = _tracemalloc_report(args.tracemalloc)
            print("\n".join(report))
            one["tracemalloc_top"] = report
        runs.append(one)
    return {
        "name": "memory",
        "spec": "P7",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "target": {"rss_mb": TARGET_MB, "agents": 500, "leads": 1_000_000},
        "setup": {
            "shape": "three processes: `cobra pbx-sim`, `cobra serve` (generated cobra.toml), and the agent "
            "fleet (this script's `fleet` mode, websocket clients on stored sessions)",
            "memory": "/proc/<pid>/status VmRSS/VmHWM; smaps_rollup Pss, USS = Private_Clean + Private_Dirty, Anonymous",
            "settle_s": args.settle, "idle_s": args.idle, "ramp_s": args.ramp, "warmup_s": args.warmup,
            "dial_s": args.dial, "ring_s": args.ring, "talk_s": args.talk, "wrap_s": args.wrap,
        },
        "runs": runs,
    }


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "fleet":
        parser = argparse.ArgumentParser(prog="memory.py fleet", description="the bench's agent fleet (internal)")
        parser.add_argument("--url", required=True)
        parser.add_argument("--agents", type=int, required=True)
        parser.add_argument("--ramp", type=float, default=20.0)
        parser.add_argument("--wrap", type=float, default=3.0)
        parser.add_argument("--out", type=Path, required=True)
        parser.add_argument("--sessions", type=Path, required=True)
        asyncio.run(fleet(parser.parse_args(sys.argv[2:])))
        return
    doc = __doc__ or ""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0], epilog=doc,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=500, help="connected agents (default 500; at most 999)")
    parser.add_argument("--leads", type=int, default=1_000_000, help="leads in the campaign (default 1,000,000)")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds after start before the first reading")
    parser.add_argument("--idle", type=float, default=30.0, help="seconds the logged-in agents stay idle")
    parser.add_argument("--ramp", type=float, default=20.0, help="seconds over which the agents go ready")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds of dialing before sampling")
    parser.add_argument("--dial", type=float, default=60.0, help="seconds of dialing sampled (every second)")
    parser.add_argument("--ring", type=float, default=1.0, help="seconds a customer rings before answering")
    parser.add_argument("--talk", type=float, default=20.0, help="seconds a customer talks")
    parser.add_argument("--wrap", type=float, default=3.0, help="seconds an agent takes to dispose")
    parser.add_argument("--reuse", type=Path, default=None, metavar="DIR",
                        help="keep the built leads (DIR/memory_<leads>.db; PostgreSQL template "
                        "cobra_bench_mem_cache_<leads>) and reuse them on later runs")
    parser.add_argument("--drop-cache", action="store_true", help="with --reuse: drop the kept databases and exit")
    parser.add_argument("--pg-url", default=None, help="also run on this PostgreSQL (a scratch database is created and dropped)")
    parser.add_argument("--no-sqlite", action="store_true", help="skip the SQLite run")
    parser.add_argument("--tracemalloc", type=Path, default=None, metavar="DIR",
                        help="trace the service's allocations; snapshots per phase in DIR and the top growth printed")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, database)")
    parser.add_argument("--output", type=Path, default=RESULTS, help=f"result file (default {RESULTS})")
    args = parser.parse_args()
    if not 1 <= args.agents <= 999:
        parser.error("--agents between 1 and 999 (extensions 7001-7999)")
    if args.drop_cache:
        if args.reuse is not None:
            (args.reuse / f"memory_{args.leads}.db").unlink(missing_ok=True)
        if args.pg_url:
            asyncio.run(lead_pick._admin_sql(
                args.pg_url, f'DROP DATABASE IF EXISTS "cobra_bench_mem_cache_{args.leads}" WITH (FORCE)'))
        print("dropped the kept bench databases")
        return
    result = asyncio.run(run(args))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"  written to {args.output}")


if __name__ == "__main__":
    main()
