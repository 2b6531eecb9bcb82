"""Dates and times read the same in any browser: dd/mm/aaaa and Brasília time on the régua page, the
/monitoria pages, /monitoria/indicadores and the agent desk, in a Chromium set to English (United
States) and UTC, where ``<input type="date">`` shows mm/dd/yyyy and ``toLocaleString()`` UTC hours.

The app runs on the test clock (2026-03-02 12:00 UTC = 09:00 in Brasília)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from sqlalchemy import select

from storage.engine import create_engine, session_factory
from storage.models import CallAttempt
from tests.support.browser import BROWSER_MARKS, chromium
from tests.web.conftest import PASSWORD, Clock
from tests.web.qa_data import Seeded, seed_calls

pytestmark = BROWSER_MARKS
BRASILIA = ZoneInfo("America/Sao_Paulo")


@pytest.fixture
async def seeded(app: web.Application, db_url: str, clock: Clock) -> Seeded:
    return await seed_calls(db_url, clock.now)


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with chromium() as b:
        yield b


async def _page(browser: Any, served: str, login: str, errors: list[str]) -> Any:
    context = await browser.new_context(base_url=served, locale="en-US", timezone_id="UTC",
                                        viewport={"width": 1366, "height": 900})
    page = await context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto("/login")
    await page.get_by_label("Usuário").fill(login)
    await page.get_by_label("Senha").fill(PASSWORD)
    await page.get_by_role("button", name="Entrar").click()
    await page.wait_for_load_state("networkidle")
    return page


async def _calls_on(db_url: str, day: date) -> int:
    """How many seeded calls started on ``day`` in Brasília."""
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as db:
            starts = list(await db.scalars(select(CallAttempt.created_at)))
    finally:
        await engine.dispose()
    return sum(1 for at in starts if at.astimezone(BRASILIA).date() == day)


async def test_monitoria_and_kpi_dates_are_typed_and_shown_dd_mm_aaaa(
    browser: Any, served: str, seeded: Seeded, db_url: str
) -> None:
    from playwright.async_api import expect

    of_the_day = await _calls_on(db_url, date(2026, 3, 2))
    assert 0 < of_the_day < len(seeded.calls)

    errors: list[str] = []
    page = await _page(browser, served, "quito", errors)
    rows = page.get_by_test_id("call-row")
    await expect(rows).to_have_count(len(seeded.calls))
    # digits only: the field writes the slashes, in the Brazilian order
    await page.get_by_test_id("f-from").press_sequentially("03032026")
    await expect(page.get_by_test_id("f-from")).to_have_value("03/03/2026")
    await page.get_by_test_id("search").click()
    await expect(rows).to_have_count(0)  # no seeded call is of 03/03/2026
    assert "from=2026-03-03" in page.url
    await page.get_by_test_id("f-from").fill("02/03/2026")
    await page.get_by_test_id("f-to").fill("02/03/2026")
    await page.get_by_test_id("search").click()
    await expect(rows).to_have_count(of_the_day)
    assert "from=2026-03-02" in page.url and "to=2026-03-02" in page.url
    # the start of the promise's call, 11:50 UTC, in Brasília time
    await expect(page.get_by_test_id("call-row").filter(has_text="PROMESSA")).to_contain_text("02/03/2026 08:50")
    # a reload keeps the filter, shown the Brazilian way
    await page.reload()
    await expect(page.get_by_test_id("f-from")).to_have_value("02/03/2026")

    await page.goto(f"/monitoria/chamadas/{seeded.by_name['promessa']}")
    await expect(page.locator("h1")).to_have_text("Chamada de 02/03/2026 08:50:00")

    await page.goto("/monitoria/indicadores")
    await expect(page.get_by_test_id("kpi-status")).to_have_attribute("data-state", "ready")
    await expect(page.locator("#kpi-from")).to_have_value("24/02/2026")
    await expect(page.locator("#kpi-to")).to_have_value("02/03/2026")
    await expect(page.get_by_test_id("kpi-status")).to_contain_text("de 24/02/2026 a 02/03/2026")
    await page.locator("#kpi-from").fill("01/03/2026")
    await page.locator("#kpi-filters button[type=submit]").click()
    await expect(page.get_by_test_id("kpi-status")).to_contain_text("de 01/03/2026 a 02/03/2026")
    assert "from=2026-03-01" in (await page.get_by_test_id("kpi-export").get_attribute("href") or "")
    assert errors == []


async def test_the_regua_day_is_typed_dd_mm_aaaa(browser: Any, served: str, app: web.Application) -> None:
    from playwright.async_api import expect

    errors: list[str] = []
    page = await _page(browser, served, "sofia", errors)
    await page.goto("/supervisor/regua")
    await expect(page.get_by_test_id("regua-previa")).to_contain_text("Quem recebe o quê em 03/03/2026")
    day = page.get_by_test_id("regua-dia")
    await expect(day).to_have_value("03/03/2026")
    await day.fill("")
    await day.press_sequentially("10032026")
    await expect(day).to_have_value("10/03/2026")
    await page.get_by_test_id("regua-previa").get_by_role("button", name="Ver").click()
    await expect(page.get_by_test_id("regua-previa")).to_contain_text("Quem recebe o quê em 10/03/2026")
    await expect(day).to_have_value("10/03/2026")
    assert errors == []


async def test_the_agent_desk_logs_the_servers_time_in_brasilia(browser: Any, served: str, seeded: Seeded) -> None:
    from playwright.async_api import expect

    errors: list[str] = []
    context = await browser.new_context(base_url=served, locale="en-US", timezone_id="UTC",
                                        viewport={"width": 1366, "height": 768})
    page = await context.new_page()
    # the browser's clock at 15:04:05 UTC, the app's at 12:00 UTC: the desk's event log says the
    # app's time in Brasília, 09:00:00 (not the browser's clock, nor UTC)
    await page.clock.set_fixed_time("2026-03-02T15:04:05Z")
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto("/login")
    await page.get_by_label("Usuário").fill("ana")
    await page.get_by_label("Senha").fill(PASSWORD)
    await page.get_by_role("button", name="Entrar").click()
    await expect(page.get_by_test_id("agent-state")).to_have_text("Fora do discador")
    await expect(page.get_by_test_id("conn")).to_have_attribute("data-conn", "up")
    await page.keyboard.press("F2")  # no dialer runs in this app: refused, and the refusal is logged
    await expect(page.get_by_test_id("events").locator("time").first).to_have_text("09:00:00")
    # idle: the agent's reviews are on the side column
    await expect(page.get_by_test_id("my-reviews")).to_be_visible()
    assert errors == []
