"""The auth middleware: who is logged in, may they open this route, does the request carry CSRF."""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from web.auth.access import access_of
from web.auth.csrf import SAFE_METHODS, submitted_token, tokens_match
from web.auth.responses import csrf_refused, forbidden, unauthenticated
from web.auth.sessions import CurrentLogin, load_session
from web.auth.settings import SESSION_COOKIE
from web.keys import AUTH, CURRENT_LOGIN, DB_READ

log = logging.getLogger(__name__)


async def current_login(request: web.Request) -> CurrentLogin | None:
    """The login behind the request's session cookie (looked up once per request)."""
    if CURRENT_LOGIN in request:
        return request[CURRENT_LOGIN]
    token = request.cookies.get(SESSION_COOKIE)
    login = None
    if token:
        # a read: it must not queue behind (or fail on) a writer's lock
        async with request.app[DB_READ]() as db:
            login = await load_session(db, token, now=request.app[AUTH].clock())
    request[CURRENT_LOGIN] = login
    return login


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.match_info.http_exception is not None:
        return await handler(request)  # 404/405: nothing to protect
    rule = access_of(request.match_info.route)
    if rule is None:
        # check_routes refuses this at startup; fail closed should a route be added later
        log.error("route %s %s has no access rule: refused", request.method, request.path)
        request[CURRENT_LOGIN] = None
        return forbidden(request)
    if rule.static:
        return await handler(request)
    login = await current_login(request)
    if not rule.public:
        if login is None:
            return unauthenticated(request)
        if not rule.allows(login.role):
            return forbidden(request)
    if request.method not in SAFE_METHODS and login is not None and not rule.own_csrf:
        if not tokens_match(login.csrf_token, await submitted_token(request)):
            return csrf_refused(request)
    return await handler(request)
