"""Login throttling by progressive delay, per login and per client (SPEC §11; issue 14 item 6).

No hard lockout: after ``free_failures`` failed passwords for a key, each further attempt
for that key must wait an interval that doubles with every failure (``first_delay_s``,
2×, 4×…, at most ``max_delay_s``), counted from the last failure. An attempt that waited
is checked normally, so the right password always gets in after the wait: an attacker can
make a user wait, never lock them out. Attempts refused for waiting are not failures (they
do not lengthen the wait). Failures are forgotten ``window_s`` after the last one.

Two keys, with their own policies:

- the login (from anywhere): bounds guessing one account from many addresses; its longest
  wait is short (default 60 s) because whoever owns the account pays it too;
- the client address: bounds one address guessing many accounts; its wait may be long
  (default 15 min) since only that address pays it. Behind a reverse proxy the address is
  the real client's only when the proxy is trusted (``[web] trusted_proxies``,
  :mod:`web.auth.clients`), else every user shares the proxy's address.

Kept in memory, per process: with several ``cobra serve`` processes each counts on its
own. Pure: the clock is passed in (seconds, any epoch).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

# Bounds memory when someone sprays random logins: oldest keys are dropped first
MAX_TRACKED_KEYS = 100_000


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    """How many failures are free, and how the wait grows after them."""

    free_failures: int
    max_delay_s: float
    first_delay_s: float = 1.0

    def __post_init__(self) -> None:
        if self.free_failures < 1 or self.first_delay_s <= 0 or self.max_delay_s < self.first_delay_s:
            raise ValueError("free_failures must be at least 1, and 0 < first_delay_s <= max_delay_s")

    def delay_after(self, failures: int) -> float:
        """The wait after ``failures`` recent failures (0 while they are free)."""
        if failures < self.free_failures:
            return 0.0
        doublings = min(failures - self.free_failures, 64)  # bounded: 2**64 s is past any cap
        return min(self.max_delay_s, self.first_delay_s * 2.0**doublings)


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    retry_after_s: int = 0
    # "login" or "client": which key made it wait
    scope: str | None = None
    # True for the first refusal since the last failure of that key (the one worth auditing)
    first_refusal: bool = False


@dataclass(slots=True)
class _Record:
    failures: int
    last_failure: float
    refused: bool = False  # an attempt was already refused during the current wait


class LoginRateLimiter:
    """Makes attempts wait after too many recent failures for the same login or from the same client."""

    def __init__(
        self, *, per_login: ThrottlePolicy, per_client: ThrottlePolicy, window_s: float, clock: Callable[[], float]
    ) -> None:
        if window_s <= 0:
            raise ValueError("the failure window must be positive")
        self._policy = {"login": per_login, "client": per_client}
        self._window = window_s
        self._clock = clock
        self._records: dict[tuple[str, str], _Record] = {}

    def _current(self, key: tuple[str, str], now: float) -> _Record | None:
        record = self._records.get(key)
        if record is not None and now - record.last_failure >= self._window:
            del self._records[key]
            return None
        return record

    def check(self, login: str, client: str | None) -> Verdict:
        """May this login be tried from this client now? If not, for how many seconds more, and why."""
        now = self._clock()
        worst: tuple[float, str, _Record] | None = None
        for key in self._keys(login, client):
            record = self._current(key, now)
            if record is None:
                continue
            wait = record.last_failure + self._policy[key[0]].delay_after(record.failures) - now
            if wait > 0 and (worst is None or wait > worst[0]):
                worst = (wait, key[0], record)
        if worst is None:
            return Verdict(True)
        wait, scope, record = worst
        first = not record.refused
        record.refused = True
        return Verdict(False, max(1, math.ceil(wait)), scope, first)

    def record_failure(self, login: str, client: str | None) -> None:
        now = self._clock()
        for key in self._keys(login, client):
            record = self._current(key, now)
            if record is None:
                if len(self._records) >= MAX_TRACKED_KEYS:
                    del self._records[next(iter(self._records))]
                self._records[key] = _Record(1, now)
            else:
                record.failures += 1
                record.last_failure = now
                record.refused = False

    def record_success(self, login: str) -> None:
        """A correct password clears that login's failures (not the client's: one good account
        must not reset the count of an address guessing others)."""
        self._records.pop(("login", login.casefold()), None)

    @staticmethod
    def _keys(login: str, client: str | None) -> list[tuple[str, str]]:
        keys = [("login", login.casefold())]
        if client:
            keys.append(("client", client))
        return keys
