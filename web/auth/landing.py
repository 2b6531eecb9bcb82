"""Each role's home page after login, and the JSON "who am I" endpoints.

These pages are deliberately plain: they say who is logged in, with which role, and what
this version of Cobra offers them. The agent desktop, the supervisor console and the QA
screens are built on these routes later.
"""

from __future__ import annotations

from aiohttp import web

from web.auth.access import ALL_ROLES, ROLE_LABEL, requires
from web.auth.sessions import CurrentLogin
from web.keys import CURRENT_LOGIN


def _me(request: web.Request) -> CurrentLogin:
    login = request[CURRENT_LOGIN]
    if login is None:  # the middleware lets no anonymous request reach these handlers
        raise web.HTTPUnauthorized()
    return login




@requires(*ALL_ROLES)
async def api_me(request: web.Request) -> web.Response:
    """``GET /api/v1/me``: the logged-in user, and the CSRF token their scripts send back."""
    me = _me(request)
    return web.json_response(
        {
            "login": me.login,
            "name": me.full_name,
            "role": me.role.value,
            "role_label": ROLE_LABEL[me.role],
            "extension": me.extension,
            "endpoint": me.endpoint,
            "csrf_token": me.csrf_token,
            "session_expires_at": me.expires_at.isoformat(),
        },
        headers={"Cache-Control": "no-store"},
    )


def add_landing_routes(app: web.Application) -> None:
    # /agente (the agent desktop) is mounted by web.agent.http.setup_agent
    # /supervisor (the supervisor console) is mounted by web.supervisor_console.http.setup_supervisor_console
    # /admin and /api/v1/users (users managed by admins) are mounted by web.users.http.setup_users
    # /monitoria (quality monitoring) is mounted by web.qa.http.setup_qa
    app.router.add_get("/api/v1/me", api_me, name="api_me")
