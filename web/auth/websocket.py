"""Authenticating websocket upgrades: session cookie AND Origin (SPEC §6, §11).

Browsers send cookies on cross-site websocket handshakes and the same-origin policy
does not apply to websockets, so without the Origin check any page the agent opens could
drive their socket ("cross-site websocket hijacking").
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from aiohttp import web
from yarl import URL

from storage.models import Role
from web.auth.access import ALL_ROLES, ROLE_LABEL
from web.auth.middleware import current_login
from web.auth.sessions import CurrentLogin
from web.keys import AUTH, CONFIG

Origin = tuple[str, str, int]


def parse_origin(value: str) -> Origin | None:
    """(scheme, host, port) of an ``Origin`` value, None if it is not an http(s) origin."""
    try:
        url = URL(value.strip())
    except ValueError:
        return None
    if url.scheme not in ("http", "https") or not url.host or url.path not in ("", "/") or url.query_string:
        return None
    port = url.port
    if port is None:
        return None
    return (url.scheme, url.host.lower().rstrip("."), port)


def own_origin(request: web.Request) -> Origin | None:
    """The origin browsers use for this server: the Host they asked for, https if we are behind TLS."""
    secure = request.secure or request.app[AUTH].settings.secure_cookies
    return parse_origin(f"{'https' if secure else 'http'}://{request.host}")


def origin_allowed(request: web.Request, allowed_origins: Sequence[str]) -> bool:
    """True when the request's ``Origin`` is the server's own or one of ``allowed_origins``."""
    given = request.headers.get("Origin")
    if not given:
        return False
    origin = parse_origin(given)
    if origin is None:
        return False
    if origin == own_origin(request):
        return True
    return any(origin == parse_origin(extra) for extra in allowed_origins)


def _refusal(exc_class: type[web.HTTPException], code: str, message: str) -> web.HTTPException:
    body = json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False)
    return exc_class(text=body, content_type="application/json")


async def authenticate_websocket(request: web.Request, roles: Iterable[Role] = ALL_ROLES) -> CurrentLogin:
    """Who opens this websocket; raises 403 for a foreign Origin or a role not in ``roles``, 401 without a session.

    Call it in the handler before ``WebSocketResponse.prepare``.
    """
    if not origin_allowed(request, request.app[CONFIG].web.allowed_origins):
        raise _refusal(web.HTTPForbidden, "bad_origin", "Origem da conexão não permitida.")
    login = await current_login(request)
    if login is None:
        raise _refusal(web.HTTPUnauthorized, "unauthenticated", "Sessão ausente ou expirada: faça login novamente.")
    allowed = frozenset(roles)
    if login.role not in allowed:
        raise _refusal(
            web.HTTPForbidden, "forbidden", f"Seu perfil ({ROLE_LABEL[login.role]}) não tem acesso a este recurso."
        )
    return login
