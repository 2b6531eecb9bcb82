"""One JSON error body for the REST API: ``{"error": {"code", "message", "field"}}``.

It extends what the API already answers (``json_error``'s ``code`` and ``message``; the
pacing routes' ``field``) so existing clients keep reading the same keys. ``message`` is for
people (pt-BR); ``field`` names what was wrong (a path parameter, a body field), or is null.
Handlers raise :class:`FieldError` from wherever they parse and turn it into the response
with :meth:`FieldError.response`.
"""

from __future__ import annotations

from aiohttp import web


class FieldError(Exception):
    """A request the API refuses, naming the field at fault."""

    def __init__(self, status: int, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field

    @classmethod
    def invalid(cls, field: str, message: str) -> FieldError:
        """422: ``field`` is malformed (the request can never succeed as sent)."""
        return cls(422, "invalid", message, field=field)

    @classmethod
    def not_found(cls, field: str, message: str) -> FieldError:
        """404: ``field`` is well-formed but names nothing that exists."""
        return cls(404, "not_found", message, field=field)

    def body(self) -> dict[str, dict[str, str | None]]:
        return {"error": {"code": self.code, "message": self.message, "field": self.field}}

    def response(self) -> web.Response:
        return web.json_response(self.body(), status=self.status, headers={"Cache-Control": "no-store"})


__all__ = ["FieldError"]
