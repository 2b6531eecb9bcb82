"""The admin page ``/admin`` and the users API (admins only; SPEC §11).

- ``GET /api/v1/users``: ``{"users": [...]}``, by role then login; each has ``id``, ``login``,
  ``name``, ``role``, ``role_label``, ``extension``, ``endpoint``, ``active``.
- ``POST /api/v1/users`` (:class:`UserIn`): 201 ``{"user", "password", ...}``; ``password`` is
  the generated one when the body had none (shown once: only its hash is stored), else null.
- ``PATCH /api/v1/users/{user_id}`` (:class:`UserPatch`): role, name, extension, endpoint
  (null removes it), active. A role or phone change and a disable end the user's sessions.
- ``POST /api/v1/users/{user_id}/password`` (:class:`PasswordIn`): set or generate a password;
  the user's sessions end.

Every change is audited (``user.add``, ``user.change``, ``user.disable``, ``user.enable``,
``user.passwd``, source "api", by the admin) by the same services ``cobra user`` calls, and
needs the session's CSRF token (``X-CSRF-Token``), as every state-changing request does.
"""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from storage.models import Role
from web.auth.access import requires
from web.auth.responses import render_page
from web.auth.sessions import CurrentLogin
from web.errors import NO_STORE, FieldError, path_id, read_body
from web.keys import AUTH, CLOCK, CURRENT_LOGIN, DB, DB_READ
from web.users.services import (
    NewUser,
    UserEdit,
    all_users,
    create_user,
    reset_password,
    update_user,
    user_item,
)

MAX_LOGIN = 64
MAX_NAME = 120
MAX_EXTENSION = 10
MAX_ENDPOINT = 120
MAX_PASSWORD = 256


class UserIn(BaseModel):
    """A new user; without ``password`` Cobra generates one and answers it once."""

    model_config = ConfigDict(extra="forbid")
    login: str = Field(min_length=1, max_length=MAX_LOGIN)
    role: Role
    name: str | None = Field(default=None, min_length=1, max_length=MAX_NAME)
    extension: str | None = Field(default=None, min_length=1, max_length=MAX_EXTENSION)
    endpoint: str | None = Field(default=None, min_length=1, max_length=MAX_ENDPOINT)
    password: str | None = Field(default=None, min_length=1, max_length=MAX_PASSWORD)


class UserPatch(BaseModel):
    """A change to a user: fields left out stay as they are; ``extension``/``endpoint`` null removes them."""

    model_config = ConfigDict(extra="forbid")
    role: Role | None = None
    name: str | None = Field(default=None, min_length=1, max_length=MAX_NAME)
    extension: str | None = Field(default=None, min_length=1, max_length=MAX_EXTENSION)
    endpoint: str | None = Field(default=None, min_length=1, max_length=MAX_ENDPOINT)
    active: bool | None = None


class PasswordIn(BaseModel):
    """A new password; left out, Cobra generates one and answers it once."""

    model_config = ConfigDict(extra="forbid")
    password: str | None = Field(default=None, min_length=1, max_length=MAX_PASSWORD)


def _me(request: web.Request) -> CurrentLogin:
    login = request[CURRENT_LOGIN]
    if login is None:  # the middleware lets no anonymous request reach these handlers
        raise web.HTTPUnauthorized()
    return login


def _user_id(request: web.Request) -> int:
    return path_id(request, "user_id", "usuário")


@requires(Role.ADMIN)
async def admin_page(request: web.Request) -> web.Response:
    """``GET /admin``: the users, and the forms to create and change them (``static/admin.js``)."""
    users = await all_users(request.app[DB_READ])
    return render_page(request, "home_admin.html", {"me": _me(request), "users": users, "roles": list(Role)})


@requires(Role.ADMIN)
async def list_users(request: web.Request) -> web.Response:
    users = await all_users(request.app[DB_READ])
    return web.json_response({"users": [user_item(u) for u in users]}, headers=NO_STORE)


@requires(Role.ADMIN)
async def post_user(request: web.Request) -> web.Response:
    body = await read_body(request, UserIn)
    new = NewUser(body.login, body.role, body.name, body.extension, body.endpoint, body.password)
    outcome = await create_user(
        request.app[DB], request.app[AUTH], new, actor_id=_me(request).user_id, at=request.app[CLOCK]()
    )
    return web.json_response(outcome.as_dict(), status=201, headers=NO_STORE)


@requires(Role.ADMIN)
async def patch_user(request: web.Request) -> web.Response:
    user_id = _user_id(request)
    body = await read_body(request, UserPatch)
    sent = body.model_fields_set
    for key in ("role", "name", "active"):
        if key in sent and getattr(body, key) is None:
            raise FieldError.invalid(key, f"{key}: não pode ser null")
    edit = UserEdit(
        role=body.role,
        name=body.name,
        extension=body.extension,
        endpoint=body.endpoint,
        clear_extension="extension" in sent and body.extension is None,
        clear_endpoint="endpoint" in sent and body.endpoint is None,
        active=body.active,
    )
    outcome = await update_user(request.app[DB], user_id, edit, actor_id=_me(request).user_id, at=request.app[CLOCK]())
    return web.json_response(outcome.as_dict(), headers=NO_STORE)


@requires(Role.ADMIN)
async def post_password(request: web.Request) -> web.Response:
    user_id = _user_id(request)
    body = await read_body(request, PasswordIn)
    outcome = await reset_password(
        request.app[DB], request.app[AUTH], user_id, body.password, actor_id=_me(request).user_id,
        at=request.app[CLOCK](),
    )
    return web.json_response(outcome.as_dict(), headers=NO_STORE)


def setup_users(app: web.Application) -> None:
    """Mount the admin page and the users API."""
    app.router.add_get("/admin", admin_page, name="admin_home")
    app.router.add_get("/api/v1/users", list_users, name="api_users")
    app.router.add_post("/api/v1/users", post_user, name="api_users_create")
    app.router.add_patch("/api/v1/users/{user_id}", patch_user, name="api_user_patch")
    app.router.add_post("/api/v1/users/{user_id}/password", post_password, name="api_user_password")


__all__ = ["PasswordIn", "UserIn", "UserPatch", "setup_users"]
