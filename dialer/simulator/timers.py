"""One timer queue for the whole simulated PBX, on a simulated clock: no thread or task per call.

The queue is pure: :meth:`TimerQueue.advance_to` runs what is due. The TCP server drives
it from one asyncio timer; unit tests drive it by hand. Callbacks due at the same instant
run in the order they were scheduled (a plain heap with equal deadlines would not promise
that), which the PBX relies on to order events like Asterisk's stasis does.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable


class TimerHandle:
    """What :meth:`TimerQueue.call_later` returns: cancel it and it will not run."""

    __slots__ = ("callback", "cancelled")

    def __init__(self, callback: Callable[[], None]) -> None:
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class TimerQueue:
    """Callbacks keyed by a deadline on the simulated clock (seconds)."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now
        self._heap: list[tuple[float, int, TimerHandle]] = []
        self._seq = itertools.count()
        self.on_schedule: Callable[[float], None] | None = None  # the driver re-arms its wake-up

    def call_later(self, delay: float, callback: Callable[[], None]) -> TimerHandle:
        """Run ``callback`` ``delay`` simulated seconds from now (0 = after what runs now)."""
        handle = TimerHandle(callback)
        when = self.now + max(0.0, delay)
        heapq.heappush(self._heap, (when, next(self._seq), handle))
        if self.on_schedule is not None:
            self.on_schedule(when)
        return handle

    def next_deadline(self) -> float | None:
        while self._heap and self._heap[0][2].cancelled:
            heapq.heappop(self._heap)
        return self._heap[0][0] if self._heap else None

    def advance_to(self, now: float) -> int:
        """Move the clock to ``now`` and run every callback due by then; returns how many ran."""
        ran = 0
        while self._heap and self._heap[0][0] <= now:
            when, _, handle = heapq.heappop(self._heap)
            if handle.cancelled:
                continue
            self.now = max(self.now, when)
            handle.callback()
            ran += 1
        self.now = max(self.now, now)
        return ran

    def run_until_idle(self, limit: float = 1e9) -> None:
        """Run everything scheduled, however far ahead (for tests), up to ``limit`` seconds."""
        while True:
            deadline = self.next_deadline()
            if deadline is None or deadline > limit:
                return
            self.advance_to(deadline)

    def __len__(self) -> int:
        return sum(1 for _, _, h in self._heap if not h.cancelled)
