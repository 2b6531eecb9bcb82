"""Who may open which route: every handler declares it, and the app refuses to start otherwise.

``@public`` marks pages anyone may open (login); ``@requires(Role.X, ...)`` lists the roles
allowed. Static files are public. A route with no declaration is refused at startup
(``check_routes``) and, should one slip through, answered 403 by the middleware.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.web_urldispatcher import AbstractRoute

from storage.models import Role

H = TypeVar("H", bound=Callable[..., Any])

_ATTR = "__cobra_access__"

ALL_ROLES: tuple[Role, ...] = tuple(Role)

# Where each role lands after logging in
ROLE_HOME: dict[Role, str] = {
    Role.AGENT: "/agente",
    Role.SUPERVISOR: "/supervisor",
    Role.QA: "/monitoria",
    Role.ADMIN: "/admin",
}

ROLE_LABEL: dict[Role, str] = {
    Role.AGENT: "Operador(a) de cobrança",
    Role.SUPERVISOR: "Supervisor(a)",
    Role.QA: "Monitoria de qualidade",
    Role.ADMIN: "Administrador(a)",
}


@dataclass(frozen=True, slots=True)
class Access:
    """The rule of one route: the roles allowed (empty = public) and whether it checks CSRF itself."""

    roles: frozenset[Role]
    own_csrf: bool = False
    static: bool = False

    @property
    def public(self) -> bool:
        return not self.roles

    def allows(self, role: Role) -> bool:
        return self.public or role in self.roles


PUBLIC = Access(frozenset())
STATIC = Access(frozenset(), static=True)


def public(handler: H) -> H:
    """Anyone may open this route, logged in or not."""
    setattr(handler, _ATTR, PUBLIC)
    return handler


def public_with_own_csrf(handler: H) -> H:
    """Public, and the handler protects its own form (the login form, which has no session yet)."""
    setattr(handler, _ATTR, Access(frozenset(), own_csrf=True))
    return handler


def requires(*roles: Role) -> Callable[[H], H]:
    """Only logged-in users with one of ``roles`` may open this route."""
    if not roles:
        raise ValueError("requires() needs at least one role; use @public for open routes")
    rule = Access(frozenset(Role(r) for r in roles))

    def mark(handler: H) -> H:
        setattr(handler, _ATTR, rule)
        return handler

    return mark


def access_of(route: AbstractRoute) -> Access | None:
    """The rule declared for ``route``, None when it has none."""
    if isinstance(route.resource, web.StaticResource):
        return STATIC
    rule = getattr(route.handler, _ATTR, None)
    return rule if isinstance(rule, Access) else None


def unguarded_routes(app: web.Application) -> list[str]:
    """Routes of ``app`` that declare no access rule, as "METHOD /path" strings."""
    missing = []
    for route in app.router.routes():
        if access_of(route) is None:
            info = route.resource.canonical if route.resource is not None else "?"
            missing.append(f"{route.method} {info}")
    return missing


async def check_routes(app: web.Application) -> None:
    """Startup hook: refuse to serve if any route forgot to say who may open it."""
    missing = unguarded_routes(app)
    if missing:
        raise RuntimeError(
            "routes without an access rule (decorate their handlers with @public or @requires(...)): "
            + ", ".join(missing)
        )
