"""A real browser (Debian's chromium through Playwright) on /admin: an admin creates an agent from
the page, who then logs in with the password the page showed once (issue 11, acceptance)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.support.browser import BROWSER_MARKS, chromium
from tests.web.conftest import PASSWORD

pytestmark = BROWSER_MARKS


@pytest.fixture
async def browser(served: str) -> AsyncIterator[Any]:
    async with chromium() as b:
        yield b


async def _log_in(page: Any, login: str, password: str) -> None:
    await page.goto("/login")
    await page.get_by_label("Usuário").fill(login)
    await page.get_by_label("Senha").fill(password)
    await page.get_by_role("button", name="Entrar").click()


async def test_an_admin_creates_an_agent_who_then_logs_in(browser: Any, served: str) -> None:
    from playwright.async_api import expect

    admin_context = await browser.new_context(base_url=served, locale="pt-BR", viewport={"width": 1366, "height": 768})
    page = await admin_context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    await _log_in(page, "root", PASSWORD)
    await expect(page).to_have_url(f"{served}/admin")

    form = page.get_by_test_id("new-user")
    await form.get_by_label("Usuário (login)").fill("bia")
    await form.get_by_label("Nome completo").fill("Beatriz Ramos")
    await form.get_by_label("Perfil").select_option("agent")
    # an agent without a phone is refused, in Portuguese, and the field is focused
    await form.get_by_role("button", name="Criar usuário").click()
    await expect(page.get_by_test_id("admin-status")).to_contain_text("Operadores precisam de ramal e telefone")
    await expect(form.get_by_label("Ramal (operadores)")).to_be_focused()

    await form.get_by_label("Ramal (operadores)").fill("7009")
    await form.get_by_label("Telefone (discagem do Asterisk)").fill("PJSIP/7009")
    await form.get_by_role("button", name="Criar usuário").click()
    await expect(page.get_by_test_id("admin-status")).to_have_text("Usuário bia criado.")
    shown = page.get_by_test_id("shown-password-value")
    await expect(shown).to_be_visible()
    password = (await shown.text_content() or "").strip()
    assert len(password) >= 12
    row = page.locator('tr[data-login="bia"]')
    await expect(row).to_contain_text("Beatriz Ramos")
    await expect(row).to_contain_text("PJSIP/7009")
    await page.get_by_test_id("shown-password-close").click()
    await expect(shown).to_be_hidden()

    # the new agent logs in with it, in a browser of her own, and lands on the agent desk
    agent_context = await browser.new_context(base_url=served, locale="pt-BR")
    agent = await agent_context.new_page()
    await _log_in(agent, "bia", password)
    await expect(agent).to_have_url(f"{served}/agente")

    # the admin changes her extension: her session ends, the row shows the new phone
    await row.get_by_test_id("edit").click()
    edit = page.get_by_test_id("edit-user")
    await edit.get_by_label("Ramal").fill("7010")
    await edit.get_by_label("Telefone (discagem do Asterisk)").fill("PJSIP/7010")
    await edit.get_by_role("button", name="Salvar").click()
    await expect(page.get_by_test_id("admin-status")).to_contain_text("Usuário bia alterado. 1 sessão(ões)")
    await expect(row).to_contain_text("PJSIP/7010")

    # disable, then a new password generated for her after enabling again
    await row.get_by_test_id("disable").click()
    await expect(row).to_contain_text("Desativado")
    await row.get_by_test_id("enable").click()
    await expect(row).to_contain_text("Ativo")
    await row.get_by_test_id("reset-password").click()
    await expect(page.get_by_test_id("admin-status")).to_contain_text("Nova senha de bia gerada.")
    second = (await shown.text_content() or "").strip()
    assert second and second != password
    await _log_in(agent, "bia", second)
    await expect(agent).to_have_url(f"{served}/agente")
    # the one refused request (the agent without a phone) is the only failed load
    assert [e for e in errors if "422" not in e] == []
