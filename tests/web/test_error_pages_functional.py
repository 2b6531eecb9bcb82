"""Pages answer their errors in pt-BR in the product's layout; ``/api/`` keeps its JSON shape."""

from __future__ import annotations

import logging

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from storage.models import Role
from tests.web.conftest import AiohttpClient, log_in
from web.auth.access import requires

Client = TestClient[web.Request, web.Application]


async def test_an_unknown_page_is_a_portuguese_404_in_the_layout(client: Client) -> None:
    resp = await client.get("/pagina-que-nao-existe")
    html = await resp.text()
    assert resp.status == 404 and resp.content_type == "text/html"
    assert "Página não encontrada" in html
    assert "O endereço /pagina-que-nao-existe não existe no Cobra." in html
    assert "Not Found" not in html
    assert 'class="topbar"' in html and 'href="/login"' in html  # the layout, and a way back for a visitor
    assert resp.headers["Cache-Control"] == "no-store"


async def test_a_logged_in_user_gets_their_navigation_and_home_on_the_404(client: Client) -> None:
    assert (await log_in(client, "sofia")).status == 303
    html = await (await client.get("/nada/aqui")).text()
    assert 'data-testid="mainnav"' in html and "Sofia Lima" in html
    assert 'href="/supervisor"' in html  # "Voltar ao início" goes to her home


async def test_a_wrong_method_is_a_portuguese_405_keeping_allow(client: Client) -> None:
    resp = await client.put("/login")
    html = await resp.text()
    assert resp.status == 405 and "Operação não permitida" in html and "(PUT)" in html
    assert "GET" in resp.headers["Allow"]


async def test_a_page_the_role_may_not_open_is_a_portuguese_403(client: Client) -> None:
    assert (await log_in(client, "ana")).status == 303
    resp = await client.get("/admin")
    html = await resp.text()
    assert resp.status == 403 and "Acesso negado" in html and "Forbidden" not in html


@requires(Role.ADMIN)
async def _broken(request: web.Request) -> web.Response:
    raise KeyError("a bug in a page")


async def test_a_crashed_page_is_a_logged_portuguese_500(
    aiohttp_client: AiohttpClient, app: web.Application, caplog: pytest.LogCaptureFixture
) -> None:
    app.router.add_get("/quebrada", _broken)
    client = await aiohttp_client(app)
    assert (await log_in(client, "root")).status == 303
    with caplog.at_level(logging.ERROR, logger="web.error_pages"):
        resp = await client.get("/quebrada")
    html = await resp.text()
    assert resp.status == 500 and "Erro interno" in html and "Internal Server Error" not in html
    assert any(r.exc_info and isinstance(r.exc_info[1], KeyError) for r in caplog.records)


async def test_the_api_and_static_files_keep_their_own_answers(client: Client) -> None:
    api = await client.get("/api/v1/nada")
    assert api.status == 404 and (await api.json())["error"]["code"] == "not_found"
    static = await client.get("/static/nada.js")
    assert static.status == 404 and "Página não encontrada" not in await static.text()
