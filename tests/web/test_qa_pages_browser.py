"""A real browser (Debian's chromium through Playwright): a reviewer filters the records, opens a call and scores it;
the agent sees the review on their desk."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from tests.support.browser import BROWSER_MARKS, chromium
from tests.web.conftest import PASSWORD, Clock
from tests.web.qa_data import Seeded, seed_calls

pytestmark = BROWSER_MARKS


@pytest.fixture
async def seeded(app: web.Application, db_url: str, clock: Clock) -> Seeded:
    return await seed_calls(db_url, clock.now)


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with chromium() as b:
        yield b


async def _page(browser: Any, served: str, login: str, errors: list[str]) -> Any:
    context = await browser.new_context(base_url=served, locale="pt-BR", viewport={"width": 1300, "height": 900})
    page = await context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto("/login")
    await page.get_by_label("Usuário").fill(login)
    await page.get_by_label("Senha").fill(PASSWORD)
    await page.get_by_role("button", name="Entrar").click()
    await page.wait_for_load_state("networkidle")
    return page


async def test_a_reviewer_filters_opens_a_call_scores_it_and_the_agent_sees_it(
    browser: Any, served: str, seeded: Seeded
) -> None:
    from playwright.async_api import expect

    errors: list[str] = []
    page = await _page(browser, served, "quito", errors)
    await expect(page).to_have_url(f"{served}/monitoria")
    rows = page.get_by_test_id("call-row")
    await expect(rows).to_have_count(len(seeded.calls))
    await page.get_by_test_id("f-outcome").select_option("PROMESSA")
    await page.get_by_test_id("search").click()
    await expect(rows).to_have_count(1)
    await expect(rows.first.get_by_test_id("outcome")).to_have_text("PROMESSA")
    assert "outcome=PROMESSA" in (await page.get_by_test_id("export").get_attribute("href") or "")
    await page.get_by_test_id("f-outcome").select_option("")
    await page.get_by_test_id("f-min-amount").fill("2.000,00")
    await page.get_by_test_id("search").click()
    await expect(rows).to_have_count(1)

    await rows.first.get_by_test_id("open-call").click()
    await expect(page).to_have_url(f"{served}/monitoria/chamadas/{seeded.by_name['acordo']}")
    await expect(page.get_by_test_id("timeline")).to_contain_text("Cliente atendeu")
    await expect(page.get_by_test_id("script-run")).to_contain_text("desemprego")
    await expect(page.get_by_test_id("recording")).to_have_attribute(
        "src", f"/api/v1/calls/{seeded.by_name['acordo']}/recording")
    await expect(page.get_by_test_id("no-reviews")).to_be_visible()
    await page.get_by_test_id("no-divida_clara").check()
    await page.get_by_test_id("na-oferta_politica").check()
    await page.get_by_test_id("feedback").fill("Explique os valores com calma.")
    await page.get_by_test_id("save-review").click()
    await expect(page.get_by_test_id("review")).to_contain_text("82,35")
    await expect(page.get_by_test_id("review")).to_contain_text("Explique os valores com calma.")
    assert errors == []

    await page.goto("/monitoria?reviewed=true")
    await expect(rows).to_have_count(1)
    await expect(rows.first.get_by_test_id("reviewed")).to_have_text("Sim")

    agent_errors: list[str] = []
    desk = await _page(browser, served, "ana", agent_errors)
    await expect(desk).to_have_url(f"{served}/agente")
    mine = desk.get_by_test_id("my-review")
    await expect(mine).to_have_count(1)
    await expect(mine).to_contain_text("Nota 82,35")
    await expect(mine).to_contain_text("A melhorar: Informou a dívida com clareza")
    await expect(mine).to_contain_text("Explique os valores com calma.")


async def test_the_scorecard_page_adds_an_item(browser: Any, served: str, seeded: Seeded) -> None:
    from playwright.async_api import expect

    errors: list[str] = []
    page = await _page(browser, served, "quito", errors)
    await page.goto("/monitoria/ficha")
    await page.get_by_test_id("add-item").click()
    await page.locator(".qa-card-item .label").last.fill("Ofereceu o Pix")
    await page.get_by_test_id("save-card").click()
    await expect(page.get_by_test_id("card-status")).to_have_text("Ficha salva.")
    await page.goto(f"/monitoria/chamadas/{seeded.calls[0]}")
    await expect(page.get_by_test_id("score-form")).to_contain_text("Ofereceu o Pix")
    assert errors == []
