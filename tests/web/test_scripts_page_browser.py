"""A real browser (Debian's chromium through Playwright): a supervisor validates, previews and publishes a script."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.support.browser import BROWSER_MARKS, chromium
from tests.web.conftest import PASSWORD

pytestmark = BROWSER_MARKS


@pytest.fixture
async def page(served: str) -> AsyncIterator[Any]:
    async with chromium() as browser:
        context = await browser.new_context(base_url=served, locale="pt-BR", viewport={"width": 1200, "height": 900})
        yield await context.new_page()


async def test_supervisor_validates_previews_and_publishes(page: Any, served: str) -> None:
    from playwright.async_api import expect

    await page.goto("/login")
    await page.get_by_label("Usuário").fill("sofia")
    await page.get_by_label("Senha").fill(PASSWORD)
    await page.get_by_role("button", name="Entrar").click()
    await expect(page).to_have_url(f"{served}/supervisor")
    await page.goto("/supervisor/roteiros")
    await expect(page.get_by_test_id("status")).to_have_text("Roteiro válido.")  # validated on load
    await expect(page.get_by_test_id("no-versions")).to_be_visible()

    await page.get_by_test_id("step").select_option("apresentar_divida")
    await page.get_by_test_id("preview").click()
    await expect(page.get_by_test_id("preview-box")).to_contain_text("R$ ")

    editor = page.get_by_test_id("yaml")
    text = await editor.input_value()
    await editor.fill(text.replace("next: terceiro\n", "next: lugar_nenhum\n", 1))
    await page.get_by_test_id("validate").click()
    await expect(page.get_by_test_id("errors")).to_contain_text("(passo abertura)")
    await expect(page.get_by_test_id("errors")).to_contain_text("o próximo passo 'lugar_nenhum' não existe")
    # the error takes the editor to the line to fix: the `next:` that names the missing step
    broken = await editor.input_value()
    line = broken[: broken.index("next: lugar_nenhum")].count("\n") + 1
    await expect(page.get_by_test_id("error-line").first).to_have_text(f"Linha {line}")
    await page.get_by_test_id("error-line").first.click()
    selected = await editor.evaluate("e => e.value.slice(e.selectionStart, e.selectionEnd)")
    assert selected.strip() == "next: lugar_nenhum"
    await page.get_by_test_id("publish").click()
    await expect(page.get_by_test_id("status")).to_have_text("o roteiro tem erros e não foi publicado")

    await editor.fill(text)
    await page.get_by_test_id("publish").click()
    await expect(page.get_by_test_id("versions")).to_contain_text("padrao v1")
