"""No 500 on a busy database: a request that still meets the lock after the busy timeout gets a 503.

SQLite lets one writer at a time; a write that waited ``busy_timeout`` for another writer's
lock (or a request that waited as long for a pooled connection) gives up with "database is
locked". That is not a bug in the request, and the client can simply try again: answer
``503`` with ``Retry-After`` in the API's one error shape (``code: "database_busy"``).
"""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from storage.engine import is_busy_error
from web.errors import FieldError

log = logging.getLogger(__name__)

# Seconds a client should wait before trying again (a lock held this long is rare; most clear sooner)
RETRY_AFTER_S = 2
BUSY_MESSAGE = "O banco de dados está ocupado no momento; tente novamente em alguns segundos."


def database_busy_response() -> web.Response:
    """The 503 a busy database answers (one error shape, ``Retry-After``)."""
    response = FieldError(503, "database_busy", BUSY_MESSAGE).response()
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    return response


@web.middleware
async def database_busy_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn a busy-database failure anywhere below (auth lookup included) into a 503."""
    try:
        return await handler(request)
    except Exception as exc:
        if not is_busy_error(exc):
            raise
        log.warning("%s %s: database busy, answered 503 (%s)", request.method, request.path, type(exc).__name__)
        return database_busy_response()
