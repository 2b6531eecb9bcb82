"""SPEC §10 P4 — AMI ingestion: parse + track + domain events, as a ratio to raw socket reading.

Builds a large AMI byte stream from the real Asterisk 22 transcript ``concurrent_mixed``
(20 concurrent originates, mixed outcomes) repeated with renumbered ActionIDs, COBRA_CALL
values, Uniqueids and channel names so no two calls collide, then, in one process on one
core, over a loopback TCP socket:

(a) raw: an asyncio server writes the stream, a client protocol only receives the bytes;
(b) ingest: the same client feeds every read through ``MessageParser`` → ``parse_event`` →
    ``CallTracker.feed`` (all originates registered first), producing domain events.

Prints events/s for both, the ratio b/a and whether (b) meets 20,000 events/s, plus an
in-memory breakdown (each stage alone, no socket) of where the time goes, and writes
``bench/results/ami_ingest.json``. Usage: ``python bench/ami_ingest.py [--repeat N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import json
import platform
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dialer.ami.events import parse_event  # noqa: E402
from dialer.ami.wire import MessageParser, encode_banner  # noqa: E402
from dialer.calls import CallTracker  # noqa: E402
from tests.support.traces import load_trace, recv_wire_bytes  # noqa: E402

SOURCE = "concurrent_mixed"
TARGET_EVENTS_PER_S = 20_000
READ_SIZE = 1 << 16
BREAKDOWN_MAX_REPEAT = 50
DEFAULT_OUTPUT = ROOT / "bench" / "results" / "ami_ingest.json"

_UNIQUEID = re.compile(r"\b(\d{10})\.(\d+)\b")
_LOCAL_COUNTER = re.compile(r"-([0-9a-f]{8});([12])")
_ACTION_ID = re.compile(r"^ActionID: orig-c(\d+)\r$", re.MULTILINE)
_CALL_VAR = re.compile(r"^Value: c(\d+)\r$", re.MULTILINE)


def originate_count() -> int:
    return sum(1 for b in load_trace(SOURCE) if b.direction == "send" and b.message().get("Action") == "Originate")


def _renumber(text: str, k: int, seq_stride: int, chan_stride: int) -> str:
    """Copy ``k`` of the transcript: its own ActionIDs, COBRA_CALL values, Uniqueids, channel names."""
    text = _UNIQUEID.sub(lambda m: f"{m.group(1)}.{int(m.group(2)) + k * seq_stride}", text)
    text = _LOCAL_COUNTER.sub(lambda m: f"-{int(m.group(1), 16) + k * chan_stride:08x};{m.group(2)}", text)
    text = _ACTION_ID.sub(lambda m: f"ActionID: orig-{k}-c{m.group(1)}\r", text)
    return _CALL_VAR.sub(lambda m: f"Value: {k}-c{m.group(1)}\r", text)


def build_stream(repeat: int) -> tuple[bytes, int, int]:
    """The banner plus ``repeat`` renumbered copies of the transcript: (bytes, messages, events)."""
    banner = encode_banner()
    one = recv_wire_bytes(SOURCE)[len(banner) :].decode("utf-8")
    seq_stride = max(int(m.group(2)) for m in _UNIQUEID.finditer(one)) + 1
    chan_stride = max(int(m.group(1), 16) for m in _LOCAL_COUNTER.finditer(one)) + 1
    parts = [banner.decode("ascii")]
    for k in range(repeat):
        parts.append(_renumber(one, k, seq_stride, chan_stride))
    data = "".join(parts).encode("utf-8")
    copy = MessageParser().feed(one.encode("utf-8"))
    return data, len(copy) * repeat, sum(1 for m in copy if m.event is not None) * repeat


def new_tracker(repeat: int, calls: int) -> CallTracker:
    tracker = CallTracker()
    for k in range(repeat):
        for i in range(calls):
            tracker.expect_call(f"orig-{k}-c{i}", call_var=f"{k}-c{i}")
    return tracker


class _Reader(asyncio.Protocol):
    """Client side: hands every read to ``on_data``; ``done`` resolves at EOF."""

    def __init__(self, on_data: Callable[[bytes], None], done: asyncio.Future[None]) -> None:
        self.on_data = on_data
        self.done = done

    def data_received(self, data: bytes) -> None:
        self.on_data(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


async def read_over_socket(data: bytes, on_data: Callable[[bytes], None], timeout_s: float) -> tuple[float, float]:
    """Serve ``data`` on loopback and read it all: (wall seconds, CPU seconds)."""

    async def serve(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(data)
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    loop = asyncio.get_running_loop()
    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    done: asyncio.Future[None] = loop.create_future()
    try:
        t0, c0 = time.perf_counter(), time.process_time()
        transport, _ = await loop.create_connection(lambda: _Reader(on_data, done), "127.0.0.1", port)
        await asyncio.wait_for(done, timeout_s)
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        transport.close()
    finally:
        server.close()
        await server.wait_closed()
    return elapsed, cpu


def raw_round(data: bytes, timeout_s: float) -> tuple[float, float, int]:
    received = 0

    def count(chunk: bytes) -> None:
        nonlocal received
        received += len(chunk)

    wall, cpu = asyncio.run(read_over_socket(data, count, timeout_s))
    return wall, cpu, received


def ingest_round(data: bytes, repeat: int, calls: int, timeout_s: float) -> tuple[float, float, Counter[str], bool]:
    tracker = new_tracker(repeat, calls)
    parser = MessageParser(expect_banner=True)
    produced: Counter[str] = Counter()
    clock = time.monotonic

    def ingest(chunk: bytes) -> None:
        at = clock()  # one timestamp per read: every message of a read arrived together
        for msg in parser.feed(chunk):
            for event in tracker.feed(parse_event(msg), at):
                produced[type(event).__name__] += 1

    wall, cpu = asyncio.run(read_over_socket(data, ingest, timeout_s))
    return wall, cpu, produced, tracker.is_empty()


def in_memory_breakdown(data: bytes, repeat: int, calls: int) -> dict[str, float]:
    """Seconds spent in each stage on its own, without a socket: wire parsing, typed events, tracking."""
    chunks = [data[i : i + READ_SIZE] for i in range(0, len(data), READ_SIZE)]
    out: dict[str, float] = {}

    gc.collect()
    t0 = time.perf_counter()
    parser = MessageParser(expect_banner=True)
    messages = [m for c in chunks for m in parser.feed(c)]
    out["parse"] = time.perf_counter() - t0

    gc.collect()
    t0 = time.perf_counter()
    typed = [parse_event(m) for m in messages]
    out["typed"] = time.perf_counter() - t0

    tracker = new_tracker(repeat, calls)
    gc.collect()
    t0 = time.perf_counter()
    feed = tracker.feed
    for event in typed:
        feed(event, 0.0)
    out["track"] = time.perf_counter() - t0
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="ami_ingest.py",
        description="SPEC P4: AMI ingestion (parse + track + domain events) vs raw socket reading, one core.",
    )
    ap.add_argument("--repeat", type=int, default=150, help="copies of the concurrent_mixed transcript (default 150)")
    ap.add_argument("--rounds", type=int, default=3, help="measured rounds of each kind; the best counts (default 3)")
    ap.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help=f"JSON result file (default {DEFAULT_OUTPUT})")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds allowed for one round (default 120)")
    args = ap.parse_args(argv)
    if args.repeat < 1 or args.rounds < 1:
        ap.error("--repeat and --rounds must be at least 1")

    calls = originate_count()
    data, messages, events = build_stream(args.repeat)
    print(f"stream: {args.repeat} x {SOURCE} = {events:,} events ({messages:,} messages), {len(data) / 1e6:.1f} MB")

    raw = [raw_round(data, args.timeout) for _ in range(args.rounds)]
    if any(r[2] != len(data) for r in raw):
        print("raw read lost bytes", file=sys.stderr)
        return 1
    ingest = [ingest_round(data, args.repeat, calls, args.timeout) for _ in range(args.rounds)]
    if not all(r[3] for r in ingest):
        print("tracker not empty after the stream: calls leaked", file=sys.stderr)
        return 1
    produced = ingest[0][2]
    expected_terminal = calls * args.repeat
    if produced["CallFailed"] + produced["CallEnded"] != expected_terminal:
        print(f"expected {expected_terminal} finished calls, got {dict(produced)}", file=sys.stderr)
        return 1
    # the breakdown uses at most 50 copies, best of the rounds: a smaller sample, repeated
    small_repeat = min(args.repeat, BREAKDOWN_MAX_REPEAT)
    small, _, small_events = build_stream(small_repeat)
    runs = [in_memory_breakdown(small, small_repeat, calls) for _ in range(args.rounds)]
    breakdown = {k: min(r[k] for r in runs) for k in runs[0]}

    raw_best = min(r[0] for r in raw)
    ingest_best = min(r[0] for r in ingest)
    raw_eps = events / raw_best
    ingest_eps = events / ingest_best
    ratio = ingest_eps / raw_eps
    met = ingest_eps >= TARGET_EVENTS_PER_S
    ingest_cpu = min(r[1] for r in ingest)

    print(f"(a) raw socket read:          {raw_eps:>14,.0f} events/s  ({len(data) / raw_best / 1e6:,.0f} MB/s)")
    print(f"(b) parse + typed + tracker:  {ingest_eps:>14,.0f} events/s  (cpu/wall {ingest_cpu / ingest_best:.2f})")
    print(f"ratio b/a: {ratio:.4f}   ({raw_eps / ingest_eps:,.0f}x slower than reading bytes)")
    print(f"target >= {TARGET_EVENTS_PER_S:,} events/s on one core: {'MET' if met else 'NOT MET'}")
    print(
        "stages alone, in memory: wire parse {:,.0f} ev/s, typed events {:,.0f} ev/s, tracker {:,.0f} ev/s".format(
            *(small_events / breakdown[k] for k in ("parse", "typed", "track"))
        )
    )
    print("domain events per run:", ", ".join(f"{k} {v:,}" for k, v in sorted(produced.items())))

    result = {
        "name": "ami_ingest",
        "spec": "P4",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "machine": {"platform": platform.platform(), "processor": platform.machine()},
        "stream": {
            "source": SOURCE,
            "repeat": args.repeat,
            "calls": calls * args.repeat,
            "events": events,
            "messages": messages,
            "bytes": len(data),
            "in_memory_chunk_bytes": READ_SIZE,
        },
        "rounds": args.rounds,
        "raw_socket": {
            "events_per_s": round(raw_eps),
            "mb_per_s": round(len(data) / raw_best / 1e6, 1),
            "seconds_best": round(raw_best, 4),
            "seconds_all": [round(r[0], 4) for r in raw],
        },
        "ingest": {
            "events_per_s": round(ingest_eps),
            "seconds_best": round(ingest_best, 4),
            "seconds_median": round(statistics.median(r[0] for r in ingest), 4),
            "cpu_seconds_best": round(ingest_cpu, 4),
            "domain_events": dict(sorted(produced.items())),
        },
        "ratio_ingest_to_raw": round(ratio, 6),
        "target_events_per_s": TARGET_EVENTS_PER_S,
        "target_met": met,
        "in_memory_events_per_s": {k: round(small_events / v) for k, v in breakdown.items()},
        "in_memory_events": small_events,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
