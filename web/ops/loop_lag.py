"""Event-loop lag: how late the service's loop wakes a timer, as a Prometheus histogram.

Everything the service does shares one loop (SPEC §2): AMI events, the dialer's ticks, the
agents' sockets, HTTP. A callback that holds the loop delays every screen-pop behind it, so
the lag is the figure that says whether the process keeps up (SPEC §10 P1 and the "loop
responsiveness" row). A task sleeps ``interval_s`` again and again and observes how much
later than asked it woke up; the histogram's buckets are finest under 50 ms.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from prometheus_client import CollectorRegistry, Histogram

log = logging.getLogger(__name__)

LAG_INTERVAL_S = 0.05
LAG_BUCKETS = (
    0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
)


class LoopLagMonitor:
    """Owns the sampling task (``start``/``stop``) and the ``cobra_event_loop_lag_seconds`` histogram."""

    def __init__(self, registry: CollectorRegistry, interval_s: float = LAG_INTERVAL_S) -> None:
        self.interval_s = interval_s
        self.histogram = Histogram(
            "cobra_event_loop_lag_seconds",
            f"Seconds the event loop woke a {interval_s:g} s timer later than asked (sampled continuously).",
            buckets=LAG_BUCKETS,
            registry=registry,
        )
        self.worst_s = 0.0  # the longest lag seen since start (logs and tests)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="loop-lag-monitor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            asked = loop.time() + self.interval_s
            await asyncio.sleep(self.interval_s)
            lag = max(0.0, loop.time() - asked)
            self.histogram.observe(lag)
            self.worst_s = max(self.worst_s, lag)


__all__ = ["LAG_BUCKETS", "LoopLagMonitor"]
