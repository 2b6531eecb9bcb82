"""Error pages in pt-BR, in the product's layout, for everything a browser opens outside ``/api/``.

aiohttp answers an unknown URL, a wrong method or a crashed handler with its own English
plain text ("404: Not Found"). Pages answer with ``error.html`` instead: a title and a
sentence in Portuguese, the navigation bar of whoever is logged in, and a way back.
``/api/`` keeps the JSON error shape of :mod:`web.errors`, websocket upgrades and static
files keep aiohttp's answers (no person reads them).
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from aiohttp.typedefs import Handler
from sqlalchemy.exc import SQLAlchemyError

from web.auth.middleware import current_login
from web.auth.responses import error_page, wants_json
from web.keys import CURRENT_LOGIN

log = logging.getLogger(__name__)

STATIC_PREFIX = "/static/"

# status → (title, message); "{path}" and "{method}" are filled in
PAGES: dict[int, tuple[str, str]] = {
    400: ("Requisição inválida", "O navegador enviou algo que o Cobra não entende. Recarregue a página e tente de novo."),
    403: ("Acesso negado", "Você não tem acesso a esta página."),
    404: ("Página não encontrada", "O endereço {path} não existe no Cobra. Confira o link ou volte ao início."),
    405: ("Operação não permitida", "Este endereço não aceita esta operação ({method})."),
    413: ("Envio grande demais", "O que foi enviado passa do limite aceito pelo Cobra."),
    500: (
        "Erro interno",
        "Algo deu errado do nosso lado e a operação não foi concluída. Tente de novo; se continuar, avise o suporte.",
    ),
}
GENERIC = ("Erro", "A página não pôde ser aberta (erro {status}).")


def _is_page(request: web.Request) -> bool:
    return not wants_json(request) and not request.path.startswith(STATIC_PREFIX)


async def _render(request: web.Request, status: int) -> web.Response:
    if CURRENT_LOGIN not in request:
        # an unknown URL never reached the auth middleware's lookup: find who it is for the navigation bar
        try:
            await current_login(request)
        except (SQLAlchemyError, OSError):  # the error page must render even when the database is what failed
            request[CURRENT_LOGIN] = None
    title, message = PAGES.get(status, GENERIC)
    text = message.format(path=request.path, method=request.method, status=status)
    return error_page(request, status, title, text)


@web.middleware
async def error_pages_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer a page's 4xx/5xx with ``error.html`` in pt-BR; leave ``/api/``, sockets and static files alone."""
    if not _is_page(request):
        return await handler(request)
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or exc.status in (401, 429, 503):
            raise  # redirects; and answers that carry their own meaning (login, Retry-After)
        response = await _render(request, exc.status)
        allow = exc.headers.get("Allow")
        if allow:
            response.headers["Allow"] = allow
        return response
    except (asyncio.CancelledError, ConnectionResetError):
        raise  # the client went away: nobody to answer
    except Exception:
        log.exception("unexpected error in %s %s", request.method, request.path)
        return await _render(request, 500)


__all__ = ["error_pages_middleware"]
