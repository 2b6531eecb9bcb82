"""Campaigns over REST: list them with their live figures, start, pause and stop them (SPEC §8).

- ``GET /api/v1/campaigns`` (supervisor, admin): ``{"items": [...]}``, by name; each item has
  ``id``, ``name``, ``status``, ``mode``, ``max_dial_level``, ``abandon_cap`` from the database
  and ``live``, ``dial_level``, ``in_flight``, ``agents_logged_in``, ``abandon_rate_today``,
  ``abandon_rate_30d``, ``connects_last_hour`` from the running dialer (null without one).
- ``POST /api/v1/campaigns/{id}/start`` | ``/pause`` | ``/stop`` (supervisor, admin; CSRF
  header): 200 with the campaign's item and its ``previous_status``. Pause is temporary
  (calls in progress finish); stop takes the campaign off the floor until started again.
  Audited (who, when, before, after, ``source`` "api"); the running dialer re-reads the
  campaign at once.

Errors are raised as :class:`web.errors.FieldError` and answered in the API's one shape by
its middleware: a malformed id is 422, an unknown one 404, both naming ``campaign_id``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from storage.models import CampaignStatus, Role
from web.agent.http import AGENT_DESK
from web.auth.access import requires
from web.campaigns.services import campaign_items, change_status
from web.errors import NO_STORE, FieldError, parse_id
from web.keys import CLOCK, CURRENT_LOGIN, DB, DB_READ

MANAGERS = (Role.SUPERVISOR, Role.ADMIN)


def _runtime(request: web.Request) -> Any:
    """The running dialer of this process, or None (see ``web.agent.dialer.attach_dialer``)."""
    desk = request.app.get(AGENT_DESK)
    return None if desk is None else desk.runtime


def parse_campaign_id(raw: str) -> int:
    """The campaign id of the path; FieldError (422) naming ``campaign_id`` when malformed."""
    return parse_id(raw, "campaign_id", "campanha")


@requires(*MANAGERS)
async def list_campaigns(request: web.Request) -> web.Response:
    """``GET /api/v1/campaigns``: every campaign with its status and live figures."""
    items = await campaign_items(request.app[DB_READ], _runtime(request))
    return web.json_response({"items": [i.as_dict() for i in items]}, headers=NO_STORE)


async def _set_status(request: web.Request, status: CampaignStatus) -> web.Response:
    login = request[CURRENT_LOGIN]
    if login is None:  # the middleware lets no anonymous request reach here
        raise web.HTTPUnauthorized()
    campaign_id = parse_campaign_id(request.match_info["campaign_id"])
    change = await change_status(
        request.app[DB], _runtime(request), campaign_id, status,
        user_id=login.user_id, at=request.app[CLOCK](), source="api",
    )
    if change is None:
        raise FieldError.not_found("campaign_id", f"Campanha {campaign_id} não existe.")
    return web.json_response({**change.item.as_dict(), "previous_status": change.before.value}, headers=NO_STORE)


@requires(*MANAGERS)
async def start_campaign(request: web.Request) -> web.Response:
    """``POST /api/v1/campaigns/{id}/start``: the dialer works the campaign."""
    return await _set_status(request, CampaignStatus.ACTIVE)


@requires(*MANAGERS)
async def pause_campaign(request: web.Request) -> web.Response:
    """``POST /api/v1/campaigns/{id}/pause``: no new calls for now; calls in progress finish."""
    return await _set_status(request, CampaignStatus.PAUSED)


@requires(*MANAGERS)
async def stop_campaign(request: web.Request) -> web.Response:
    """``POST /api/v1/campaigns/{id}/stop``: off the floor until started again."""
    return await _set_status(request, CampaignStatus.STOPPED)


def setup_campaigns(app: web.Application) -> None:
    """Mount the campaigns API."""
    app.router.add_get("/api/v1/campaigns", list_campaigns, name="campaigns")
    app.router.add_post("/api/v1/campaigns/{campaign_id}/start", start_campaign, name="campaign_start")
    app.router.add_post("/api/v1/campaigns/{campaign_id}/pause", pause_campaign, name="campaign_pause")
    app.router.add_post("/api/v1/campaigns/{campaign_id}/stop", stop_campaign, name="campaign_stop")


__all__ = ["parse_campaign_id", "setup_campaigns"]
