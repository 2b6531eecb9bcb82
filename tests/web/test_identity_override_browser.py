"""A supervisor's console in a real browser (Chromium) shows an agent's identity override live,
with the agent's reason, among the wallboard alerts and on the agent's row (issue 11 item 1)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.dialer.runtime_support import add_campaign, add_lead
from tests.support.browser import BROWSER_MARKS, chromium
from tests.web.agent_rig import DeskRig, WsAgent, desk_of, desk_rig
from tests.web.conftest import PASSWORD

pytestmark = BROWSER_MARKS

REASON = "Titular sem data de nascimento no cadastro; confirmou o endereço"


@pytest.fixture
async def rig(db_url: str) -> AsyncIterator[DeskRig]:
    async with desk_rig(db_url, time_scale=0.5) as r:
        async with r.db.begin() as s:
            campaign = await add_campaign(s, running=False)
            await add_lead(s, campaign, "5511987650091", name="Maria Conceição da Silva", birth_date=None)
        await desk_of(r.app).runtime.set_campaign_running(campaign.id, True)
        yield r


async def test_an_override_reaches_the_supervisor_with_its_reason(rig: DeskRig) -> None:
    from playwright.async_api import expect

    async with chromium() as browser:
        context = await browser.new_context(base_url=rig.url, locale="pt-BR", viewport={"width": 1366, "height": 768})
        page = await context.new_page()
        await page.goto("/login")
        await page.get_by_label("Usuário").fill("sofia")
        await page.get_by_label("Senha").fill(PASSWORD)
        await page.get_by_role("button", name="Entrar").click()
        await expect(page.get_by_test_id("conn")).to_have_attribute("data-conn", "up")

        ana = await WsAgent.log_in(rig.url, "ana")
        await ana.connect()
        try:
            await ana.request({"type": "set_state", "state": "ready"})
            pop = await ana.wait_for(lambda f: f["type"] == "screen_pop", "screen-pop")
            identity = await ana.wait_for(lambda f: f["type"] == "identity", "identity")
            # no birth date on file: only the CPF question is offered
            assert [m[0] for m in identity["identity"]["methods"]] == ["cpf"]
            await ana.request({"type": "override_identity", "call_id": pop["call_id"], "reason": REASON})
            alert = page.get_by_test_id("alert").filter(has_text="sem verificar a identidade")
            await expect(alert).to_contain_text("Ana Souza")
            # the reason is a tooltip: a long one must not stretch the alert nor the agent's row
            await expect(alert).to_have_attribute("title", f"Motivo: {REASON}")
            await expect(alert).not_to_contain_text(REASON)
            row = page.get_by_test_id("agent-customer").filter(has_text="identidade liberada sem verificação")
            await expect(row).to_have_attribute("title", f"Motivo da liberação: {REASON}")
            await expect(row).not_to_contain_text(REASON)
        finally:
            await ana.close()

        # at 1366 px the approvals sit below the wallboard; beside it from 1600 px
        wallboard = await page.get_by_test_id("wallboard").bounding_box()
        approvals = await page.locator("section[aria-labelledby=approvals-title]").bounding_box()
        assert wallboard is not None and approvals is not None
        assert approvals["y"] >= wallboard["y"] + wallboard["height"], (wallboard, approvals)
        await page.set_viewport_size({"width": 1600, "height": 900})
        wallboard = await page.get_by_test_id("wallboard").bounding_box()
        approvals = await page.locator("section[aria-labelledby=approvals-title]").bounding_box()
        assert wallboard is not None and approvals is not None
        assert approvals["x"] >= wallboard["x"] + wallboard["width"] and approvals["y"] < wallboard["y"] + wallboard["height"]
