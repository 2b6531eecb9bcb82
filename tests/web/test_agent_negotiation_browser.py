"""Guided negotiation in real browsers (Debian's chromium through Playwright): the agent confirms the
identity, sees the updated balance, simulates offers, asks for a discount above their limit, a
supervisor in another browser context approves it at ``/supervisor``, and the agent closes ACORDO."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from storage.models import (
    Agreement,
    AgreementInstallment,
    ApprovalRequest,
    Outcome,
    OutcomeCode,
    ScriptRunRecord,
    User,
)
from tests.dialer.runtime_support import add_campaign, add_lead
from tests.support.browser import BROWSER_MARKS, chromium
from tests.web.agent_rig import DeskRig, desk_of, desk_rig
from tests.web.conftest import PASSWORD
from web.agent.negotiation import PixReceiver

pytestmark = BROWSER_MARKS


@pytest.fixture
async def rig(db_url: str) -> AsyncIterator[DeskRig]:
    # a slower simulator than the other tests: the browsers share this event loop with the server
    async with desk_rig(db_url, time_scale=0.5) as r:
        desk_of(r.app).pix = PixReceiver(key="+5511999998888", name="Cobra Assessoria", city="Sao Paulo")
        async with r.db.begin() as s:
            campaign = await add_campaign(s, running=False)
            await add_lead(s, campaign, "5511987650061", name="Maria Conceição da Silva")
            await s.execute(update(User).where(User.login == "ana").values(discount_limit_pct=Decimal("10")))
            await s.execute(update(User).where(User.login == "sofia").values(discount_limit_pct=Decimal("30")))
        await desk_of(r.app).runtime.set_campaign_running(campaign.id, True)
        yield r


@pytest.fixture
async def browser(rig: DeskRig) -> AsyncIterator[Any]:
    async with chromium() as launched:
        yield launched


async def _log_in(browser: Any, rig: DeskRig, login: str, home: str) -> Any:
    from playwright.async_api import expect

    context = await browser.new_context(base_url=rig.url, locale="pt-BR", viewport={"width": 1366, "height": 900})
    page = await context.new_page()
    await page.goto("/login")
    await page.get_by_label("Usuário").fill(login)
    await page.get_by_label("Senha").fill(PASSWORD)
    await page.get_by_role("button", name="Entrar").click()
    await expect(page).to_have_url(f"{rig.url}{home}")
    await expect(page.get_by_test_id("conn")).to_have_attribute("data-conn", "up")
    return page


async def test_agent_negotiates_gets_approval_and_closes_an_agreement(browser: Any, rig: DeskRig, tmp_path: Path) -> None:
    from playwright.async_api import expect

    agent = await _log_in(browser, rig, "ana", "/agente")
    supervisor = await _log_in(browser, rig, "sofia", "/supervisor")

    await agent.get_by_test_id("btn-ready").click()
    await expect(agent.get_by_test_id("call-phase")).to_have_text("Em conversa")
    await expect(agent.get_by_test_id("script-title")).to_have_text("Apresentação")
    await expect(agent.get_by_test_id("offers")).to_be_hidden()

    # the script's first step leads to the identity step; confirming it opens the debt and the calculator
    await agent.get_by_test_id("choice-pessoa_certa").click()
    await expect(agent.get_by_test_id("script-title")).to_have_text("Confirmação de identidade")
    # the gate choice is the system's to take: the agent types the answer and Cobra checks it
    await agent.get_by_test_id("identity-answer").fill("17/05/1980")
    await agent.get_by_test_id("identity-answer").press("Enter")
    await expect(agent.get_by_test_id("details")).to_be_visible()
    await expect(agent.get_by_test_id("tab-offers")).to_be_enabled()  # the quote follows the full pop
    await agent.keyboard.press("o")  # the "Ofertas" tab
    await expect(agent.get_by_test_id("offers")).to_be_visible()
    await expect(agent.get_by_test_id("script-title")).to_have_text("Apresentação do débito")
    breakdown = agent.get_by_test_id("offers-breakdown")
    await expect(breakdown).to_contain_text("Valor original")
    await expect(breakdown).to_contain_text("Multa")
    await expect(breakdown).to_contain_text("Juros de mora")
    await expect(agent.get_by_test_id("offers-total")).to_contain_text("R$ ")
    await expect(agent.get_by_test_id("offers-limits")).to_contain_text("Sua alçada: até 10,00%")
    await expect(agent.get_by_test_id("pix-payload")).to_have_value(re.compile(r"^000201.*br\.gov\.bcb\.pix"))
    # the Pix stands next to the offers it pays, in view, not somewhere down the page
    panel, pix = await agent.get_by_test_id("offers").bounding_box(), await agent.get_by_test_id("pix").bounding_box()
    assert panel is not None and pix is not None
    assert panel["y"] <= pix["y"] and pix["y"] + pix["height"] <= panel["y"] + panel["height"] + 1
    assert await agent.evaluate("window.scrollY") == 0
    await agent.screenshot(path=str(tmp_path / "offers-1366.png"))
    # the QR code is an <img> of the server's SVG (no markup inserted into the page), and it loads under the CSP
    qr = agent.get_by_test_id("pix-qr").locator("img")
    await expect(qr).to_be_visible()
    assert await qr.evaluate("img => img.complete && img.naturalWidth > 0")
    total = await agent.get_by_test_id("offers-total").text_content()
    assert total and total.startswith("R$ ")

    # a plan, then back to cash at 20 %: above the agent's limit, so approval is asked
    await agent.get_by_test_id("offer-parcelado-3").click()
    await expect(agent.get_by_test_id("offer-parcelado-3")).to_have_attribute("aria-checked", "true")
    await agent.get_by_test_id("offer-a_vista").click()
    await agent.get_by_test_id("discount-pct").fill("20")
    await expect(agent.get_by_test_id("btn-approval")).to_be_visible()
    await agent.get_by_test_id("btn-simulate").click()
    await expect(agent.get_by_test_id("offers-limits")).to_contain_text("Desconto aplicado: 20%")
    await agent.get_by_test_id("btn-approval").click()
    await expect(agent.get_by_test_id("approval-status")).to_have_attribute("data-status", "pending")

    item = supervisor.get_by_test_id("approval")
    await expect(item.get_by_test_id("requested")).to_have_text("20,00%")
    await item.get_by_role("button", name="Aprovar").click()
    await expect(agent.get_by_test_id("approval-status")).to_have_attribute("data-status", "approved")
    await expect(agent.get_by_test_id("approval-status")).to_contain_text("Sofia Lima")

    await agent.get_by_test_id("btn-hangup").click()
    await expect(agent.get_by_test_id("agent-state")).to_have_attribute("data-state", "wrap_up")
    await agent.get_by_test_id("outcome-ACORDO").click()
    await expect(agent.get_by_test_id("chosen-offer")).to_contain_text("À vista")
    await expect(agent.get_by_test_id("chosen-offer")).to_contain_text("20%")
    await agent.get_by_test_id("btn-dispose").click()
    await expect(agent.get_by_test_id("notice")).to_have_text("Resultado registrado.")
    await expect(agent.get_by_test_id("agent-state")).to_have_attribute("data-state", "ready")

    async with rig.db() as s:
        agreement = (await s.execute(select(Agreement))).scalar_one()
        schedule = list((await s.execute(select(AgreementInstallment))).scalars())
        approval = (await s.execute(select(ApprovalRequest))).scalar_one()
        outcome = (await s.execute(select(Outcome))).scalar_one()
        run = (await s.execute(select(ScriptRunRecord))).scalar_one()
    assert (agreement.discount_pct, agreement.approval_id) == (Decimal("20.00"), approval.id)
    assert len(schedule) == 1 and schedule[0].amount == agreement.total
    assert outcome.code is OutcomeCode.ACORDO and outcome.attempt_id == agreement.attempt_id == run.attempt_id
    assert [st["step_id"] for st in run.steps][:3] == ["abertura", "identidade", "apresentar_divida"]
    assert run.identity_confirmed_at is not None
