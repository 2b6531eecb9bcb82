"""The floor over REST: ``GET /api/v1/floor`` and the supervisor's listen / whisper / barge.

- ``GET /api/v1/floor`` (supervisor, admin): the wallboard's snapshot as JSON (see
  :func:`web.supervisor_console.services.floor_view`): ``agents`` (``login``, ``name``,
  ``state``, ``since``, ``campaign``, ``on_call``, ``pause_reason``, ``phone_connected``,
  ``calls_today``, ``contacts_today``, ``monitored_by``...), ``campaigns`` (``id``, ``name``,
  ``status``, ``mode``, ``in_flight``, ``talking``, ``abandon_rate_today``,
  ``abandon_rate_30d``, ``connects_last_hour``, ``connects_by_slot`` (the last hour in 5-minute
  slots), ``short_call_share_today``, ``right_party_today``, ``promises_today``,
  ``agreements_today``, ``amount_agreed_today``, ``dial_level``...), ``link_up``.
- ``POST /api/v1/floor/monitor`` ``{"agent_id": 7, "mode": "listen"|"whisper"|"barge"}``
  (supervisor, admin; CSRF header): rings the caller's own phone into ChanSpy on the agent's
  leg; 201 with the session. 409 ``conflict`` when it cannot start now (no leg, already
  monitoring, ...), 422 ``invalid`` naming a bad field or a user with no phone.
- ``POST /api/v1/floor/monitor/stop``: hangs the caller's spy channel up; 404 when none.

Without a dialer in this process every route answers 503 ``unavailable``.
"""

from __future__ import annotations

from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from dialer.floor.monitoring import MonitorRefused
from dialer.floor.snapshot import FloorSnapshot
from dialer.runtime import DialerRuntime
from storage.models import Role
from web.agent.http import AGENT_DESK
from web.auth.access import requires
from web.errors import NO_STORE, FieldError, read_body
from web.keys import CLOCK, CURRENT_LOGIN
from web.supervisor_console.results import TodayResults
from web.supervisor_console.services import LoginNames, current_floor, floor_view

FLOOR_VIEWERS = (Role.SUPERVISOR, Role.ADMIN)
LOGIN_NAMES: web.AppKey[LoginNames] = web.AppKey("cobra.login_names", LoginNames)
TODAY_RESULTS: web.AppKey[TodayResults] = web.AppKey("cobra.today_results", TodayResults)


class MonitorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agent_id: int = Field(gt=0, le=2**31 - 1)
    mode: Literal["listen", "whisper", "barge"]


def _runtime(request: web.Request) -> DialerRuntime:
    desk = request.app.get(AGENT_DESK)
    runtime = None if desk is None else desk.runtime
    if runtime is None:
        # the state of this server, not a fault: monitoring needs its dialer
        raise FieldError.conflict("O discador não está rodando neste servidor.")
    return runtime


def _user_id(request: web.Request) -> int:
    login = request[CURRENT_LOGIN]
    if login is None:  # the middleware lets no anonymous request reach here
        raise web.HTTPUnauthorized()
    return login.user_id


@requires(*FLOOR_VIEWERS)
async def get_floor(request: web.Request) -> web.Response:
    """``GET /api/v1/floor``: every agent and campaign now."""
    desk = request.app.get(AGENT_DESK)
    runtime = None if desk is None else desk.runtime
    if runtime is None:
        # a server with no dialer (a web-only process, or the dialer stopping): an empty floor, not an error
        now = request.app[CLOCK]()
        body = floor_view(FloorSnapshot(now, False, (), ()), {}, {})
        return web.json_response({**body, "dialer_running": False}, headers=NO_STORE)
    body = await current_floor(runtime, request.app[LOGIN_NAMES], request.app[TODAY_RESULTS])
    return web.json_response({**body, "dialer_running": True}, headers=NO_STORE)


_REFUSED_FIELD = {"no_endpoint": "endpoint", "agent_not_connected": "agent_id", "agent_monitored": "agent_id"}


@requires(*FLOOR_VIEWERS)
async def start_monitor(request: web.Request) -> web.Response:
    """``POST /api/v1/floor/monitor``: listen to, whisper to or barge in on an agent (audited)."""
    user_id = _user_id(request)
    body = await read_body(request, MonitorIn)
    runtime = _runtime(request)
    try:
        session = await runtime.monitor(user_id, body.agent_id, body.mode)
    except MonitorRefused as exc:
        if exc.code == "no_endpoint":
            raise FieldError.invalid("endpoint", exc.message) from None
        if exc.code == "dialer_unavailable":
            raise FieldError.conflict(exc.message) from None
        raise FieldError(409, "conflict", exc.message, field=_REFUSED_FIELD.get(exc.code)) from None
    out = {"supervisor_id": session.supervisor_id, "agent_id": session.agent_id, "mode": session.mode.value,
           "started_at": session.started_at.isoformat()}
    return web.json_response(out, status=201, headers=NO_STORE)


@requires(*FLOOR_VIEWERS)
async def stop_monitor(request: web.Request) -> web.Response:
    """``POST /api/v1/floor/monitor/stop``: end the caller's monitoring session (audited when it ends)."""
    user_id = _user_id(request)
    if not _runtime(request).stop_monitor(user_id):
        raise FieldError(404, "not_found", "Você não está monitorando ninguém.")
    return web.json_response({"stopping": True}, headers=NO_STORE)


def setup_floor_api(app: web.Application, logins: LoginNames, results: TodayResults) -> None:
    app[LOGIN_NAMES] = logins
    app[TODAY_RESULTS] = results
    app.router.add_get("/api/v1/floor", get_floor, name="api_floor")
    app.router.add_post("/api/v1/floor/monitor", start_monitor, name="api_floor_monitor")
    app.router.add_post("/api/v1/floor/monitor/stop", stop_monitor, name="api_floor_monitor_stop")


__all__ = ["LOGIN_NAMES", "get_floor", "setup_floor_api", "start_monitor", "stop_monitor"]
