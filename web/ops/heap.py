"""The garbage collector and the service's pauses.

A full (generation 2) collection walks every container object the process holds. Once the
service has started (SQLAlchemy's mappers and caches, pydantic models, templates, the
migrations' modules...) that is a large heap that never becomes garbage, and walking it took
160-300 ms per collection on the loaded bench machine: the event loop stood still that long,
every few seconds, and the screen-pop p99 with it (issue 10, ``bench/screen_pop.py``).
:func:`freeze_startup_heap` collects once and moves everything alive at that point to the
permanent generation (``gc.freeze``), so later collections only walk what was made since.

:class:`AllocationTracer` is a debugging aid for the service's memory (SPEC §10 P7,
``bench/memory.py --tracemalloc``): with ``COBRA_TRACEMALLOC=DIR`` in its environment,
``cobra serve`` traces allocations from start-up and writes a ``tracemalloc`` snapshot to DIR
on each SIGUSR2, to be diffed offline. Never set in production (tracing costs memory and time).
"""

from __future__ import annotations

import gc
import logging
import tracemalloc
from pathlib import Path

log = logging.getLogger(__name__)


def freeze_startup_heap() -> int:
    """Collect, then exempt every object alive now from later collections; how many were frozen."""
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.debug("gc: %d objects alive at start-up frozen out of later collections", frozen)
    return frozen


TRACEMALLOC_ENV = "COBRA_TRACEMALLOC"
TRACEMALLOC_FRAMES = 8


class AllocationTracer:
    """Traces allocations (``tracemalloc``) and dumps numbered snapshots into a directory on demand."""

    def __init__(self, directory: Path, frames: int = TRACEMALLOC_FRAMES) -> None:
        self.directory = directory
        self._frames = frames
        self._taken = 0

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        tracemalloc.start(self._frames)

    def dump(self) -> Path:
        """Write the next snapshot (``tracemalloc-0001.snap``, ...); its path. Blocks the loop while
        it runs: a debugging aid, not for production."""
        self._taken += 1
        path = self.directory / f"tracemalloc-{self._taken:04d}.snap"
        snapshot = tracemalloc.take_snapshot().filter_traces((tracemalloc.Filter(False, tracemalloc.__file__),))
        partial = path.with_suffix(".part")
        snapshot.dump(str(partial))
        partial.rename(path)  # whole files only: a reader polls the directory
        log.warning("tracemalloc: snapshot written to %s", path)
        return path

    def stop(self) -> None:
        tracemalloc.stop()


__all__ = ["TRACEMALLOC_ENV", "AllocationTracer", "freeze_startup_heap"]
