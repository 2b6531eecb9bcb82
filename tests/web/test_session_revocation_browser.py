"""A real browser (Debian's chromium): when ``cobra user disable`` ends the session, the open page
says why, in Portuguese, and stops reconnecting."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import BROWSER_MARKS, chromium
from tests.web.conftest import PASSWORD
from tests.web.test_session_revocation_functional import cobra
from web.auth.revocation import REASON_DISABLED

pytestmark = BROWSER_MARKS

# the pages retry a lost connection after ~0.5 s: watching this long would see a retry
RETRY_WATCH_S = 1.5


@pytest.fixture
async def page(served: str) -> AsyncIterator[Any]:
    async with chromium() as browser:
        context = await browser.new_context(base_url=served, locale="pt-BR", viewport={"width": 1200, "height": 800})
        yield await context.new_page()


@pytest.mark.parametrize(("login", "home"), [("sofia", "/supervisor"), ("ana", "/agente")])
async def test_the_page_shows_why_its_session_ended_and_does_not_reconnect(
    page: Any, served: str, db_url: str, tmp_path: Path, login: str, home: str
) -> None:
    from playwright.async_api import expect

    await page.goto("/login")
    await page.get_by_label("Usuário").fill(login)
    await page.get_by_label("Senha").fill(PASSWORD)
    await page.get_by_role("button", name="Entrar").click()
    await expect(page).to_have_url(f"{served}{home}")
    await expect(page.get_by_test_id("conn")).to_have_attribute("data-conn", "up")
    opened: list[Any] = []
    page.on("websocket", lambda ws: opened.append(ws))

    config = tmp_path / "cobra.toml"
    config.write_text(f'[database]\nurl = "{db_url}"\n', encoding="utf-8")
    await cobra(str(config), "user", "disable", login)

    await expect(page.get_by_test_id("conn")).to_have_attribute("data-conn", "down")
    await expect(page.get_by_test_id("conn")).to_contain_text(REASON_DISABLED)
    await expect(page.get_by_test_id("notice")).to_contain_text(REASON_DISABLED)
    await asyncio.sleep(RETRY_WATCH_S)
    assert opened == []
    await expect(page.get_by_test_id("conn")).to_contain_text(REASON_DISABLED)
