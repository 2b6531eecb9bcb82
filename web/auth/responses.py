"""Responses shared by the auth code and the pages: JSON errors, rendered pages, refusals."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from yarl import URL

from web.auth.access import ROLE_HOME, ROLE_LABEL
from web.auth.settings import CSRF_FIELD
from web.errors import error_response
from web.keys import CURRENT_LOGIN


def wants_json(request: web.Request) -> bool:
    """API calls and websocket upgrades get JSON errors; browser pages get HTML."""
    return request.path.startswith("/api/") or request.headers.get("Upgrade", "").lower() == "websocket"


def json_error(status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> web.Response:
    """The API's one error body (``web.errors``), ``field`` null, with ``status``; the message is pt-BR."""
    return error_response(status, code, message, headers=headers)


def page_context(request: web.Request, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What every page template can use: the current login, its CSRF token, role names and homes."""
    login = request.get(CURRENT_LOGIN)
    context: dict[str, Any] = {
        "current": login,
        "csrf_token": login.csrf_token if login else "",
        "csrf_field": CSRF_FIELD,
        "role_label": ROLE_LABEL,
        "role_home": ROLE_HOME,
    }
    if extra:
        context.update(extra)
    return context


def render_page(
    request: web.Request, template: str, context: Mapping[str, Any] | None = None, *, status: int = 200
) -> web.Response:
    response = aiohttp_jinja2.render_template(template, request, page_context(request, context), status=status)
    # Pages show personal data: never let a shared cache keep them
    response.headers["Cache-Control"] = "no-store"
    return response


def error_page(request: web.Request, status: int, title: str, message: str) -> web.Response:
    return render_page(request, "error.html", {"title": title, "message": message}, status=status)


def forbidden(request: web.Request) -> web.Response:
    login = request.get(CURRENT_LOGIN)
    role = ROLE_LABEL[login.role] if login else "visitante"
    if wants_json(request):
        return json_error(403, "forbidden", f"Seu perfil ({role}) não tem acesso a este recurso.")
    return error_page(request, 403, "Acesso negado", f"Seu perfil ({role}) não tem acesso a esta página.")


def redirect(location: str) -> web.Response:
    """A 303 to ``location`` (returned, not raised: aiohttp deprecates returning HTTPException)."""
    return web.Response(status=303, headers={"Location": location, "Cache-Control": "no-store"})


def unauthenticated(request: web.Request) -> web.Response:
    if wants_json(request):
        return json_error(401, "unauthenticated", "Sessão ausente ou expirada: faça login novamente.")
    if request.method in ("GET", "HEAD"):
        target = request.rel_url.path_qs
        return redirect("/login" if target == "/" else str(URL("/login").with_query(next=target)))
    return redirect("/login")


def csrf_refused(request: web.Request) -> web.Response:
    if wants_json(request):
        return json_error(403, "csrf", "Token CSRF ausente ou inválido: envie o cabeçalho X-CSRF-Token.")
    return error_page(
        request,
        403,
        "Formulário expirado",
        "Este formulário expirou ou não veio desta página. Recarregue e tente de novo.",
    )
