"""Campaigns steered from the supervisor's pages (SPEC §8): the pages and the REST routes they call.

Pages (supervisor, admin): ``/supervisor/campanhas`` (every campaign, start / pause / stop, mode)
and ``/supervisor/campanhas/{campaign_id}`` (pacing, calling window, script, segments, boosts,
holds, portfolio upload, change history). The page reuses the pacing, segments, boosts,
script, import and campaign-status routes; this module adds what they lacked:

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

from datetime import datetime
from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import or_

from dialer.leads.hopper import brasilia_today, reprioritise_campaign
from dialer.leads.segments import MAX_BOOST, MIN_BOOST, SegmentError, parse_filter
from storage.errors import InvalidValue, NotFound
from storage.models import Campaign, HoldKind, Role
from storage.repositories.audit import record
from storage.repositories.portfolio import release_hold, set_hold
from storage.repositories.segments import unranked_leads
from storage.repositories.steering import (
    boost_matching_leads,
    campaign_customer,
    campaign_holds,
    campaign_names,
    count_matching_leads,
    history,
    hold_customer_in_campaign,
    matching_leads,
    recheck_deferred_leads,
    set_window_override,
    user_names,
)
from web.agent.http import AGENT_DESK
from web.auth.access import requires
from web.auth.responses import render_page
from web.campaign_console.services import (
    WindowError,
    agent_ids,
    history_item,
    normalise_window,
    widens,
)
from web.campaigns.services import notify_dialer
from web.errors import NO_STORE, FieldError, path_id, read_body
from web.keys import CLOCK, CURRENT_LOGIN, DB, DB_READ
from web.supervisor.api import FilterIn

MANAGERS = (Role.SUPERVISOR, Role.ADMIN)
HISTORY_LIMIT = 50
MAX_HISTORY_LIMIT = 200


class WindowIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    window: Annotated[
        dict[
            Annotated[str, StringConstraints(min_length=3, max_length=3)],
            Annotated[str, StringConstraints(max_length=11)] | None,
        ],
        Field(max_length=7),
    ] | None


Ddd = Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]$")]


class BulkFilterIn(FilterIn):
    """A segment filter plus the DDDs of the customer's phones (any of them)."""

    ddds: list[Ddd] | None = Field(default=None, max_length=67)


class BoostPreviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filter: BulkFilterIn = Field(default_factory=BulkFilterIn)


class BulkBoostIn(BoostPreviewIn):
    boost: int = Field(ge=MIN_BOOST, le=MAX_BOOST)
    expected_count: int = Field(ge=0, le=2**31 - 1)


class CampaignHoldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    external_id: str = Field(min_length=1, max_length=64)
    kind: HoldKind
    reason: str = Field(min_length=1, max_length=200)
    until: datetime | None = None


def _campaign_id(request: web.Request) -> int:
    return path_id(request, "campaign_id", "campanha")


def _user_id(request: web.Request) -> int:
    login = request[CURRENT_LOGIN]
    if login is None:  # the middleware lets no anonymous request reach here
        raise web.HTTPUnauthorized()
    return login.user_id


def _no_campaign(campaign_id: int) -> FieldError:
    return FieldError.not_found("campaign_id", f"Campanha {campaign_id} não existe.")


def _runtime(request: web.Request) -> Any:
    desk = request.app.get(AGENT_DESK)
    return None if desk is None else desk.runtime


def _limit(request: web.Request) -> int:
    raw = request.query.get("limit", str(HISTORY_LIMIT))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_HISTORY_LIMIT:
        raise FieldError.invalid("limit", f"limit: deve ser um número de 1 a {MAX_HISTORY_LIMIT}")
    return int(raw)


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
        campaign_id = _campaign_id(request)
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
    campaign_id = _campaign_id(request)
    async with request.app[DB_READ]() as db:
        campaign = await db.get(Campaign, campaign_id)
        if campaign is None:
            raise _no_campaign(campaign_id)
        body = _campaign_json(campaign)
    return web.json_response(body, headers=NO_STORE)


@requires(*MANAGERS)
async def put_window(request: web.Request) -> web.Response:
    """``PUT /api/v1/campaigns/{id}/window``: the campaign's calling-window override (audited)."""
    user_id = _user_id(request)
    campaign_id = _campaign_id(request)
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
            raise _no_campaign(campaign_id)
        # a wider window: leads held back until the old one opened may be called now
        rechecked = await recheck_deferred_leads(db, campaign_id, now=now) if widens(changed[0], window) else 0
        await record(db, user_id=user_id, action="campaign.window", entity="campaign", entity_id=campaign_id,
                     before={"window": changed[0]}, after={"window": window, "leads_rechecked": rechecked}, at=now)
    await notify_dialer(_runtime(request), campaign_id)
    return web.json_response({"campaign_id": campaign_id, "window": window}, headers=NO_STORE)


# ---------------------------------------------------------------- bulk boosts


def _bulk_filter(flt: BulkFilterIn) -> tuple[dict[str, Any], list[str]]:
    """The validated segment filter (``parse_filter``) and the DDDs."""
    data = flt.as_filter()
    ddds = sorted(set(data.pop("ddds", None) or []))
    try:
        parsed = parse_filter(data, "filter").to_json()
    except SegmentError as exc:
        raise FieldError.invalid(exc.field, f"{exc.field}: {exc.message}") from None
    return parsed, ddds


def _filter_record(parsed: dict[str, Any], ddds: list[str]) -> dict[str, Any]:
    return {**parsed, **({"ddds": ddds} if ddds else {})}


@requires(*MANAGERS)
async def preview_boost(request: web.Request) -> web.Response:
    """``POST /api/v1/campaigns/{id}/boosts/preview``: how many live leads match the filter."""
    campaign_id = _campaign_id(request)
    body = await read_body(request, BoostPreviewIn)
    parsed, ddds = _bulk_filter(body.filter)
    now = request.app[CLOCK]()
    async with request.app[DB_READ]() as db:
        if await db.get(Campaign, campaign_id) is None:
            raise _no_campaign(campaign_id)
        count = await count_matching_leads(db, campaign_id, parsed, ddds, today=brasilia_today(now), now=now)
    return web.json_response({"campaign_id": campaign_id, "count": count,
                              "filter": _filter_record(parsed, ddds)}, headers=NO_STORE)


@requires(*MANAGERS)
async def bulk_boost(request: web.Request) -> web.Response:
    """``POST /api/v1/campaigns/{id}/boosts/bulk``: boost every matching live lead (audited; re-ranks)."""
    user_id = _user_id(request)
    campaign_id = _campaign_id(request)
    body = await read_body(request, BulkBoostIn)
    parsed, ddds = _bulk_filter(body.filter)
    now = request.app[CLOCK]()
    today = brasilia_today(now)
    async with request.app[DB]() as db:
        if await db.get(Campaign, campaign_id) is None:
            raise _no_campaign(campaign_id)
        count = await count_matching_leads(db, campaign_id, parsed, ddds, today=today, now=now)
        if count != body.expected_count:
            raise FieldError.conflict(f"A contagem mudou: agora são {count} contas, não {body.expected_count}. "
                                      "Confira a prévia e aplique de novo.", field="expected_count")
        changed, before = await boost_matching_leads(db, campaign_id, parsed, ddds, body.boost, today=today, now=now)
        # the boosted leads, and any lead never ranked on the segment scale (priority 0 would outrank them)
        matched = matching_leads(campaign_id, parsed, ddds, today=today, now=now)
        await reprioritise_campaign(db, campaign_id, now=now, only=or_(matched, unranked_leads()))
        await record(db, user_id=user_id, action="boosts.bulk", entity="campaign", entity_id=campaign_id,
                     before={"boosts": before},
                     after={"filter": _filter_record(parsed, ddds), "boost": body.boost, "count": changed}, at=now)
        await db.commit()
    return web.json_response({"campaign_id": campaign_id, "count": changed, "boost": body.boost}, headers=NO_STORE)


# ---------------------------------------------------------------- holds


@requires(*MANAGERS)
async def list_holds(request: web.Request) -> web.Response:
    """``GET /api/v1/campaigns/{id}/holds``: active suspensions of the campaign's customers."""
    campaign_id = _campaign_id(request)
    async with request.app[DB_READ]() as db:
        if await db.get(Campaign, campaign_id) is None:
            raise _no_campaign(campaign_id)
        holds = await campaign_holds(db, campaign_id, now=request.app[CLOCK]())
    return web.json_response({"campaign_id": campaign_id, "items": [h.as_dict() for h in holds]}, headers=NO_STORE)


@requires(*MANAGERS)
async def add_hold(request: web.Request) -> web.Response:
    """``POST /api/v1/campaigns/{id}/holds``: suspend a customer of the campaign (audited)."""
    user_id = _user_id(request)
    campaign_id = _campaign_id(request)
    body = await read_body(request, CampaignHoldIn)
    if body.until is not None and body.until.tzinfo is None:
        raise FieldError.invalid("until", "until: informe o fuso horário (ex.: 2026-05-01T18:00:00-03:00)")
    now = request.app[CLOCK]()
    async with request.app[DB]() as db:
        if await db.get(Campaign, campaign_id) is None:
            raise _no_campaign(campaign_id)
        customer_id = await campaign_customer(db, campaign_id, body.external_id)
        if customer_id is None:
            raise FieldError.invalid("external_id", "external_id: nenhum cliente com esse código nesta campanha")
        try:
            hold = await set_hold(db, customer_id, kind=body.kind, reason=body.reason, until=body.until,
                                  set_by_id=user_id, now=now)
        except InvalidValue as exc:
            if "until" in str(exc):
                raise FieldError.invalid("until", "until: deve estar no futuro") from None
            raise FieldError.invalid("reason", "reason: não pode ser vazio") from None
        after = {**hold.as_dict(), "external_id": body.external_id}
        await record(db, user_id=user_id, action="hold.set", entity="campaign", entity_id=campaign_id,
                     before=None, after=after, at=now)
        await db.commit()
    return web.json_response(after, status=201, headers=NO_STORE)


@requires(*MANAGERS)
async def remove_hold(request: web.Request) -> web.Response:
    """``DELETE /api/v1/campaigns/{id}/holds/{hold_id}``: end a suspension (audited)."""
    user_id = _user_id(request)
    campaign_id = _campaign_id(request)
    hold_id = path_id(request, "hold_id", "suspensão")
    now = request.app[CLOCK]()
    async with request.app[DB]() as db:
        if await db.get(Campaign, campaign_id) is None:
            raise _no_campaign(campaign_id)
        customer_id = await hold_customer_in_campaign(db, campaign_id, hold_id)
        if customer_id is None:
            raise FieldError.not_found("hold_id", f"A campanha {campaign_id} não tem a suspensão {hold_id}.")
        try:
            hold = await release_hold(db, customer_id, hold_id, released_by_id=user_id, now=now)
        except (NotFound, InvalidValue):
            raise FieldError.conflict(f"A suspensão {hold_id} já foi encerrada.", field="hold_id") from None
        after = hold.as_dict()
        await record(db, user_id=user_id, action="hold.release", entity="campaign", entity_id=campaign_id,
                     before={**after, "released_at": None}, after=after, at=now)
        await db.commit()
    return web.json_response(after, headers=NO_STORE)


# ---------------------------------------------------------------- history


@requires(*MANAGERS)
async def campaign_history(request: web.Request) -> web.Response:
    """``GET /api/v1/campaigns/{id}/history``: every audited change of the campaign, newest first."""
    campaign_id = _campaign_id(request)
    limit = _limit(request)
    async with request.app[DB_READ]() as db:
        if await db.get(Campaign, campaign_id) is None:
            raise _no_campaign(campaign_id)
        rows = await history(db, entities=("campaign",), entity_id=str(campaign_id), limit=limit)
        names = await campaign_names(db)
    return web.json_response({"campaign_id": campaign_id, "items": [history_item(r, names) for r in rows]},
                             headers=NO_STORE)


@requires(*MANAGERS)
async def floor_history(request: web.Request) -> web.Response:
    """``GET /api/v1/floor/history``: the newest changes on the floor (campaigns, monitoring), newest first."""
    limit = _limit(request)
    async with request.app[DB_READ]() as db:
        rows = await history(db, entities=("campaign", "agent"), limit=limit)
        names = await campaign_names(db)
        agents = await user_names(db, agent_ids(rows))
    return web.json_response({"items": [history_item(r, names, agents) for r in rows]}, headers=NO_STORE)


def setup_campaign_console(app: web.Application) -> None:
    """Mount the campaign pages and their REST routes."""
    app.router.add_get("/supervisor/campanhas", campaigns_page, name="supervisor_campanhas")
    app.router.add_get("/supervisor/campanhas/{campaign_id}", campaign_page, name="supervisor_campanha")
    app.router.add_get("/api/v1/campaigns/{campaign_id}", get_campaign, name="api_campaign")
    app.router.add_put("/api/v1/campaigns/{campaign_id}/window", put_window, name="api_campaign_window")
    app.router.add_post("/api/v1/campaigns/{campaign_id}/boosts/preview", preview_boost, name="api_boosts_preview")
    app.router.add_post("/api/v1/campaigns/{campaign_id}/boosts/bulk", bulk_boost, name="api_boosts_bulk")
    app.router.add_get("/api/v1/campaigns/{campaign_id}/holds", list_holds, name="api_campaign_holds")
    app.router.add_post("/api/v1/campaigns/{campaign_id}/holds", add_hold, name="api_campaign_holds_post")
    app.router.add_delete("/api/v1/campaigns/{campaign_id}/holds/{hold_id}", remove_hold,
                          name="api_campaign_hold_delete")
    app.router.add_get("/api/v1/campaigns/{campaign_id}/history", campaign_history, name="api_campaign_history")
    app.router.add_get("/api/v1/floor/history", floor_history, name="api_floor_history")


__all__ = ["BoostPreviewIn", "BulkBoostIn", "CampaignHoldIn", "WindowIn", "setup_campaign_console"]
