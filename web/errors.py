"""One JSON error body for the REST API: ``{"error": {"code", "message", "field"}}``.

Every route under ``/api/`` answers its errors in this shape. ``code`` is for programs (a
short English word: ``invalid``, ``not_found``, ``conflict``, ...), ``message`` is for people
(pt-BR), ``field`` names what was wrong (a path parameter, a body field as a dotted path with
list items as ``[i]``, e.g. ``segments[1].weight``) or is null.

Handlers are parse → service → response: they (or the parsing helpers here) raise
:class:`FieldError`, and :func:`api_error_middleware` turns it into its response. Any other
exception escaping an ``/api/`` handler becomes a logged 500 in the same shape, and aiohttp's
own HTTP errors there (unknown path, wrong method, body too large) are answered in it too.
Pages (everything outside ``/api/``) keep their own error handling.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Mapping
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.typedefs import Handler
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

log = logging.getLogger(__name__)

API_PREFIX = "/api/"
NO_STORE = {"Cache-Control": "no-store"}
# ASCII digits only (str.isdigit also takes other scripts' digits); ids are PostgreSQL INTEGERs
_ID = re.compile(r"[0-9]{1,10}")
MAX_ID = 2**31 - 1

M = TypeVar("M", bound=BaseModel)


def error_body(code: str, message: str, field: str | None = None) -> dict[str, dict[str, str | None]]:
    """The one error body: ``{"error": {"code": ..., "message": ..., "field": ...}}``."""
    return {"error": {"code": code, "message": message, "field": field}}


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    field: str | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> web.Response:
    """The one error body as a JSON response with ``status`` (never cached)."""
    body: dict[str, Any] = {**(extra or {}), **error_body(code, message, field)}
    return web.json_response(body, status=status, headers={**NO_STORE, **(headers or {})})


class FieldError(Exception):
    """A request the API refuses, naming the field at fault (or none).

    ``headers`` are added to the response (e.g. ``Retry-After``); ``extra`` are other top-level
    keys of the body next to ``error`` (the script editor's ``errors`` list).
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})

    @classmethod
    def invalid(cls, field: str | None, message: str, *, extra: Mapping[str, Any] | None = None) -> FieldError:
        """422: ``field`` is malformed (the request can never succeed as sent); None: the whole body."""
        return cls(422, "invalid", message, field=field, extra=extra)

    @classmethod
    def not_found(cls, field: str, message: str) -> FieldError:
        """404: ``field`` is well-formed but names nothing that exists."""
        return cls(404, "not_found", message, field=field)

    @classmethod
    def conflict(cls, message: str, *, field: str | None = None) -> FieldError:
        """409: the request clashes with the current state (already done, done by someone else meanwhile)."""
        return cls(409, "conflict", message, field=field)

    @classmethod
    def forbidden(cls, message: str, *, code: str = "forbidden") -> FieldError:
        """403: this login may not do this (``code`` "csrf" when the CSRF token is missing or wrong)."""
        return cls(403, code, message)

    @classmethod
    def unauthenticated(cls, message: str) -> FieldError:
        """401: no valid session."""
        return cls(401, "unauthenticated", message)

    @classmethod
    def unavailable(cls, message: str, *, retry_after: int) -> FieldError:
        """503: try again in ``retry_after`` seconds (sent as ``Retry-After``)."""
        if retry_after < 0:
            raise ValueError("retry_after must not be negative")
        return cls(503, "unavailable", message, headers={"Retry-After": str(retry_after)})

    def body(self) -> dict[str, Any]:
        return {**self.extra, **error_body(self.code, self.message, self.field)}

    def response(self) -> web.Response:
        return error_response(
            self.status, self.code, self.message, field=self.field, headers=self.headers, extra=self.extra
        )


# ---------------------------------------------------------------- parsing helpers


def parse_id(raw: str, field: str, what: str) -> int:
    """An integer id from a path (ASCII digits, 1..2^31-1); FieldError (422) naming ``field`` otherwise.

    ``what`` is the pt-BR noun of the thing the id names ("campanha", "cliente", ...)."""
    if _ID.fullmatch(raw) is None or not 1 <= int(raw) <= MAX_ID:
        raise FieldError.invalid(field, f"Identificador de {what} inválido: {raw!r} (use um número inteiro positivo).")
    return int(raw)


def path_id(request: web.Request, field: str, what: str) -> int:
    """The integer path parameter ``field`` of ``request`` (see :func:`parse_id`)."""
    return parse_id(request.match_info[field], field, what)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


MALFORMED_JSON = "O corpo da requisição não é JSON válido."
NOT_AN_OBJECT = "O corpo da requisição deve ser um objeto JSON."
MAX_JSON_DEPTH = 32
"""Objects and lists nested deeper than this are refused: no body Cobra reads needs more than a few."""
TOO_DEEP = f"O corpo da requisição tem objetos ou listas aninhados demais (máximo {MAX_JSON_DEPTH} níveis)."


def json_depth_exceeds(data: Any, limit: int) -> bool:
    """Whether ``data`` nests objects/lists more than ``limit`` levels (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > limit:
                return True
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


async def read_json_object(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object; FieldError (422, no field) when it is not JSON or not an object.

    ``NaN`` and ``Infinity`` are refused: they are not JSON. So is nesting deeper than
    :data:`MAX_JSON_DEPTH` (json's recursive decoder would otherwise hit RecursionError on
    a body of 100,000 ``[``, and validators recurse too)."""
    try:
        data = json.loads(await request.text(), parse_constant=_refuse_constant)
    except ValueError:  # JSONDecodeError, UnicodeDecodeError, NaN
        raise FieldError.invalid(None, MALFORMED_JSON) from None
    except RecursionError:
        raise FieldError.invalid(None, TOO_DEEP) from None
    if not isinstance(data, dict):
        raise FieldError.invalid(None, NOT_AN_OBJECT)
    if json_depth_exceeds(data, MAX_JSON_DEPTH):
        raise FieldError.invalid(None, TOO_DEEP)
    return data


def field_path(loc: tuple[int | str, ...]) -> str:
    """A pydantic error location as a field path: ``("segments", 1, "weight")`` → ``segments[1].weight``."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _choices(expected: Any) -> str:
    return str(expected).replace("'", "")


def error_text(error: ErrorDetails) -> str:
    """A pydantic error in pt-BR (what is wrong with the value, without the field name)."""
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    texts: dict[str, str] = {
        "missing": "campo obrigatório",
        "extra_forbidden": "campo desconhecido",
        "int_type": "deve ser um número inteiro",
        "int_parsing": "deve ser um número inteiro",
        "int_from_float": "deve ser um número inteiro",
        "float_type": "deve ser um número",
        "float_parsing": "deve ser um número",
        "finite_number": "deve ser um número finito",
        "decimal_type": "deve ser um número",
        "decimal_parsing": "deve ser um número",
        "bool_type": "deve ser true ou false",
        "bool_parsing": "deve ser true ou false",
        "string_type": "deve ser um texto",
        "dict_type": "deve ser um objeto JSON",
        "model_type": "deve ser um objeto JSON",
        "model_attributes_type": "deve ser um objeto JSON",
        "list_type": "deve ser uma lista",
        "datetime_type": "deve ser uma data e hora ISO 8601",
        "datetime_parsing": "deve ser uma data e hora ISO 8601 (ex.: 2026-05-01T18:00:00-03:00)",
        "datetime_from_date_parsing": "deve ser uma data e hora ISO 8601 (ex.: 2026-05-01T18:00:00-03:00)",
        "date_type": "deve ser uma data ISO 8601",
        "date_parsing": "deve ser uma data ISO 8601 (ex.: 2026-05-01)",
        "date_from_datetime_parsing": "deve ser uma data ISO 8601 (ex.: 2026-05-01)",
        "none_required": "deve ser null",
    }
    if kind in texts:
        return texts[kind]
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = next(iter(ctx.values()), "?")
        return {
            "greater_than_equal": f"deve ser no mínimo {bound}",
            "greater_than": f"deve ser maior que {bound}",
            "less_than_equal": f"deve ser no máximo {bound}",
            "less_than": f"deve ser menor que {bound}",
        }[kind]
    if kind == "string_too_short":
        n = ctx.get("min_length", 1)
        return "não pode ser vazio" if n == 1 else f"deve ter ao menos {n} caracteres"
    if kind == "string_too_long":
        return f"deve ter no máximo {ctx.get('max_length')} caracteres"
    if kind == "too_short":
        return f"deve ter ao menos {ctx.get('min_length')} item(ns)"
    if kind == "too_long":
        return f"deve ter no máximo {ctx.get('max_length')} item(ns)"
    if kind in ("enum", "literal_error"):
        return f"valor inválido; use: {_choices(ctx.get('expected', ''))}"
    return "valor inválido"


def validation_error(exc: ValidationError) -> FieldError:
    """The first problem of a pydantic validation as a 422 FieldError naming its field."""
    first = exc.errors()[0]
    path = field_path(tuple(first["loc"])) or None
    text = error_text(first)
    return FieldError.invalid(path, f"{path}: {text}" if path else f"Corpo da requisição inválido: {text}")


def parse_model(data: Any, model: type[M]) -> M:
    """``data`` validated as ``model``; FieldError (422) naming the first bad field otherwise."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from None


async def read_body(request: web.Request, model: type[M]) -> M:
    """The JSON body of ``request`` as ``model`` (see :func:`read_json_object` and :func:`parse_model`)."""
    return parse_model(await read_json_object(request), model)


# ---------------------------------------------------------------- the middleware


def is_api(request: web.Request) -> bool:
    return request.path.startswith(API_PREFIX)


_HTTP_CODES: dict[int, tuple[str, str]] = {
    400: ("bad_request", "Requisição inválida."),
    401: ("unauthenticated", "Sessão ausente ou expirada: faça login novamente."),
    403: ("forbidden", "Acesso negado."),
    404: ("not_found", "Recurso não encontrado."),
    405: ("method_not_allowed", "Método não permitido para este recurso."),
    413: ("too_large", "O corpo da requisição é grande demais."),
    415: ("unsupported_media_type", "Tipo de conteúdo não suportado."),
}

INTERNAL_MESSAGE = "Erro interno do servidor; a operação não foi concluída. Tente de novo ou avise o suporte."


def _from_http(exc: web.HTTPException) -> web.Response:
    code, message = _HTTP_CODES.get(exc.status, ("error", exc.reason or "Erro."))
    keep = {k: v for k, v in exc.headers.items() if k in ("Allow", "Retry-After", "WWW-Authenticate")}
    return error_response(exc.status, code, message, headers=keep)


@web.middleware
async def api_error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer every error of an ``/api/`` route in the one shape; leave other routes alone."""
    if not is_api(request):
        return await handler(request)
    try:
        return await handler(request)
    except FieldError as exc:
        return exc.response()
    except web.HTTPException as exc:
        if exc.status < 400:
            raise  # redirects and other non-errors pass through
        return _from_http(exc)
    except (asyncio.CancelledError, ConnectionResetError):
        raise  # the client went away: nobody to answer
    except Exception:
        log.exception("unexpected error in %s %s", request.method, request.path)
        return error_response(500, "internal_error", INTERNAL_MESSAGE)


__all__ = [
    "FieldError",
    "api_error_middleware",
    "error_body",
    "error_response",
    "field_path",
    "is_api",
    "parse_id",
    "parse_model",
    "path_id",
    "read_body",
    "read_json_object",
    "validation_error",
]
