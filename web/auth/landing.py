"""Each role's home page after login, and the JSON "who am I" endpoints.

These pages are deliberately plain: they say who is logged in, with which role, and what
this version of Cobra offers them. The agent desktop, the supervisor console and the QA
screens are built on these routes later.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from storage.models import Role, User
from web.auth.access import ALL_ROLES, ROLE_LABEL, requires
from web.auth.accounts import list_accounts
from web.auth.responses import render_page
from web.auth.sessions import CurrentLogin
from web.keys import CURRENT_LOGIN, DB_READ


def _me(request: web.Request) -> CurrentLogin:
    login = request[CURRENT_LOGIN]
    if login is None:  # the middleware lets no anonymous request reach these handlers
        raise web.HTTPUnauthorized()
    return login


@requires(Role.ADMIN)
async def admin_home(request: web.Request) -> web.Response:
    async with request.app[DB_READ]() as db:
        users = await list_accounts(db)
    return render_page(request, "home_admin.html", {"me": _me(request), "users": users})


def _user_json(user: User) -> dict[str, Any]:
    return {
        "login": user.login,
        "name": user.full_name,
        "role": Role(user.role).value,
        "extension": user.extension,
        "endpoint": user.endpoint,
        "active": user.active,
    }


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


@requires(Role.ADMIN)
async def api_users(request: web.Request) -> web.Response:
    """``GET /api/v1/users``: every user (admins only)."""
    async with request.app[DB_READ]() as db:
        users = await list_accounts(db)
    return web.json_response({"users": [_user_json(u) for u in users]}, headers={"Cache-Control": "no-store"})


def add_landing_routes(app: web.Application) -> None:
    # /agente (the agent desktop) is mounted by web.agent.http.setup_agent
    # /supervisor (the supervisor console) is mounted by web.supervisor_console.http.setup_supervisor_console
    # /monitoria (quality monitoring) is mounted by web.qa.http.setup_qa
    app.router.add_get("/admin", admin_home, name="admin_home")
    app.router.add_get("/api/v1/me", api_me, name="api_me")
    app.router.add_get("/api/v1/users", api_users, name="api_users")
