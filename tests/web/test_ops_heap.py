"""The start-up heap frozen out of later collections (the service's GC pauses, issue 10)."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from web.ops.heap import AllocationTracer, freeze_startup_heap


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # other tests run on an ordinary collector


@pytest.mark.usefixtures("unfrozen")
def test_objects_alive_at_start_up_are_no_longer_walked_by_collections() -> None:
    kept = [[n] for n in range(10_000)]  # long-lived containers, like the service's caches
    frozen = freeze_startup_heap()
    assert frozen >= len(kept)
    assert gc.get_freeze_count() == frozen
    walked = sum(len(gc.get_objects(generation)) for generation in range(3))
    assert not any(obj is kept[0] for obj in gc.get_objects(2))  # a full collection skips it
    assert walked < frozen  # what collections still walk is only what was made since


def test_allocation_tracer_writes_snapshots_that_show_what_grew(tmp_path: Path) -> None:
    tracer = AllocationTracer(tmp_path / "snaps")
    tracer.start()
    try:
        first = tracer.dump()
        grown = [bytearray(1000) for _ in range(2000)]  # ~2 MB allocated on this line
        second = tracer.dump()
    finally:
        tracer.stop()
    assert [first.name, second.name] == ["tracemalloc-0001.snap", "tracemalloc-0002.snap"]
    assert not list((tmp_path / "snaps").glob("*.part"))
    before = tracemalloc.Snapshot.load(str(first))
    after = tracemalloc.Snapshot.load(str(second))
    top = after.compare_to(before, "lineno")[0]
    assert top.traceback[0].filename == __file__
    assert top.size_diff >= 2000 * 1000
    assert len(grown) == 2000
