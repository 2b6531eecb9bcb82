"""The operators' routes: ``/healthz`` (the process answers), ``/readyz`` (it can do its job) and
``/metrics`` (Prometheus text, with the event loop's lag: :mod:`web.ops.loop_lag`). None needs a login: a load balancer, an orchestrator and
Prometheus call them; they show no personal data (counts and states only).

``/healthz`` touches nothing (no database, no PBX), so a busy database never gets the process
restarted. ``/readyz`` answers 200 only while the database answers a read and the dialer's AMI
link to the PBX is up; otherwise 503 with the reason, so a load balancer sends agents elsewhere
while the PBX is down and back within a scrape of it returning.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from aiohttp.typedefs import Handler
from prometheus_client.aiohttp import make_aiohttp_handler
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from web.agent.http import AGENT_DESK
from web.auth.access import public
from web.keys import CLOCK, DB_READ
from web.ops.loop_lag import LoopLagMonitor
from web.ops.metrics import FloorView, OpsMetrics
from web.supervisor_console.http import SUPERVISOR_CONSOLE

log = logging.getLogger(__name__)

# /readyz gives the database this long to answer a read (a probe must answer within its own timeout)
READY_DB_TIMEOUT_S = 2.0

OPS_METRICS: web.AppKey[OpsMetrics] = web.AppKey("cobra.ops_metrics", OpsMetrics)
LOOP_LAG: web.AppKey[LoopLagMonitor] = web.AppKey("cobra.loop_lag", LoopLagMonitor)


@public
async def healthz(request: web.Request) -> web.Response:
    """``GET /healthz``: 200 ``ok`` while the process serves requests (no database, no PBX)."""
    return web.Response(text="ok\n", headers={"Cache-Control": "no-store"})


async def _database_answers(request: web.Request) -> str | None:
    """None when the database answers a read in time; else why not."""
    try:
        async with asyncio.timeout(READY_DB_TIMEOUT_S), request.app[DB_READ]() as db:
            await db.execute(text("SELECT 1"))
    except TimeoutError:
        return f"no answer within {READY_DB_TIMEOUT_S:g} s"
    except (SQLAlchemyError, OSError) as exc:
        return f"{type(exc).__name__}: {exc}"[:300]
    return None


@public
async def readyz(request: web.Request) -> web.Response:
    """``GET /readyz``: 200 when the database answers and the AMI link is up; 503 with the reasons otherwise."""
    db_problem = await _database_answers(request)
    runtime = request.app[AGENT_DESK].runtime
    if runtime is None:
        ami = "no_dialer"  # starting, stopping, or no dialer attached to this app
    else:
        ami = "up" if runtime.link_up else "down"
    reasons = []
    if db_problem is not None:
        reasons.append(f"database: {db_problem}")
    if ami != "up":
        reasons.append("ami link down: dialing paused" if ami == "down" else "dialer not running")
    body = {
        "ready": not reasons,
        "database": "ok" if db_problem is None else "error",
        "ami_link": ami,
        "reasons": reasons,
    }
    if reasons:
        log.debug("readyz: not ready (%s)", "; ".join(reasons))
    return web.json_response(body, status=200 if not reasons else 503, headers={"Cache-Control": "no-store"})


def _metrics_handler(metrics: OpsMetrics) -> Handler:
    render = make_aiohttp_handler(metrics.registry)

    @public
    async def metrics_route(request: web.Request) -> web.StreamResponse:
        """``GET /metrics``: Prometheus text (today's call results are read from the database first)."""
        await metrics.refresh_results(request.app[DB_READ], request.app[CLOCK]().timestamp())
        return await render(request)

    return metrics_route


async def _start_lag_monitor(app: web.Application) -> None:
    app[LOOP_LAG].start()


async def _stop_lag_monitor(app: web.Application) -> None:
    await app[LOOP_LAG].stop()


def setup_ops(app: web.Application) -> OpsMetrics:
    """Mount ``/healthz``, ``/readyz`` and ``/metrics`` (call after the agent desk and supervisor console)."""
    desk = app[AGENT_DESK]
    console = app[SUPERVISOR_CONSOLE]
    metrics = OpsMetrics(
        FloorView(
            runtime=lambda: desk.runtime,
            agent_sockets=lambda: len(desk.sockets),
            supervisor_sockets=lambda: len(console.sockets),
        )
    )
    desk.hub.on_pop_sent = metrics.pop_sent
    app[OPS_METRICS] = metrics
    app[LOOP_LAG] = LoopLagMonitor(metrics.registry)
    app.on_startup.append(_start_lag_monitor)
    app.on_cleanup.append(_stop_lag_monitor)
    app.router.add_get("/healthz", healthz, name="healthz")
    app.router.add_get("/readyz", readyz, name="readyz")
    app.router.add_get("/metrics", _metrics_handler(metrics), name="metrics")
    return metrics
