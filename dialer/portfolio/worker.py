"""Run a portfolio import in a child process, so its Python work never shares the service's GIL.

A worker *thread* moved the import off the event loop, but not off the interpreter: the
thread holds the GIL in 5 ms slices, and a 200k-row import still stalled the dialer's loop
for over 100 ms at a time (a scheduler tick or a screen pop waits behind it). A child
process has a GIL of its own; on this 2-core machine it runs on the other core.

The parent (:func:`import_portfolio_in_process`) starts ``python -m dialer.portfolio.worker``,
writes the request (pickled) to its stdin and reads length-prefixed pickled messages from
its stdout: ``start``, ``rejected`` (rows, in batches), ``progress``, then ``done`` (the
:class:`~dialer.portfolio.importer.ImportResult`) or ``error`` (the exception, re-raised in
the parent). The callbacks run on the caller's loop, in the order the child made them.
Both ends are this package: the pickles never come from outside. If the awaiting task is
cancelled the child is killed; its open batch is rolled back by the database, the batches
it committed stay (whole customers, as always).
"""

from __future__ import annotations

import asyncio
import os
import pickle
import sys
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy.engine import URL

from dialer.portfolio.importer import ImportResult, import_portfolio
from dialer.portfolio.rows import RejectedRow
from storage.engine import (
    SQLITE_BUSY_TIMEOUT_S,
    create_engine,
    is_sqlite_memory,
    parse_url,
    session_factory,
)

_LENGTH = 4
WORKER_NICENESS = 10
"""How much lower the child's CPU priority is than the service's (``os.nice``)."""
REJECTED_BATCH = 500
"""Rejected rows are sent in groups of this many (and before every progress message)."""


async def import_portfolio_in_process(
    database_url: str | URL,
    path: Path,
    *,
    campaign_id: int,
    busy_timeout_s: float = SQLITE_BUSY_TIMEOUT_S,
    column_map: Mapping[str, str] | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
    batch_customers: int | None = None,
    on_rejected: Callable[[RejectedRow], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> ImportResult:
    """:func:`~dialer.portfolio.importer.import_portfolio` of the file at ``path``, in a child process.

    Same transactions and results as the in-process import; the child opens its own engine on
    ``database_url``. An in-memory SQLite database can't be shared with another process: refused.
    """
    url = parse_url(database_url)
    if is_sqlite_memory(url):
        raise ValueError("an in-memory SQLite database can't be imported into from a worker process")
    request = {
        "url": url.render_as_string(hide_password=False),
        "path": str(Path(path).resolve()),
        "campaign_id": campaign_id,
        "busy_timeout_s": busy_timeout_s,
        "column_map": dict(column_map) if column_map else None,
        "dry_run": dry_run,
        "now": now,
        "batch_customers": batch_customers,
        "want_rejected": on_rejected is not None,
    }
    env = dict(os.environ)
    # the child imports this package the way the parent did (a bench or a test may have put it on sys.path)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "dialer.portfolio.worker",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        process.stdin.write(pickle.dumps(request))
        await process.stdin.drain()
        process.stdin.close()
        while True:
            try:
                size = int.from_bytes(await process.stdout.readexactly(_LENGTH), "big")
                kind, payload = pickle.loads(await process.stdout.readexactly(size))
            except asyncio.IncompleteReadError:
                code = await process.wait()
                raise RuntimeError(f"the import worker process ended (exit code {code}) before finishing") from None
            if kind == "done":
                await process.wait()
                assert isinstance(payload, ImportResult)
                return payload
            if kind == "error":
                await process.wait()
                raise payload
            if kind == "start" and on_start is not None:
                on_start(payload)
            elif kind == "progress" and on_progress is not None:
                on_progress(payload)
            elif kind == "rejected" and on_rejected is not None:
                for row in payload:
                    on_rejected(row)
    except BaseException:
        if process.returncode is None:
            process.kill()
            await process.wait()
        raise


class _Sender:
    """The child's end: length-prefixed pickles on the binary stream ``out``."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self.rejected: list[RejectedRow] = []

    def send(self, kind: str, payload: Any) -> None:
        if kind != "rejected":
            self.flush_rejected()
        data = pickle.dumps((kind, payload), protocol=pickle.HIGHEST_PROTOCOL)
        self._out.write(len(data).to_bytes(_LENGTH, "big") + data)
        self._out.flush()

    def reject(self, row: RejectedRow) -> None:
        self.rejected.append(row)
        if len(self.rejected) >= REJECTED_BATCH:
            self.flush_rejected()

    def flush_rejected(self) -> None:
        if self.rejected:
            rows, self.rejected = self.rejected, []
            self.send("rejected", rows)


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling (our own errors do), else a RuntimeError that names it."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:  # noqa: BLE001 - whatever stops the round trip, the parent gets a plain error
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


async def _run(request: dict[str, Any], stream: BinaryIO, sender: _Sender) -> ImportResult:
    engine = create_engine(request["url"], busy_timeout_s=request["busy_timeout_s"])
    try:
        return await import_portfolio(
            session_factory(engine), stream, campaign_id=request["campaign_id"],
            column_map=request["column_map"], dry_run=request["dry_run"], now=request["now"],
            batch_customers=request["batch_customers"],
            on_rejected=sender.reject if request["want_rejected"] else None,
            on_progress=lambda n: sender.send("progress", n),
            on_start=lambda n: sender.send("start", n),
        )
    finally:
        await engine.dispose()


def main() -> None:
    """The child process: read the request on stdin, import, answer on stdout."""
    # background work: when the cores are busy, the service (its dialer loop) goes first
    os.nice(WORKER_NICENESS)
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a stray print must not corrupt the message stream: fd 1 is stderr from here on
    request = pickle.load(sys.stdin.buffer)
    sender = _Sender(out)
    try:
        with Path(request["path"]).open("rb") as stream:
            result = asyncio.run(_run(request, stream, sender))
    except BaseException as exc:  # noqa: BLE001 - every failure goes back to the parent, which re-raises it
        sender.send("error", _portable(exc))
        return
    sender.send("done", result)


if __name__ == "__main__":
    main()
