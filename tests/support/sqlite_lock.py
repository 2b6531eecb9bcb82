"""Another connection holding SQLite's write lock on a file, for as long as a test needs it."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Self


class HeldWriteLock:
    """A plain sqlite3 connection in its own thread: ``BEGIN IMMEDIATE`` plus ``pending_write``, until released."""

    def __init__(self, path: str | Path, pending_write: str | None = None) -> None:
        self._path = str(path)
        self._pending_write = pending_write  # a real pending write makes it a writer, not just a lock holder
        self._taken = threading.Event()
        self._release = threading.Event()
        self._thread = threading.Thread(target=self._hold, daemon=True)

    def _hold(self) -> None:
        conn = sqlite3.connect(self._path, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            if self._pending_write is not None:
                conn.execute(self._pending_write)
            self._taken.set()
            self._release.wait(60)
            conn.execute("ROLLBACK")
        finally:
            conn.close()

    def __enter__(self) -> Self:
        self._thread.start()
        assert self._taken.wait(10), "the lock holder never got the lock"
        return self

    def release(self) -> None:
        self._release.set()

    def __exit__(self, *_exc: object) -> None:
        self._release.set()
        self._thread.join(10)
