"""Login throttling: failed attempts counted per login and per client IP over a sliding window.

Kept in memory, per process: with several ``cobra serve`` processes each one counts on its
own, so the effective limit is multiplied by the number of processes. Pure: the clock is
passed in (seconds, any epoch).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

# Bounds memory when someone sprays random logins: oldest keys are dropped first
MAX_TRACKED_KEYS = 100_000


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    retry_after_s: int = 0


class LoginRateLimiter:
    """Refuses logins after too many recent failures for the same login or from the same IP."""

    def __init__(self, *, max_per_login: int, max_per_ip: int, window_s: float, clock: Callable[[], float]) -> None:
        if max_per_login < 1 or max_per_ip < 1 or window_s <= 0:
            raise ValueError("limits must be at least 1 and the window positive")
        self._max = {"login": max_per_login, "ip": max_per_ip}
        self._window = window_s
        self._clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self._window:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def check(self, login: str, ip: str | None) -> Verdict:
        """May this login be tried from this IP now? If not, for how many seconds more."""
        now = self._clock()
        wait = 0.0
        for key in self._keys(login, ip):
            times = self._recent(key, now)
            if len(times) >= self._max[key[0]]:
                # allowed again once enough of the failures have aged out of the window
                oldest_that_blocks = times[len(times) - self._max[key[0]]]
                wait = max(wait, oldest_that_blocks + self._window - now)
        if wait > 0:
            return Verdict(False, max(1, math.ceil(wait)))
        return Verdict(True)

    def record_failure(self, login: str, ip: str | None) -> None:
        now = self._clock()
        for key in self._keys(login, ip):
            times = self._recent(key, now)
            if not times:
                if len(self._failures) >= MAX_TRACKED_KEYS:
                    del self._failures[next(iter(self._failures))]
                self._failures[key] = times
            times.append(now)

    def record_success(self, login: str) -> None:
        """A correct password clears that login's failures (not the IP's: one good account
        must not reset the count of an IP guessing others)."""
        self._failures.pop(("login", login.casefold()), None)

    @staticmethod
    def _keys(login: str, ip: str | None) -> list[tuple[str, str]]:
        keys = [("login", login.casefold())]
        if ip:
            keys.append(("ip", ip))
        return keys
