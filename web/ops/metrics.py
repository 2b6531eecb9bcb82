"""Prometheus metrics (``GET /metrics``): the live floor read at scrape time, pops as they are sent,
and today's call results from the database.

Each app has its own registry (tests build many apps in one process; the global one would
refuse the second). Nothing here owns state it could read: the floor, the writer, the hub and
the socket sets stay the one owner of theirs, and :class:`FloorCollector` only reads them when
Prometheus scrapes. Only the pop counter and histogram are kept here, fed by the hub's
``on_pop_sent`` hook (the time from the pop being made to its frame being queued, on the app
clock).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialer.agents.state import AgentState
from dialer.floor.calls import FloorCall
from dialer.pacing.live import day_bounds, local_day
from storage.models import CallAttempt, CallResult

if TYPE_CHECKING:  # the web layer drives it; importing it here is only for the types
    from dialer.runtime import DialerRuntime

log = logging.getLogger(__name__)

# Seconds from a pop being made (its call routed to the agent) to its frame queued on the socket;
# SPEC §10's screen-pop target is well under a second, so the buckets are finest there
POP_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0)
# A scrape never waits longer than this for the call-results query (a busy database: the
# family is left out of that scrape rather than holding Prometheus)
RESULTS_QUERY_TIMEOUT_S = 2.0
CALL_PHASES = ("claimed", "ringing", "amd", "waiting", "connecting", "connected")
OPEN_RESULT = "open"  # attempts of today whose call has not ended yet


def call_phase(call: FloorCall) -> str:
    """Where a live call stands, for ``cobra_calls_in_flight{phase}``."""
    if call.connected:
        return "connected"
    if call.agent_id is not None:
        return "connecting"  # routed to an agent, being bridged into their conference
    if call.amd_pending:
        return "amd"
    if call.answered:
        return "waiting"  # a person on the line, no agent yet
    if call.originated:
        return "ringing"
    return "claimed"


@dataclass
class FloorView:
    """What the collector reads at scrape time (functions, so it always sees the current values)."""

    runtime: Callable[[], DialerRuntime | None]
    agent_sockets: Callable[[], int]
    supervisor_sockets: Callable[[], int]
    results_today: dict[str, int] = field(default_factory=dict)  # refreshed before each scrape
    results_fresh: bool = False


class FloorCollector(Collector):
    """Gauges read from the running dialer and the socket sets whenever Prometheus scrapes."""

    def __init__(self, view: FloorView) -> None:
        self._view = view

    def collect(self) -> Iterable[Metric]:
        return list(self._metrics())

    def _metrics(self) -> Iterator[Metric]:
        runtime = self._view.runtime()
        sockets = GaugeMetricFamily("cobra_websockets", "Open websockets, by page.", labels=["page"])
        sockets.add_metric(["agent"], self._view.agent_sockets())
        sockets.add_metric(["supervisor"], self._view.supervisor_sockets())
        yield sockets
        yield GaugeMetricFamily(
            "cobra_dialer_running", "1 while a dialer runs in this process.", value=int(runtime is not None)
        )
        yield GaugeMetricFamily(
            "cobra_ami_link_up",
            "1 while the AMI link to the PBX is up and logged in, 0 while it is down (dialing paused).",
            value=int(runtime is not None and runtime.link_up),
        )
        if self._view.results_fresh:
            results = GaugeMetricFamily(
                "cobra_call_attempts_today",
                "Call attempts created today (Brasília calendar day, app clock), by result ('open': not ended yet).",
                labels=["result"],
            )
            for result in [r.value for r in CallResult] + [OPEN_RESULT]:
                results.add_metric([result], self._view.results_today.get(result, 0))
            yield results
        if runtime is None:
            return
        yield from _floor_metrics(runtime)


def _floor_metrics(runtime: DialerRuntime) -> Iterator[Metric]:
    floor = runtime.floor
    phases = dict.fromkeys(CALL_PHASES, 0)
    for call in list(floor.calls.values()):
        phases[call_phase(call)] += 1
    in_flight = GaugeMetricFamily("cobra_calls_in_flight", "Live calls, by phase.", labels=["phase"])
    for phase, n in phases.items():
        in_flight.add_metric([phase], n)
    yield in_flight
    yield GaugeMetricFamily(
        "cobra_calls_in_wrapup", "Ended calls waiting for the agent's disposition.", value=len(floor.wrapups)
    )
    states = dict.fromkeys((s.value for s in AgentState), 0)
    for agent in floor.agents:
        states[agent.status.state.value] += 1
    agents = GaugeMetricFamily("cobra_agents", "Agents known to the dialer, by state.", labels=["state"])
    for state, n in states.items():
        agents.add_metric([state], n)
    yield agents
    yield GaugeMetricFamily(
        "cobra_writer_queue_depth", "Database jobs queued in the dialer's writer.", value=runtime.writer.depth
    )
    retries = CounterMetricFamily(
        "cobra_writer_retries", "Writer jobs run again after a busy database.", value=runtime.writer.retries
    )
    yield retries
    yield CounterMetricFamily(
        "cobra_disposition_write_failures",
        "Outcomes of agents freed before the write that could not be stored (each one logged as an error).",
        value=runtime.disposition_failures,
    )
    yield from _campaign_metrics(runtime)


def _campaign_metrics(runtime: DialerRuntime) -> Iterator[Metric]:
    labels = ["campaign_id", "campaign"]
    rate = GaugeMetricFamily(
        "cobra_campaign_abandon_rate",
        "Abandons over live answers, per campaign (window: today or 30d, SPEC §5).",
        labels=[*labels, "window"],
    )
    live = GaugeMetricFamily("cobra_campaign_live_answers_today", "Live answers today, per campaign.", labels=labels)
    abandons = GaugeMetricFamily("cobra_campaign_abandons_today", "Abandoned calls today, per campaign.", labels=labels)
    level = GaugeMetricFamily(
        "cobra_campaign_dial_level", "Lines in use per logged-in agent, per campaign.", labels=labels
    )
    for campaign_id, info in list(runtime.floor.campaigns.items()):
        figures = runtime.campaign_figures(campaign_id)
        if figures is None:
            continue
        names = [str(campaign_id), info.name]
        rate.add_metric([*names, "today"], figures.abandon_rate_today)
        rate.add_metric([*names, "30d"], figures.abandon_rate_30d)
        live.add_metric(names, figures.live_today)
        abandons.add_metric(names, figures.abandons_today)
        level.add_metric(names, figures.dial_level)
    yield from (rate, live, abandons, level)


class OpsMetrics:
    """One app's registry: the pop counter and histogram, the floor collector, process figures."""

    def __init__(self, view: FloorView) -> None:
        self.view = view
        self.registry = CollectorRegistry(auto_describe=True)
        self.pops = Counter("cobra_screen_pops", "Screen-pops sent to agents (new calls).", registry=self.registry)
        self.pop_latency = Histogram(
            "cobra_screen_pop_latency_seconds",
            "Seconds from a pop being made (call routed) to its frame queued for the agent's socket.",
            buckets=POP_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(FloorCollector(view))
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)

    def pop_sent(self, latency_s: float) -> None:
        """The hub's ``on_pop_sent``: count the pop and observe its latency (never negative)."""
        self.pops.inc()
        self.pop_latency.observe(max(0.0, latency_s))

    async def refresh_results(self, sessions: async_sessionmaker[AsyncSession], now_epoch_s: float) -> None:
        """Read today's call attempts by result (before a scrape); left out of it if the database won't answer."""
        start, end = day_bounds(local_day(now_epoch_s))
        query = (
            select(CallAttempt.result, func.count())
            .where(CallAttempt.created_at >= start, CallAttempt.created_at < end)
            .group_by(CallAttempt.result)
        )
        try:
            async with asyncio.timeout(RESULTS_QUERY_TIMEOUT_S), sessions() as db:
                rows = (await db.execute(query)).all()
        except (SQLAlchemyError, OSError, TimeoutError) as exc:  # the scrape still serves the live figures
            log.warning("metrics: call results left out of this scrape (%s: %s)", type(exc).__name__, exc)
            self.view.results_fresh = False
            return
        self.view.results_today = {(r.value if r is not None else OPEN_RESULT): int(n) for r, n in rows}
        self.view.results_fresh = True


__all__ = ["CALL_PHASES", "FloorCollector", "FloorView", "OpsMetrics", "call_phase"]
