"""A real browser (Debian's chromium through Playwright) logs in as an agent and out again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import BROWSER_MARKS, chromium

pytestmark = BROWSER_MARKS


@pytest.fixture
async def page(served: str) -> AsyncIterator[Any]:
    async with chromium() as browser:
        context = await browser.new_context(
            base_url=served, locale="pt-BR", viewport={"width": 1200, "height": 800}
        )
        yield await context.new_page()


async def test_agent_logs_in_lands_on_agente_and_logs_out(page: Any, served: str, tmp_path: Path) -> None:
    from playwright.async_api import expect

    await page.goto("/")
    await expect(page).to_have_url(f"{served}/login")
    await expect(page.get_by_role("heading", name="Entrar")).to_be_visible()
    await page.screenshot(path=str(tmp_path / "login.png"))
    assert (tmp_path / "login.png").stat().st_size > 0

    await page.get_by_label("Usuário").fill("ana")
    await page.get_by_label("Senha").fill("senha-errada")
    await page.get_by_role("button", name="Entrar").click()
    await expect(page.get_by_test_id("login-error")).to_have_text("Usuário ou senha inválidos.")

    await page.get_by_label("Senha").fill("senha-forte-1")
    await page.get_by_role("button", name="Entrar").click()
    await expect(page).to_have_url(f"{served}/agente")
    await expect(page.get_by_test_id("who-name")).to_have_text("Ana Souza")
    await expect(page.get_by_test_id("me-extension")).to_have_text("7001")
    cookies = {c["name"]: c for c in await page.context.cookies()}
    assert cookies["cobra_session"]["httpOnly"] is True
    assert cookies["cobra_session"]["sameSite"] == "Lax"
    # the page's script sees no session cookie (HttpOnly) but has the CSRF token for fetch
    assert "cobra_session" not in await page.evaluate("document.cookie")
    assert await page.evaluate("window.cobra.csrfToken().length") >= 43

    await page.get_by_test_id("logout").click()
    await expect(page).to_have_url(f"{served}/login")
    await page.goto("/agente")
    await expect(page).to_have_url(f"{served}/login?next=/agente")
