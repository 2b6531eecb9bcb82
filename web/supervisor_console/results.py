"""Today's results per campaign for the wallboard: right-party contacts, promises, agreements and amount agreed.

Read from the database at most once every :data:`REFRESH_S` seconds however many frames and
``GET /api/v1/floor`` calls ask (one query over the dispositions of today's calls, by
``call_attempts.created_at``: its cost follows the day's calls, never the history); callers
between two reads get the cached figures. "Today" is the Brasília day on the app's clock.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialer.clocks import BRASILIA, Clock
from storage.repositories.steering import DayResults, results_since

REFRESH_S = 5.0


def day_start(now: datetime) -> datetime:
    """Midnight of ``now``'s Brasília day, in UTC."""
    return datetime.combine(now.astimezone(BRASILIA).date(), time(0), tzinfo=BRASILIA).astimezone(UTC)


class TodayResults:
    """Per campaign, today's figures, refreshed from storage at most every ``refresh_s`` (on the app's clock)."""

    def __init__(self, db: async_sessionmaker[AsyncSession], clock: Clock, refresh_s: float = REFRESH_S) -> None:
        self._db = db
        self._clock = clock
        self.refresh_s = refresh_s
        self._at: datetime | None = None
        self._figures: dict[int, DayResults] = {}
        self._lock = asyncio.Lock()
        self.reads = 0

    async def get(self) -> dict[int, DayResults]:
        now = self._clock()
        if self._fresh(now):
            return self._figures
        async with self._lock:  # one read at a time; the others take its result
            now = self._clock()
            if not self._fresh(now):
                async with self._db() as db:
                    self._figures = await results_since(db, day_start(now))
                self._at = now
                self.reads += 1
        return self._figures

    def _fresh(self, now: datetime) -> bool:
        if self._at is None or day_start(now) != day_start(self._at):
            return False
        return 0 <= (now - self._at).total_seconds() < self.refresh_s


__all__ = ["REFRESH_S", "TodayResults", "day_start"]
