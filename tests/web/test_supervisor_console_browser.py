"""A real browser (Debian's chromium through Playwright): a supervisor sees a discount request appear live and approves it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from dialer.negotiation.approvals import ApprovalBroker, ApprovalResult
from tests.dialer.negotiation_support import TODAY, World
from tests.support.browser import BROWSER_MARKS, chromium
from tests.web.conftest import PASSWORD
from tests.web.test_supervisor_console_functional import world
from web.supervisor_console.http import APPROVALS

__all__ = ["world"]

GUARD_S = 10.0

pytestmark = BROWSER_MARKS


@pytest.fixture
async def page(served: str) -> AsyncIterator[Any]:
    async with chromium() as browser:
        context = await browser.new_context(base_url=served, locale="pt-BR", viewport={"width": 1200, "height": 800})
        yield await context.new_page()


async def test_supervisor_sees_a_request_live_and_approves_it(
    page: Any, served: str, app: web.Application, world: World, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    await page.goto("/login")
    await page.get_by_label("Usuário").fill("sofia")
    await page.get_by_label("Senha").fill(PASSWORD)
    await page.get_by_role("button", name="Entrar").click()
    await expect(page).to_have_url(f"{served}/supervisor")
    await expect(page.get_by_test_id("conn")).to_have_attribute("data-conn", "up")
    await expect(page.get_by_test_id("approvals-empty")).to_be_visible()

    broker: ApprovalBroker = app[APPROVALS]
    heard: asyncio.Future[ApprovalResult] = asyncio.get_running_loop().create_future()
    pending = await broker.request_discount(agent_id=world.agent_id, customer_id=world.customer_id,
                                            campaign_id=world.campaign_id, call_id=None, discount_pct=Decimal("20"),
                                            today=TODAY, on_result=heard.set_result)
    item = page.get_by_test_id("approval")
    await expect(item).to_have_count(1)
    await expect(item).to_contain_text("Ana Souza")
    await expect(item).to_contain_text("Maria")
    await expect(item.get_by_test_id("requested")).to_have_text("20,00%")
    await expect(item).to_contain_text("Alçada do operador: 10,00%")
    await expect(item).to_contain_text("limite de aprovação: 30,00%")
    await expect(item.get_by_test_id("offer")).to_contain_text("À vista: R$ ")
    await expect(page.get_by_test_id("pending-count")).to_have_text("1")
    await page.screenshot(path=str(tmp_path / "supervisor.png"))

    await item.get_by_role("button", name="Aprovar").click()
    await expect(page.get_by_test_id("approval")).to_have_count(0)
    await expect(page.get_by_test_id("resolved")).to_contain_text("aprovado por Sofia Lima")
    await expect(page.get_by_test_id("pending-count")).to_have_text("0")
    result = await asyncio.wait_for(heard, GUARD_S)
    assert result.request_id == pending.request_id and result.status == "approved"
