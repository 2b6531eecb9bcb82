"""A background WAL checkpointer for a SQLite file, so commits never checkpoint themselves.

Under WAL, SQLite copies the log back into the database file ("checkpoints") inside the
commit that makes the log pass ``wal_autocheckpoint`` pages: that commit, often a
hopper pick on the dialer's path, then pays for writing and syncing megabytes (the pick's
p99 at 1M leads was mostly this). :class:`WalCheckpointer` runs ``PRAGMA
wal_checkpoint(PASSIVE)`` every ``interval_s`` on a connection of its own in a thread of
its own: PASSIVE never waits for readers or writers and never takes the write lock, so
picks and checkpoints run side by side. ``storage.engine`` raises ``wal_autocheckpoint``
to :data:`AUTOCHECKPOINT_PAGES`, which only a process without a checkpointer (a CLI
command) or a stalled checkpointer ever reaches: the log stays bounded either way.

One owner: the web app starts it with the engine and stops it before the engine goes.
A checkpoint that outlasts ``timeout_s`` is interrupted (``sqlite3.Connection.interrupt``)
and logged; the next one starts on the next interval.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

AUTOCHECKPOINT_PAGES = 16384
"""``wal_autocheckpoint`` of every connection (64 MiB of 4 KiB pages; SQLite's default is 1000)."""
DEFAULT_INTERVAL_S = 1.0
DEFAULT_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class CheckpointResult:
    """What ``PRAGMA wal_checkpoint`` answered: whether it was blocked, frames in the log, frames copied."""

    busy: bool
    log_frames: int
    checkpointed_frames: int


class WalCheckpointer:
    """Checkpoints one SQLite database's WAL in the background (see the module docstring)."""

    def __init__(
        self, path: Path | str, *, interval_s: float = DEFAULT_INTERVAL_S, timeout_s: float = DEFAULT_TIMEOUT_S
    ) -> None:
        if interval_s <= 0 or timeout_s <= 0:
            raise ValueError("interval_s and timeout_s must be positive")
        self.path = Path(path)
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self.checkpoints = 0
        """Checkpoints completed (for tests and metrics)."""
        self.last: CheckpointResult | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        # one thread: checkpoints never overlap, and the connection stays on the thread that made it
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None
        self._conn_lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start the background task on the running loop (idempotent)."""
        if self.running:
            return
        self._stopping = asyncio.Event()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wal-checkpoint")
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"wal-checkpoint {self.path.name}")

    async def stop(self) -> None:
        """Stop the task, wait for a checkpoint under way, and close the connection."""
        task, self._task = self._task, None
        self._stopping.set()
        if task is not None:
            await task
        executor, self._executor = self._executor, None
        if executor is not None:
            await asyncio.get_running_loop().run_in_executor(executor, self._close)
            executor.shutdown(wait=True)

    async def checkpoint_now(self) -> CheckpointResult:
        """One PASSIVE checkpoint, awaited (bounded by ``timeout_s``)."""
        if self._executor is None:
            raise RuntimeError("the checkpointer is not started")
        future = asyncio.get_running_loop().run_in_executor(self._executor, self._checkpoint)
        try:
            result = await asyncio.wait_for(asyncio.shield(future), self.timeout_s)
        except TimeoutError:
            with self._conn_lock:
                if self._conn is not None:
                    self._conn.interrupt()
            raise
        self.checkpoints += 1
        self.last = result
        return result

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await asyncio.wait_for(self._stopping.wait(), self.interval_s)
                return
            except TimeoutError:
                pass
            try:
                await self.checkpoint_now()
            except TimeoutError:
                log.warning("WAL checkpoint of %s took over %.0f s: interrupted", self.path, self.timeout_s)
            except sqlite3.Error as exc:  # interrupted, or the file went away: try again next interval
                log.warning("WAL checkpoint of %s failed: %s", self.path, exc)

    def _checkpoint(self) -> CheckpointResult:
        with self._conn_lock:
            if self._conn is None:
                if not self.path.exists():  # not created yet: connecting would create it empty
                    return CheckpointResult(False, -1, -1)
                # autocommit; a short busy wait: PASSIVE only waits for the brief checkpoint lock
                self._conn = sqlite3.connect(self.path, timeout=1.0, isolation_level=None, check_same_thread=False)
            conn = self._conn
        row = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return CheckpointResult(bool(row[0]), int(row[1]), int(row[2]))

    def _close(self) -> None:
        with self._conn_lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
