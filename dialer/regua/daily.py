"""The daily run inside ``cobra serve``: once at start (catch-up), then every day at ``run_at`` (Brasília).

A run is idempotent (see :mod:`dialer.regua.services`), so the start-up run after a crash,
a second process, or ``cobra regua run`` by hand at the same time take each step once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialer.clocks import BRASILIA, Clock
from dialer.regua.services import ReguaSettings, RunReport, run_day

log = logging.getLogger(__name__)


def next_run_at(now: datetime, run_at: time) -> datetime:
    """The next ``run_at`` (Brasília) strictly after ``now`` (UTC)."""
    local = now.astimezone(BRASILIA)
    candidate = datetime.combine(local.date(), run_at, tzinfo=BRASILIA)
    if candidate <= local:
        candidate += timedelta(days=1)
    return candidate


def parse_hhmm(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


# A daily run's longest (the 10,000-customer bench takes about a minute)
RUN_TIMEOUT_S = 1800.0


class DailyRegua:
    """The daily run's one owner: a background task of the app (started with it, cancelled on
    stop), so the start-up catch-up run never delays the server answering; each run in short
    transactions (:func:`dialer.regua.services.run_day`) and bounded by ``timeout_s``."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: ReguaSettings,
        *,
        clock: Clock,
        run_at: time = time(7),
        after_run: Callable[[RunReport], None] | None = None,
        timeout_s: float = RUN_TIMEOUT_S,
    ) -> None:
        if not timeout_s > 0:
            raise ValueError(f"timeout_s: must be > 0, got {timeout_s!r}")
        self.sessions = sessions
        self.settings = settings
        self.clock = clock
        self.run_at = run_at
        self.after_run = after_run
        self.timeout_s = timeout_s
        self.last: RunReport | None = None
        self._task: asyncio.Task[None] | None = None

    async def run_once(self, day: date | None = None) -> RunReport:
        now = self.clock()
        report = await run_day(self.sessions, day or now.astimezone(BRASILIA).date(), self.settings, now=now)
        self.last = report
        if self.after_run is not None:
            self.after_run(report)
        return report

    async def _loop(self) -> None:
        while True:
            try:
                # bounded: a run stuck on the database must not hold the task (nor its last
                # short transaction) forever; what it did not take, the next run takes
                async with asyncio.timeout(self.timeout_s):
                    await self.run_once()
            except asyncio.CancelledError:
                raise
            except TimeoutError:
                log.error("régua: the daily run took over %g s and was stopped; the next one catches up", self.timeout_s)
            except Exception:
                log.exception("régua: the daily run failed; the next one catches up")
            now = self.clock()
            await asyncio.sleep(max(1.0, (next_run_at(now, self.run_at) - now).total_seconds()))

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="regua-daily")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
