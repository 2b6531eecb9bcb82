"""CSRF tokens: per session, echoed by forms (field ``csrf_token``) or fetch (``X-CSRF-Token``)."""

from __future__ import annotations

import hmac

from aiohttp import web

from web.auth.settings import CSRF_FIELD, CSRF_HEADER

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def tokens_match(expected: str, given: str | None) -> bool:
    return bool(expected) and given is not None and hmac.compare_digest(expected.encode(), given.encode())


async def submitted_token(request: web.Request) -> str | None:
    """The token the request carries: the header, else the field of a url-encoded form.

    Multipart bodies are not read here (uploads are streamed by their handlers): they
    must send the header.
    """
    header = request.headers.get(CSRF_HEADER)
    if header is not None:
        return header
    if request.content_type == "application/x-www-form-urlencoded":
        form = await request.post()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None
