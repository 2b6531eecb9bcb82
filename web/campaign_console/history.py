"""The change history, told in pt-BR from the audit log: ``GET /api/v1/campaigns/{id}/history`` (one
campaign) and ``GET /api/v1/floor/history`` (campaigns and monitoring), newest first, ``?limit=`` 1..200."""

from __future__ import annotations

from aiohttp import web

from storage.models import Campaign
from storage.repositories.steering import (
    campaign_names,
    history,
    user_names,
)
from web.auth.access import requires
from web.campaign_console.common import (
    MANAGERS,
    campaign_id_of,
    no_campaign,
)
from web.campaign_console.services import (
    agent_ids,
    history_item,
)
from web.errors import NO_STORE, FieldError
from web.keys import DB_READ

HISTORY_LIMIT = 50
MAX_HISTORY_LIMIT = 200


def _limit(request: web.Request) -> int:
    raw = request.query.get("limit", str(HISTORY_LIMIT))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_HISTORY_LIMIT:
        raise FieldError.invalid("limit", f"limit: deve ser um número de 1 a {MAX_HISTORY_LIMIT}")
    return int(raw)



# ---------------------------------------------------------------- history


@requires(*MANAGERS)
async def campaign_history(request: web.Request) -> web.Response:
    """``GET /api/v1/campaigns/{id}/history``: every audited change of the campaign, newest first."""
    campaign_id = campaign_id_of(request)
    limit = _limit(request)
    async with request.app[DB_READ]() as db:
        if await db.get(Campaign, campaign_id) is None:
            raise no_campaign(campaign_id)
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



def setup_history(app: web.Application) -> None:
    app.router.add_get("/api/v1/campaigns/{campaign_id}/history", campaign_history, name="api_campaign_history")
    app.router.add_get("/api/v1/floor/history", floor_history, name="api_floor_history")


__all__ = ["setup_history"]
