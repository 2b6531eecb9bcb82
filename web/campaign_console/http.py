"""Campaigns steered from the supervisor's pages (SPEC §8): the pages and the REST routes they call.

Pages (supervisor, admin): ``/supervisor/campanhas`` (every campaign, start / pause / stop, mode)
and ``/supervisor/campanhas/{campaign_id}`` (pacing, calling window, script, segments, boosts,
holds, portfolio upload, change history). The page reuses the pacing, segments, boosts,
script, import and campaign-status routes; this package adds what they lacked (this module the
pages, the campaign and its window; :mod:`.boosts`, :mod:`.holds` and :mod:`.history` the rest):

- ``GET /api/v1/campaigns/{id}``: the campaign's stored settings (window override, script).
- ``PUT /api/v1/campaigns/{id}/window`` ``{"window": {"mon": "08:00-18:00", ..., "sun": null} | null}``:
  the campaign's calling-window override (it only narrows the legal windows; null removes it).
- ``POST /api/v1/campaigns/{id}/boosts/preview`` ``{"filter": {...}}`` → ``{"count": n}``: how many live
  leads a bulk boost would change; ``POST .../boosts/bulk`` ``{"filter", "boost", "expected_count"}``
  applies it, 409 ``conflict`` when the count is no longer the one previewed.
- ``GET/POST /api/v1/campaigns/{id}/holds``, ``DELETE .../holds/{hold_id}``: suspensions of the
  campaign's customers (by external id).
- ``GET /api/v1/campaigns/{id}/history``, ``GET /api/v1/floor/history``: the audit log told in pt-BR.

Every change is one transaction with its audit entry (who, when, before, after); the dialer
reads campaigns and lead ranks on every pick and re-reads campaigns every tick, so it is in
force within a second.
"""

from __future__ import annotations

from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from storage.models import Campaign
from storage.repositories.audit import record
from storage.repositories.steering import (
    recheck_deferred_leads,
    set_window_override,
)
from web.auth.access import requires
from web.auth.responses import render_page
from web.campaign_console.boosts import BoostPreviewIn, BulkBoostIn, setup_boosts
from web.campaign_console.common import (
    MANAGERS,
    campaign_id_of,
    no_campaign,
    runtime_of,
    user_id_of,
)
from web.campaign_console.history import setup_history
from web.campaign_console.holds import CampaignHoldIn, setup_holds
from web.campaign_console.services import (
    WindowError,
    normalise_window,
    widens,
)
from web.campaigns.services import notify_dialer
from web.errors import NO_STORE, FieldError, read_body
from web.keys import CLOCK, CURRENT_LOGIN, DB, DB_READ


class WindowIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    window: Annotated[
        dict[
            Annotated[str, StringConstraints(min_length=3, max_length=3)],
            Annotated[str, StringConstraints(max_length=11)] | None,
        ],
        Field(max_length=7),
    ] | None


def _campaign_json(c: Campaign) -> dict[str, Any]:
    return {
        "id": c.id, "name": c.name, "status": getattr(c.status, "value", c.status),
        "mode": getattr(c.mode, "value", c.mode), "max_dial_level": c.max_dial_level, "abandon_cap": c.abandon_cap,
        "amd_enabled": c.amd_enabled, "window_override": c.window_override, "script_key": c.script_key,
    }


# ---------------------------------------------------------------- pages


@requires(*MANAGERS)
async def campaigns_page(request: web.Request) -> web.Response:
    """``GET /supervisor/campanhas``: every campaign, with start / pause / stop and a link to its page."""
    return render_page(request, "supervisor_campanhas.html", {"me": request[CURRENT_LOGIN]})


@requires(*MANAGERS)
async def campaign_page(request: web.Request) -> web.Response:
    """``GET /supervisor/campanhas/{campaign_id}``: one campaign steered from the page."""
    try:
        campaign_id = campaign_id_of(request)
    except FieldError:
        raise web.HTTPNotFound() from None
    async with request.app[DB_READ]() as db:
        campaign = await db.get(Campaign, campaign_id)
        name = None if campaign is None else campaign.name
    if name is None:
        raise web.HTTPNotFound()
    return render_page(request, "supervisor_campanha.html",
                       {"me": request[CURRENT_LOGIN], "campaign_id": campaign_id, "campaign_name": name})


# ---------------------------------------------------------------- the campaign and its window


@requires(*MANAGERS)
async def get_campaign(request: web.Request) -> web.Response:
    """``GET /api/v1/campaigns/{id}``: stored settings (status, mode, limits, window override, script)."""
    campaign_id = campaign_id_of(request)
    async with request.app[DB_READ]() as db:
        campaign = await db.get(Campaign, campaign_id)
        if campaign is None:
            raise no_campaign(campaign_id)
        body = _campaign_json(campaign)
    return web.json_response(body, headers=NO_STORE)


@requires(*MANAGERS)
async def put_window(request: web.Request) -> web.Response:
    """``PUT /api/v1/campaigns/{id}/window``: the campaign's calling-window override (audited)."""
    user_id = user_id_of(request)
    campaign_id = campaign_id_of(request)
    body = await read_body(request, WindowIn)
    try:
        window = None if body.window is None else normalise_window(body.window)
    except WindowError as exc:
        raise FieldError.invalid(exc.field, f"{exc.field}: {exc.message}") from None
    if window is not None and not any(window.values()):
        raise FieldError.invalid("window", "window: abra ao menos um dia, ou envie null para tirar a restrição")
    now = request.app[CLOCK]()
    async with request.app[DB].begin() as db:
        changed = await set_window_override(db, campaign_id, window)
        if changed is None:
            raise no_campaign(campaign_id)
        # a wider window: leads held back until the old one opened may be called now
        rechecked = await recheck_deferred_leads(db, campaign_id, now=now) if widens(changed[0], window) else 0
        await record(db, user_id=user_id, action="campaign.window", entity="campaign", entity_id=campaign_id,
                     before={"window": changed[0]}, after={"window": window, "leads_rechecked": rechecked}, at=now)
    await notify_dialer(runtime_of(request), campaign_id)
    return web.json_response({"campaign_id": campaign_id, "window": window}, headers=NO_STORE)



def setup_campaign_console(app: web.Application) -> None:
    """Mount the campaign pages and their REST routes."""
    app.router.add_get("/supervisor/campanhas", campaigns_page, name="supervisor_campanhas")
    app.router.add_get("/supervisor/campanhas/{campaign_id}", campaign_page, name="supervisor_campanha")
    app.router.add_get("/api/v1/campaigns/{campaign_id}", get_campaign, name="api_campaign")
    app.router.add_put("/api/v1/campaigns/{campaign_id}/window", put_window, name="api_campaign_window")
    setup_boosts(app)
    setup_holds(app)
    setup_history(app)


__all__ = ["BoostPreviewIn", "BulkBoostIn", "CampaignHoldIn", "WindowIn", "setup_campaign_console"]
