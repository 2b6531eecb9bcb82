"""The garbage collector and the service's pauses.

A full (generation 2) collection walks every container object the process holds. Once the
service has started (SQLAlchemy's mappers and caches, pydantic models, templates, the
migrations' modules...) that is a large heap that never becomes garbage, and walking it took
160-300 ms per collection on the loaded bench machine: the event loop stood still that long,
every few seconds, and the screen-pop p99 with it (issue 10, ``bench/screen_pop.py``).
:func:`freeze_startup_heap` collects once and moves everything alive at that point to the
permanent generation (``gc.freeze``), so later collections only walk what was made since.
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)


def freeze_startup_heap() -> int:
    """Collect, then exempt every object alive now from later collections; how many were frozen."""
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.debug("gc: %d objects alive at start-up frozen out of later collections", frozen)
    return frozen


__all__ = ["freeze_startup_heap"]
