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


class DailyRegua:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: ReguaSettings,
        *,
        clock: Clock,
        run_at: time = time(7),
        after_run: Callable[[RunReport], None] | None = None,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.clock = clock
        self.run_at = run_at
        self.after_run = after_run
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
                await self.run_once()
            except asyncio.CancelledError:
                raise
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
