"""The agent desktop in a real browser (Debian's chromium through Playwright), against the real
server, dialer and simulator: log in, go ready, see the pop, confirm identity, dispose."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from storage.models import Outcome, OutcomeCode
from tests.dialer.runtime_support import add_campaign, add_lead
from tests.support.browser import BROWSER_MARKS, chromium
from tests.web.agent_rig import DeskRig, desk_of, desk_rig
from tests.web.conftest import PASSWORD

pytestmark = BROWSER_MARKS


@pytest.fixture
async def rig(db_url: str) -> AsyncIterator[DeskRig]:
    # a slower simulator than the other tests: the browser shares this event loop with the server
    async with desk_rig(db_url, time_scale=0.5) as r:
        async with r.db.begin() as s:
            campaign = await add_campaign(s, running=False)
            await add_lead(s, campaign, "5511987650051", name="Maria Conceição da Silva")
        await desk_of(r.app).runtime.set_campaign_running(campaign.id, True)
        yield r


@pytest.fixture
async def page(rig: DeskRig) -> AsyncIterator[Any]:
    async with chromium() as browser:
        context = await browser.new_context(base_url=rig.url, locale="pt-BR", viewport={"width": 1366, "height": 900})
        yield await context.new_page()


async def test_agent_takes_a_call_confirms_identity_and_disposes(page: Any, rig: DeskRig, tmp_path: Path) -> None:
    from playwright.async_api import expect

    await page.goto("/login")
    await page.get_by_label("Usuário").fill("ana")
    await page.get_by_label("Senha").fill(PASSWORD)
    await page.get_by_role("button", name="Entrar").click()
    await expect(page).to_have_url(f"{rig.url}/agente")
    await expect(page.get_by_test_id("conn")).to_have_attribute("data-conn", "up")
    await expect(page.get_by_test_id("agent-state")).to_have_text("Desconectado")

    await page.get_by_test_id("btn-ready").click()
    await expect(page.get_by_test_id("pop-greeting")).to_have_text("Maria S.")
    await expect(page.get_by_test_id("pop-phone")).to_have_text("(11) *****-0051")
    await expect(page.get_by_test_id("details")).to_be_hidden()
    # the browser has not even received the debt
    assert await page.evaluate("window.cobraDesk.state().pop.details") is None
    assert "Banco Exemplo" not in await page.content()
    await expect(page.get_by_test_id("call-phase")).to_have_text("Em conversa")
    await page.screenshot(path=str(tmp_path / "pop.png"), full_page=True)

    # the connection drops (server restart, network): the page reconnects by itself and resumes
    for ws in list(desk_of(rig.app).sockets):
        await ws.close()
    await expect(page.get_by_test_id("conn")).to_have_attribute("data-conn", "up")
    await expect(page.get_by_test_id("conn")).to_contain_text("retomado")

    await page.keyboard.press("F4")  # "Identidade confirmada"
    await expect(page.get_by_test_id("details")).to_be_visible()
    await expect(page.get_by_test_id("pop-greeting")).to_have_text("Maria Conceição da Silva")
    await expect(page.get_by_test_id("pop-cpf")).to_have_text("***.456.789-**")
    await expect(page.get_by_test_id("pop-total")).to_have_text("R$ 1.234,56")
    await expect(page.get_by_test_id("debts")).to_contain_text("10/03/2025")

    await page.get_by_test_id("btn-hangup").click()
    await expect(page.get_by_test_id("agent-state")).to_have_attribute("data-state", "wrap_up")
    await page.keyboard.press("1")  # shortcut shown on "Promessa de pagamento"
    await expect(page.get_by_test_id("outcome-PROMESSA")).to_have_attribute("aria-checked", "true")
    await page.get_by_test_id("btn-dispose").click()
    await expect(page.get_by_test_id("dispose-error")).to_have_text("Informe o valor prometido, por exemplo 1.234,56.")
    await page.get_by_test_id("promise-amount").fill("1.250,00")
    promise_day = date.today() + timedelta(days=4)
    await page.get_by_test_id("promise-date").fill(promise_day.isoformat())
    await page.get_by_test_id("notes").fill("Vai pagar no Pix.")
    await page.screenshot(path=str(tmp_path / "dispose.png"), full_page=True)
    await page.keyboard.press("Control+Enter")

    await expect(page.get_by_test_id("agent-state")).to_have_attribute("data-state", "ready")
    await expect(page.get_by_test_id("notice")).to_have_text("Resultado registrado.")
    await expect(page.get_by_test_id("pop-greeting")).to_be_hidden()
    async with rig.db() as s:
        [outcome] = (await s.execute(select(Outcome))).scalars()
    assert (outcome.code, outcome.promise_amount, outcome.promise_date) == (
        OutcomeCode.PROMESSA, Decimal("1250.00"), promise_day
    )
    assert outcome.notes == "Vai pagar no Pix."
