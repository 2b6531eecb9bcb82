"""The agent desktop in a real browser (Debian's chromium through Playwright), against the real
server, dialer and simulator, at an operator's 1366×768 screen and keyboard only: go ready, verify
the identity by typing the date of birth (a wrong one refused, the right one accepted), see the
debt, hang up and register a PROMESSA, without the page ever scrolling (issue 11's acceptance)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from storage.models import AuditLog, Outcome, OutcomeCode
from tests.dialer.runtime_support import add_campaign, add_lead
from tests.support.browser import BROWSER_MARKS, chromium
from tests.web.agent_rig import DeskRig, desk_of, desk_rig
from tests.web.conftest import PASSWORD

pytestmark = BROWSER_MARKS

BIRTH = date(1980, 5, 17)
# what must be on screen, unscrolled, while the agent works a call
ABOVE_THE_FOLD = ("pop-greeting", "script", "outcome-PROMESSA", "outcome-FALECIDO", "btn-dispose", "agent-state")


@pytest.fixture
async def rig(db_url: str) -> AsyncIterator[DeskRig]:
    # a slower simulator than the other tests: the browser shares this event loop with the server
    async with desk_rig(db_url, time_scale=0.5) as r:
        async with r.db.begin() as s:
            campaign = await add_campaign(s, running=False)
            await add_lead(s, campaign, "5511987650051", name="Maria Conceição da Silva", birth_date=BIRTH)
        await desk_of(r.app).runtime.set_campaign_running(campaign.id, True)
        yield r


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with chromium() as b:
        yield b


async def _page(browser: Any, rig: DeskRig, width: int, height: int) -> Any:
    context = await browser.new_context(base_url=rig.url, locale="en-US", viewport={"width": width, "height": height})
    page = await context.new_page()
    await page.goto("/login")
    await page.get_by_label("Usuário").fill("ana")
    await page.get_by_label("Senha").fill(PASSWORD)
    await page.get_by_label("Senha").press("Enter")
    return page


async def _fits(page: Any, testids: tuple[str, ...]) -> None:
    """Each element wholly inside the viewport, and the page itself not scrolled (nor scrollable)."""
    view = page.viewport_size
    assert await page.evaluate("window.scrollY") == 0
    assert await page.evaluate("document.scrollingElement.scrollHeight <= window.innerHeight"), "the page scrolls"
    for testid in testids:
        box = await page.get_by_test_id(testid).bounding_box()
        assert box is not None, f"{testid} is not shown"
        assert box["x"] >= 0 and box["y"] >= 0, testid
        assert box["x"] + box["width"] <= view["width"] and box["y"] + box["height"] <= view["height"], (testid, box, view)


async def test_identity_by_birth_date_then_a_keyboard_only_promise_at_1366x768(
    browser: Any, rig: DeskRig, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    page = await _page(browser, rig, 1366, 768)
    await expect(page).to_have_url(f"{rig.url}/agente")
    await expect(page.get_by_test_id("conn")).to_have_attribute("data-conn", "up")
    await expect(page.get_by_test_id("agent-state")).to_have_text("Fora do discador")
    await expect(page.get_by_test_id("my-reviews")).to_be_visible()  # idle: the QA reviews are on the side

    await page.keyboard.press("F2")  # Disponível
    await expect(page.get_by_test_id("pop-greeting")).to_have_text("Maria S.")
    await expect(page.get_by_test_id("call-phase")).to_have_text("Em conversa")
    await expect(page.get_by_test_id("my-reviews")).to_be_hidden()  # the side column is the call's
    # before the identity: no debt and nothing the person could be asked reached the browser
    assert await page.evaluate("window.cobraDesk.state().pop.details") is None
    html = await page.content()
    assert "Banco Exemplo" not in html and "17/05/1980" not in html and "1980-05-17" not in html
    await expect(page.get_by_test_id("tabs-box")).to_be_hidden()
    await _fits(page, ABOVE_THE_FOLD + ("identity",))
    await page.screenshot(path=str(tmp_path / "pop-1366.png"))

    # the connection drops (server restart, network): the page reconnects by itself and resumes
    for ws in list(desk_of(rig.app).sockets):
        await ws.close()
    await expect(page.get_by_test_id("conn")).to_contain_text("retomado")

    # F4 goes to the answer; digits only, the mask writes dd/mm/aaaa (whatever the browser's language)
    await page.keyboard.press("F4")
    await page.keyboard.type("18051980")
    await expect(page.get_by_test_id("identity-answer")).to_have_value("18/05/1980")
    await page.keyboard.press("Enter")
    await expect(page.get_by_test_id("identity-status")).to_contain_text("não conferem")
    await expect(page.get_by_test_id("identity-status")).to_contain_text("Restam 2")
    assert await page.evaluate("window.cobraDesk.state().pop.details") is None
    await page.keyboard.type("17051980")  # the wrong answer is selected: typing replaces it
    await page.keyboard.press("Enter")

    await expect(page.get_by_test_id("details")).to_be_visible()
    await expect(page.get_by_test_id("identity")).to_be_hidden()
    await expect(page.get_by_test_id("pop-greeting")).to_have_text("Maria Conceição da Silva")
    await expect(page.get_by_test_id("debts")).to_contain_text("10/03/2025")
    await expect(page.get_by_test_id("debts-total")).to_contain_text("R$ ")
    # the script went through its identity step on the match
    await expect(page.get_by_test_id("script-title")).not_to_have_text("Confirmação de identidade")
    total = await page.get_by_test_id("debts-total").text_content()
    await expect(page.get_by_test_id("pop-total")).to_have_text(total or "")
    await _fits(page, ABOVE_THE_FOLD + ("tabs-box",))
    await page.screenshot(path=str(tmp_path / "details-1366.png"))

    await page.keyboard.press("h")  # the contacts tab, one key
    await expect(page.get_by_test_id("history")).to_be_visible()
    await page.keyboard.press("d")

    await page.keyboard.press("F9")  # Desligar
    await expect(page.get_by_test_id("agent-state")).to_have_attribute("data-state", "wrap_up")
    await expect(page.get_by_test_id("my-reviews")).to_be_hidden()
    await page.keyboard.press("1")  # PROMESSA: the amount takes the typing
    await expect(page.get_by_test_id("outcome-PROMESSA")).to_have_attribute("aria-checked", "true")
    await expect(page.get_by_test_id("promise-amount")).to_be_focused()
    await page.keyboard.type("999.999,00")
    await page.keyboard.press("Tab")
    promise_day = date.today() + timedelta(days=4)
    await page.keyboard.type(promise_day.strftime("%d%m%Y"))
    await expect(page.get_by_test_id("promise-date")).to_have_value(promise_day.strftime("%d/%m/%Y"))
    await page.keyboard.press("Control+Enter")
    # more than the debt: refused by the server, naming the field and the bound
    await expect(page.get_by_test_id("dispose-error")).to_contain_text("passa do total atualizado")
    await expect(page.get_by_test_id("promise-amount")).to_be_focused()  # the refused field, its text selected
    await page.keyboard.type("150,00")
    await page.keyboard.press("Control+Enter")

    await expect(page.get_by_test_id("notice")).to_have_text("Resultado registrado.")
    await expect(page.get_by_test_id("agent-state")).to_have_attribute("data-state", "ready")
    await expect(page.get_by_test_id("my-reviews")).to_be_visible()  # idle again
    # the focus went back to the page: the next call's digits choose outcomes, not type into a field
    assert await page.evaluate("document.activeElement === document.body")
    assert await page.evaluate("window.scrollY") == 0

    async with rig.db() as s:
        [outcome] = (await s.execute(select(Outcome))).scalars()
        attempts = list((await s.execute(select(AuditLog).where(AuditLog.action == "identity_attempt"))).scalars())
    assert (outcome.code, outcome.promise_amount, outcome.promise_date) == (OutcomeCode.PROMESSA, Decimal("150.00"), promise_day)
    assert [a.after["matched"] for a in attempts] == [False, True]
    assert all("17/05/1980" not in str(a.after) and "18/05/1980" not in str(a.after) for a in attempts)


async def test_the_pop_fits_a_1920x1080_screen_too_and_lists_every_shortcut(browser: Any, rig: DeskRig, tmp_path: Path) -> None:
    from playwright.async_api import expect

    page = await _page(browser, rig, 1920, 1080)
    await expect(page.get_by_test_id("conn")).to_have_attribute("data-conn", "up")
    await page.keyboard.press("?")
    help_box = page.get_by_test_id("help")
    await expect(help_box).to_be_visible()
    for key in ("F2", "F3", "F4", "F8", "F9", "Ctrl", "Alt", "Shift", "Esc"):
        await expect(help_box).to_contain_text(key)
    await expect(page.get_by_test_id("help-keys")).to_contain_text("Resultado: Falecido")
    await page.keyboard.press("Escape")
    await expect(help_box).to_be_hidden()

    await page.keyboard.press("5")  # no call: said, not silently ignored
    await expect(page.get_by_test_id("notice")).to_contain_text("Nenhuma chamada na tela")

    await page.get_by_test_id("btn-ready").click()
    await expect(page.get_by_test_id("call-phase")).to_have_text("Em conversa")
    await page.keyboard.press("Control+Enter")  # during the call: refused in words
    await expect(page.get_by_test_id("notice")).to_contain_text("desligue (F9)")
    await page.get_by_test_id("identity-method").select_option("cpf")
    await page.get_by_test_id("identity-answer").fill("123")
    await page.get_by_test_id("identity-answer").press("Enter")
    await expect(page.get_by_test_id("details")).to_be_visible()
    await _fits(page, ABOVE_THE_FOLD + ("tabs-box",))
    await page.screenshot(path=str(tmp_path / "details-1920.png"))

    # numbered offers and script choices: Shift+n picks offer n (and shows the tab), Alt+n takes choice n
    await expect(page.get_by_test_id("tab-offers")).to_be_enabled()  # the quote follows the full pop
    await page.keyboard.press("Shift+Digit2")
    await expect(page.get_by_test_id("offers")).to_be_visible()
    second = page.get_by_test_id("offer-list").locator(".offer").nth(1)
    await expect(second).to_have_attribute("aria-checked", "true")
    await expect(page.get_by_test_id("chosen-offer")).to_contain_text("Parcelado")
    await expect(page.get_by_test_id("script-title")).to_have_text("Apresentação do débito")
    await page.keyboard.press("Alt+Digit1")  # "Reconhece o débito"
    await expect(page.get_by_test_id("script-title")).not_to_have_text("Apresentação do débito")
    # the agent's own day, one key from anywhere on the page
    await expect(page.get_by_test_id("my-day-line")).to_contain_text("Retornos: 0")
    await page.keyboard.press("m")
    await expect(page.get_by_test_id("my-day-panel")).to_be_visible()
    await expect(page.get_by_test_id("day-callbacks")).to_contain_text("Nenhum retorno")
