"""Security headers on every response: a Content-Security-Policy without ``unsafe-inline``, and friends.

The policy allows scripts, styles, fonts, fetches and websockets from Cobra itself only, so
text that slipped through escaping still can't run: no inline ``<script>``, no ``onclick=``,
no ``style=`` and no ``javascript:`` URLs (pages keep their script and CSS in ``web/static``).
``img-src`` also allows ``data:`` for the Pix QR code, which the agent page shows as an
``<img>`` of the server's SVG. Headers are added in ``on_response_prepare`` rather than in a
middleware so that every response gets them: pages, static files, websocket handshakes,
redirects and error responses raised as ``HTTPException`` alike. A handler that sets one of
these headers itself keeps its own value.
"""

from __future__ import annotations

from aiohttp import web

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    # pages are ours alone: no framing (clickjacking), no content-type guessing, no referrer leaks
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare`` hook: the headers above, unless the handler chose its own."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


def setup_security_headers(app: web.Application) -> None:
    """Adds the security headers to every response of ``app``."""
    app.on_response_prepare.append(add_security_headers)


__all__ = ["CONTENT_SECURITY_POLICY", "SECURITY_HEADERS", "add_security_headers", "setup_security_headers"]
