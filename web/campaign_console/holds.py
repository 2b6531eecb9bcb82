"""Holds of a campaign's customers from its page: ``GET/POST /api/v1/campaigns/{id}/holds`` (by the
customer's external id) and ``DELETE .../holds/{hold_id}``; audited on the campaign."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from storage.errors import InvalidValue, NotFound
from storage.models import Campaign, HoldKind
from storage.repositories.audit import record
from storage.repositories.portfolio import release_hold, set_hold
from storage.repositories.steering import (
    campaign_customer,
    campaign_holds,
    hold_customer_in_campaign,
)
from web.auth.access import requires
from web.campaign_console.common import (
    MANAGERS,
    campaign_id_of,
    no_campaign,
    user_id_of,
)
from web.errors import NO_STORE, FieldError, path_id, read_body
from web.keys import CLOCK, DB, DB_READ


class CampaignHoldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    external_id: str = Field(min_length=1, max_length=64)
    kind: HoldKind
    reason: str = Field(min_length=1, max_length=200)
    until: datetime | None = None



# ---------------------------------------------------------------- holds


@requires(*MANAGERS)
async def list_holds(request: web.Request) -> web.Response:
    """``GET /api/v1/campaigns/{id}/holds``: active suspensions of the campaign's customers."""
    campaign_id = campaign_id_of(request)
    async with request.app[DB_READ]() as db:
        if await db.get(Campaign, campaign_id) is None:
            raise no_campaign(campaign_id)
        holds = await campaign_holds(db, campaign_id, now=request.app[CLOCK]())
    return web.json_response({"campaign_id": campaign_id, "items": [h.as_dict() for h in holds]}, headers=NO_STORE)


@requires(*MANAGERS)
async def add_hold(request: web.Request) -> web.Response:
    """``POST /api/v1/campaigns/{id}/holds``: suspend a customer of the campaign (audited)."""
    user_id = user_id_of(request)
    campaign_id = campaign_id_of(request)
    body = await read_body(request, CampaignHoldIn)
    if body.until is not None and body.until.tzinfo is None:
        raise FieldError.invalid("until", "until: informe o fuso horário (ex.: 2026-05-01T18:00:00-03:00)")
    now = request.app[CLOCK]()
    async with request.app[DB]() as db:
        if await db.get(Campaign, campaign_id) is None:
            raise no_campaign(campaign_id)
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
    user_id = user_id_of(request)
    campaign_id = campaign_id_of(request)
    hold_id = path_id(request, "hold_id", "suspensão")
    now = request.app[CLOCK]()
    async with request.app[DB]() as db:
        if await db.get(Campaign, campaign_id) is None:
            raise no_campaign(campaign_id)
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



def setup_holds(app: web.Application) -> None:
    app.router.add_get("/api/v1/campaigns/{campaign_id}/holds", list_holds, name="api_campaign_holds")
    app.router.add_post("/api/v1/campaigns/{campaign_id}/holds", add_hold, name="api_campaign_holds_post")
    app.router.add_delete("/api/v1/campaigns/{campaign_id}/holds/{hold_id}", remove_hold,
                          name="api_campaign_hold_delete")


__all__ = ["CampaignHoldIn", "setup_holds"]
