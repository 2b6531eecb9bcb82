"""The start-up heap frozen out of later collections (the service's GC pauses, issue 10)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from web.ops.heap import freeze_startup_heap


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
