"""Security headers on every route of the real app (issue 14): a Content-Security-Policy without
``unsafe-inline`` on every page, plus nosniff, no framing and a same-origin referrer; and the
templates keep no inline script, style or event handler that such a policy would block."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.web.conftest import log_in
from web.app import TEMPLATES_DIR

Client = TestClient[web.Request, web.Application]

EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def _get_paths(app: web.Application) -> list[str]:
    """Every GET route of the app, dynamic segments filled with 1 (a 404 must carry the headers too)."""
    paths = []
    for route in app.router.routes():
        if route.method != "GET":
            continue
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("path") or info.get("formatter") or f"{info['prefix']}/cobra.css"
        paths.append(re.sub(r"\{[^}]+\}", "1", path))
    return sorted(set(paths))


def _assert_headers(resp: web.StreamResponse | object, where: str) -> None:
    headers = resp.headers  # type: ignore[attr-defined]
    for name, value in EXPECTED.items():
        assert headers.get(name) == value, f"{where}: {name}"
    csp = headers.get("Content-Security-Policy", "")
    directives = dict((d.strip().split(" ", 1) + [""])[:2] for d in csp.split(";") if d.strip())
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, where
    assert directives.get("default-src") == "'self'", where
    assert directives.get("script-src") == "'self'", where
    assert directives.get("style-src") == "'self'", where
    assert directives.get("object-src") == "'none'", where
    assert directives.get("frame-ancestors") == "'none'", where


@pytest.mark.parametrize("who", [None, "ana", "sofia", "quito", "root"])
async def test_every_get_route_answers_with_the_security_headers(client: Client, who: str | None) -> None:
    if who is not None:
        assert (await log_in(client, who)).status == 303
    pages = 0
    for path in _get_paths(client.app):
        resp = await client.get(path, allow_redirects=False)
        _assert_headers(resp, f"{who or 'anonymous'} GET {path} -> {resp.status}")
        if resp.status == 200 and resp.content_type == "text/html":
            pages += 1
    # the role's own pages were among them (login for the anonymous visitor)
    assert pages >= 1


async def test_error_and_login_responses_carry_the_headers(client: Client) -> None:
    _assert_headers(await client.get("/nao-existe"), "404")
    _assert_headers(await client.get("/login"), "login page")
    _assert_headers(await log_in(client, "ana", password="errada"), "failed login")
    _assert_headers(await client.get("/static/agente.js"), "static file")


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE), "inline <script>"),
    (re.compile(r"<style\b", re.IGNORECASE), "inline <style>"),
    (re.compile(r"\sstyle\s*=", re.IGNORECASE), "style= attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.IGNORECASE), "event handler attribute"),
    (re.compile(r"javascript:", re.IGNORECASE), "javascript: URL"),
    (re.compile(r"\|\s*safe\b"), "|safe"),
]


@pytest.mark.parametrize("template", sorted(Path(TEMPLATES_DIR).glob("*.html")), ids=lambda p: p.name)
def test_templates_have_nothing_inline_that_the_policy_blocks(template: Path) -> None:
    text = template.read_text(encoding="utf-8")
    found = [what for pattern, what in INLINE if pattern.search(text)]
    assert found == [], f"{template.name}: {found}"


def test_static_scripts_never_insert_html() -> None:
    static = Path(TEMPLATES_DIR).parent / "static"
    for script in sorted(static.glob("*.js")):
        text = script.read_text(encoding="utf-8")
        assert not re.search(r"\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write", text), script.name
