"""The wallboard's feed: one ``floor`` frame to every supervisor socket, at most a few per second.

However busy the floor, :class:`FloorFeed` builds **one** snapshot per period and sends it
only when it differs from the last one sent (the ``at`` stamp aside). Floor frames are a
state, not history: they go out unnumbered (``seq`` 0) and are never kept for replay, so a
busy floor cannot push the approval frames out of a supervisor's replay buffer; a page that
(re)connects gets a fresh one. Slow sockets are cut by their bounded queues (see
:class:`web.agent.hub.SocketLink`), never waited for.

The task belongs to the console's cleanup context (:func:`floor_feed_context`) and is
cancelled, with a timeout, when the app stops.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web

from web.supervisor_console.hub import SupervisorHub
from web.supervisor_console.results import TodayResults
from web.supervisor_console.services import FloorSource, LoginNames, current_floor

log = logging.getLogger(__name__)

FLOOR_PERIOD_S = 1 / 3  # at most ~3 wallboard frames per second, however many events arrive
FEED_STOP_TIMEOUT_S = 2.0

NO_DIALER: dict[str, Any] = {"dialer": False, "link_up": False, "agents": [], "campaigns": []}


class FloorFeed:
    def __init__(
        self,
        hub: SupervisorHub,
        logins: LoginNames,
        runtime: Callable[[], FloorSource | None],
        period_s: float = FLOOR_PERIOD_S,
        results: TodayResults | None = None,
    ) -> None:
        self.hub = hub
        self.logins = logins
        self._runtime = runtime
        self.period_s = period_s
        self.results = results  # today's figures per campaign, cached (a few seconds old at most)
        self._last: dict[str, Any] | None = None  # the last frame sent, without its ``at``
        self.frames_sent = 0

    async def view(self) -> dict[str, Any]:
        """The floor now as the wallboard shows it (``dialer`` false when no dialer runs in this process)."""
        runtime = self._runtime()
        if runtime is None:
            return dict(NO_DIALER)
        return {"dialer": True, **await current_floor(runtime, self.logins, self.results)}

    async def tick(self) -> bool:
        """Build one snapshot and broadcast it if it changed; True when a frame went out."""
        if self.hub.link_count() == 0:
            self._last = None  # nobody watches: nothing to compare to when someone comes
            return False
        body = await self.view()
        key = {k: v for k, v in body.items() if k != "at"}
        if key == self._last:
            return False
        self._last = key
        self.hub.offer_all("floor", body)
        self.frames_sent += 1
        return True

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.period_s)
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("wallboard: building the floor frame failed")


def floor_feed_context(feed: FloorFeed) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context running ``feed`` for the app's life."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(feed.run(), name="supervisor-floor-feed")
        try:
            yield
        finally:
            task.cancel()
            done, _ = await asyncio.wait([task], timeout=FEED_STOP_TIMEOUT_S)
            if not done:
                log.warning("wallboard: the floor feed did not stop within %.0f s", FEED_STOP_TIMEOUT_S)

    return context


__all__ = ["FLOOR_PERIOD_S", "FloorFeed", "floor_feed_context"]
