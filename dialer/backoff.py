"""Failure backoff for the dialer's background work (pure: the caller passes the time).

One :class:`Backoff` per owner of retried work (the scheduler keeps one for campaign ticks,
one per campaign's claims, one for lease upkeep). A failure makes its key wait before the
next try, doubling up to a ceiling; a success clears it. Only the first failure of a run of
failures is reported as new, so the owner logs it once (with its traceback) and not on
every tick while the fault lasts, and logs once more when the work succeeds again.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass


@dataclass(slots=True)
class Failing:
    """A key's current run of failures."""

    count: int
    retry_at: float  # no try before this time (the caller's clock, seconds)


class Backoff:
    def __init__(self, *, first_s: float = 0.5, max_s: float = 30.0) -> None:
        if first_s <= 0 or max_s < first_s:
            raise ValueError("backoff needs 0 < first_s <= max_s")
        self.first_s = first_s
        self.max_s = max_s
        self._failing: dict[Hashable, Failing] = {}

    def ready(self, key: Hashable, now: float) -> bool:
        """Whether ``key``'s work may be tried at ``now`` (never failed, or its wait is over)."""
        failing = self._failing.get(key)
        return failing is None or now >= failing.retry_at

    def failed(self, key: Hashable, now: float) -> Failing:
        """Record a failure at ``now``: the next try waits first_s, then twice as long each time, up to max_s."""
        failing = self._failing.get(key)
        count = 1 if failing is None else failing.count + 1
        delay = min(self.max_s, self.first_s * 2 ** min(count - 1, 32))
        failing = self._failing[key] = Failing(count, now + delay)
        return failing

    def succeeded(self, key: Hashable) -> int:
        """Clear ``key``; the number of failures in a row it had (0: it was not failing)."""
        failing = self._failing.pop(key, None)
        return 0 if failing is None else failing.count

    def keep_only(self, keys: set[Hashable]) -> None:
        """Drop the keys not in ``keys`` (e.g. campaigns that no longer exist)."""
        for key in [k for k in self._failing if k not in keys]:
            del self._failing[key]

    @property
    def failing(self) -> dict[Hashable, Failing]:
        return dict(self._failing)
