"""What the campaign page's routes share: who may call them, and reading the campaign id and the caller."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from storage.models import Role
from web.agent.http import AGENT_DESK
from web.errors import FieldError, path_id
from web.keys import CURRENT_LOGIN

MANAGERS = (Role.SUPERVISOR, Role.ADMIN)


def campaign_id_of(request: web.Request) -> int:
    """The campaign id of the path; 422 naming ``campaign_id`` when malformed."""
    return path_id(request, "campaign_id", "campanha")


def user_id_of(request: web.Request) -> int:
    login = request[CURRENT_LOGIN]
    if login is None:  # the middleware lets no anonymous request reach here
        raise web.HTTPUnauthorized()
    return login.user_id


def no_campaign(campaign_id: int) -> FieldError:
    return FieldError.not_found("campaign_id", f"Campanha {campaign_id} não existe.")


def runtime_of(request: web.Request) -> Any:
    """The dialer running in this process, or None."""
    desk = request.app.get(AGENT_DESK)
    return None if desk is None else desk.runtime


__all__ = ["MANAGERS", "campaign_id_of", "no_campaign", "runtime_of", "user_id_of"]
