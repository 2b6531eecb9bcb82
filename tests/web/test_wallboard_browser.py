"""The wallboard in a real browser (Debian's chromium through Playwright) on the real app, dialer and simulator:
it moves when a simulated call connects and ends, and "Pausar" on the page stops the dialing."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.dialer.runtime_support import actions, add_campaign, add_lead, eventually
from tests.support.browser import BROWSER_MARKS, chromium
from tests.web.agent_rig import DeskRig, WsAgent, desk_of, desk_rig
from tests.web.conftest import PASSWORD

pytestmark = BROWSER_MARKS


@pytest.fixture
async def rig(db_url: str) -> AsyncIterator[DeskRig]:
    async with desk_rig(db_url) as r:
        yield r


@pytest.fixture
async def page(rig: DeskRig) -> AsyncIterator[Any]:
    async with chromium() as browser:
        context = await browser.new_context(base_url=rig.url, locale="pt-BR", viewport={"width": 1600, "height": 900})
        page = await context.new_page()
        await page.goto("/login")
        await page.get_by_label("Usuário").fill("sofia")
        await page.get_by_label("Senha").fill(PASSWORD)
        await page.get_by_role("button", name="Entrar").click()
        await page.wait_for_url(f"{rig.url}/supervisor")
        yield page


async def _campaign(rig: DeskRig, *numbers: str, running: bool = True) -> int:
    async with rig.db.begin() as s:
        campaign = await add_campaign(s, running=False, name="Cartões Atrasados")
        for n in numbers:
            await add_lead(s, campaign, n, name="Maria Conceição da Silva")
    if running:
        await desk_of(rig.app).runtime.set_campaign_running(campaign.id, True)
    else:
        await desk_of(rig.app).runtime.campaign_changed(campaign.id)
    return int(campaign.id)


def _customer_originates(rig: DeskRig) -> list[Any]:
    return [a for a in actions(rig.sim, "Originate") if "cust-sim" in a.get("Channel", "")]


async def test_the_wallboard_moves_when_a_call_connects_and_ends(rig: DeskRig, page: Any, tmp_path: Path) -> None:
    from playwright.async_api import expect

    await expect(page.get_by_test_id("conn")).to_have_attribute("data-conn", "up")
    await _campaign(rig, "5511987650011")
    ana = await WsAgent.log_in(rig.url, "ana")
    try:
        await ana.connect()
        await ana.request({"type": "set_state", "state": "ready"})
        row = page.locator("[data-testid=agent-row][data-login=ana]")
        pop = await ana.wait_for(lambda f: f["type"] == "screen_pop", "screen-pop")
        await ana.wait_for(lambda f: f["type"] == "call_state" and f["phase"] == "connected", "connected")
        await expect(row.get_by_test_id("agent-state")).to_have_text("Em ligação")
        await expect(row.get_by_test_id("agent-customer")).to_have_text("Maria S.")
        await expect(row.get_by_test_id("phone-ok")).to_be_visible()
        await expect(row.get_by_test_id("phone-down")).to_be_hidden()
        campaign = page.get_by_test_id("campaign-row")
        await expect(campaign.get_by_test_id("campaign-talking")).to_have_text("1")
        await expect(campaign.get_by_test_id("campaign-status")).to_have_text("ativa")
        # the last hour's sparkline (an SVG built in the page) has the connect in its newest slot
        results = page.get_by_test_id("campaign-results")
        spark = results.get_by_test_id("campaign-sparkline").locator("svg")
        await expect(spark).to_have_attribute("aria-label", "1 contatos na última hora, por 5 minutos: "
                                              + "0, " * 11 + "1")
        await expect(spark).to_be_visible()
        await expect(results.get_by_test_id("campaign-cpc")).to_have_text("0")
        await expect(results.get_by_test_id("campaign-agreements")).to_have_text("0")
        await expect(results.get_by_test_id("campaign-agreed")).to_have_text("R$\xa00,00")
        await page.screenshot(path=str(tmp_path / "wallboard.png"), full_page=True)

        await ana.request({"type": "hangup", "call_id": pop["call_id"]})
        await expect(row.get_by_test_id("agent-state")).to_have_text("Pós-atendimento")
        await expect(campaign.get_by_test_id("campaign-talking")).to_have_text("0")
        # the timer runs in the page: it shows minutes and seconds in state
        await expect(row.get_by_test_id("agent-timer")).to_have_text(re.compile(r"^\d\d:\d\d$"))
    finally:
        await ana.close()


async def test_pause_from_the_page_stops_dialing_and_start_resumes_it(rig: DeskRig, page: Any) -> None:
    from playwright.async_api import expect

    campaign_id = await _campaign(rig, "5511987650011", "5511987650022", "5511987650033")
    runtime = desk_of(rig.app).runtime
    row = page.locator(f"[data-testid=campaign-row][data-campaign-id='{campaign_id}']")
    await expect(row.get_by_test_id("campaign-status")).to_have_text("ativa")
    await row.get_by_role("button", name="Pausar").click()
    await expect(row.get_by_test_id("campaign-status")).to_have_text("pausada")
    assert runtime.floor.campaigns[campaign_id].status == "paused"
    # the floor-wide history shows who paused it
    await expect(page.get_by_test_id("floor-history-item").first).to_contain_text(
        "Sofia Lima · Cartões Atrasados: Pausou a campanha (ativa → pausada)")
    # the campaign's name opens its page
    assert await row.get_by_test_id("campaign-link").get_attribute("href") == f"/supervisor/campanhas/{campaign_id}"

    ana = await WsAgent.log_in(rig.url, "ana")
    try:
        await ana.connect()
        await ana.request({"type": "set_state", "state": "ready"})
        await ana.wait_for(lambda f: f["type"] == "agent_state" and f["state"] == "ready", "ready")
        await asyncio.sleep(0.5)  # ~25 scheduler ticks with a ready agent: a running campaign would have dialled
        assert _customer_originates(rig) == [], "a paused campaign placed a call"

        await row.get_by_role("button", name="Iniciar").click()
        await expect(row.get_by_test_id("campaign-status")).to_have_text("ativa")
        await eventually(lambda: _customer_originates(rig), "dialing resumed after Iniciar")
    finally:
        await ana.close()


async def test_mode_selector_switches_the_campaign_to_preview(rig: DeskRig, page: Any) -> None:
    from playwright.async_api import expect

    campaign_id = await _campaign(rig, "5511987650011", running=False)
    row = page.locator(f"[data-testid=campaign-row][data-campaign-id='{campaign_id}']")
    await expect(row.get_by_test_id("campaign-status")).to_have_text("pausada")
    await row.get_by_test_id("campaign-mode").select_option("preview")
    runtime = desk_of(rig.app).runtime
    await eventually(lambda: runtime.floor.campaigns[campaign_id].mode.value == "preview", "mode switched")
    await expect(row.get_by_test_id("campaign-mode")).to_have_value("preview")
