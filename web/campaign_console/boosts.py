"""Bulk boosts from the campaign page: ``POST /api/v1/campaigns/{id}/boosts/preview`` counts the live
leads a filter (aging buckets, balance range, UFs, tags, DDDs) matches; ``.../boosts/bulk`` boosts
them only if the count is still the one previewed (else 409), re-ranks them and audits it."""

from __future__ import annotations

from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import or_

from dialer.leads.hopper import brasilia_today, reprioritise_campaign
from dialer.leads.segments import MAX_BOOST, MIN_BOOST, SegmentError, parse_filter
from storage.models import Campaign
from storage.repositories.audit import record
from storage.repositories.segments import unranked_leads
from storage.repositories.steering import (
    boost_matching_leads,
    count_matching_leads,
    matching_leads,
)
from web.auth.access import requires
from web.campaign_console.common import (
    MANAGERS,
    campaign_id_of,
    no_campaign,
    user_id_of,
)
from web.errors import NO_STORE, FieldError, read_body
from web.keys import CLOCK, DB, DB_READ
from web.supervisor.api import FilterIn

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
    campaign_id = campaign_id_of(request)
    body = await read_body(request, BoostPreviewIn)
    parsed, ddds = _bulk_filter(body.filter)
    now = request.app[CLOCK]()
    async with request.app[DB_READ]() as db:
        if await db.get(Campaign, campaign_id) is None:
            raise no_campaign(campaign_id)
        count = await count_matching_leads(db, campaign_id, parsed, ddds, today=brasilia_today(now), now=now)
    return web.json_response({"campaign_id": campaign_id, "count": count,
                              "filter": _filter_record(parsed, ddds)}, headers=NO_STORE)


@requires(*MANAGERS)
async def bulk_boost(request: web.Request) -> web.Response:
    """``POST /api/v1/campaigns/{id}/boosts/bulk``: boost every matching live lead (audited; re-ranks)."""
    user_id = user_id_of(request)
    campaign_id = campaign_id_of(request)
    body = await read_body(request, BulkBoostIn)
    parsed, ddds = _bulk_filter(body.filter)
    now = request.app[CLOCK]()
    today = brasilia_today(now)
    async with request.app[DB]() as db:
        if await db.get(Campaign, campaign_id) is None:
            raise no_campaign(campaign_id)
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



def setup_boosts(app: web.Application) -> None:
    app.router.add_post("/api/v1/campaigns/{campaign_id}/boosts/preview", preview_boost, name="api_boosts_preview")
    app.router.add_post("/api/v1/campaigns/{campaign_id}/boosts/bulk", bulk_boost, name="api_boosts_bulk")


__all__ = ["BoostPreviewIn", "BulkBoostIn", "BulkFilterIn", "setup_boosts"]
