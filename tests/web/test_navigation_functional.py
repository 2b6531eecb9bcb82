"""The one navigation bar: each role sees the pages its routes let it open, and every link opens."""

from __future__ import annotations

import re

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.web.conftest import log_in

Client = TestClient[web.Request, web.Application]
_NAV = re.compile(r'<nav class="mainnav".*?</nav>', re.DOTALL)
_LINK = re.compile(r'<a href="([^"]+)">([^<]+)</a>')
QA_PAGES = [("/monitoria", "Monitoria"), ("/monitoria/fila", "Fila de revisão"), ("/monitoria/ficha", "Ficha de avaliação")]


async def _links(client: Client, login: str, home: str) -> list[tuple[str, str]]:
    resp = await log_in(client, login)
    assert resp.status == 303
    page = await client.get(home)
    assert page.status == 200
    nav = _NAV.search(await page.text())
    return [] if nav is None else _LINK.findall(nav.group(0))


@pytest.mark.parametrize(
    ("login", "home", "expected"),
    [
        ("sofia", "/supervisor", [
            ("/supervisor", "Painel ao vivo"), ("/supervisor/campanhas", "Campanhas"), ("/supervisor/roteiros", "Roteiros"),
            ("/supervisor/simulacao", "Simulação de discagem"), ("/supervisor/regua", "Régua de cobrança"),
            ("/monitoria", "Monitoria"), ("/monitoria/indicadores", "Indicadores"), ("/monitoria/fila", "Fila de revisão"),
            ("/monitoria/ficha", "Ficha de avaliação")]),
        # admins may open the supervisor console too
        ("root", "/admin", [
            ("/supervisor", "Painel ao vivo"), ("/supervisor/campanhas", "Campanhas"), ("/supervisor/roteiros", "Roteiros"),
            ("/supervisor/simulacao", "Simulação de discagem"), ("/supervisor/regua", "Régua de cobrança"),
            ("/monitoria", "Monitoria"), ("/monitoria/indicadores", "Indicadores"), ("/monitoria/fila", "Fila de revisão"),
            ("/monitoria/ficha", "Ficha de avaliação"), ("/admin", "Usuários")]),
        ("quito", "/monitoria", [("/monitoria", "Monitoria"), ("/monitoria/indicadores", "Indicadores"), ("/monitoria/fila", "Fila de revisão"),
            ("/monitoria/ficha", "Ficha de avaliação")]),
    ],
)
async def test_each_role_sees_only_the_pages_it_may_open(client: Client, login: str, home: str,
                                                         expected: list[tuple[str, str]]) -> None:
    links = await _links(client, login, home)
    assert links == expected
    for path, _ in links:
        assert (await client.get(path)).status == 200, path
