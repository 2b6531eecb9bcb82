"""A real browser (Debian's chromium through Playwright): the demo's QA reviewer reads the KPI page on the demo's data."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from tests.support.browser import BROWSER_MARKS, chromium
from tests.web.conftest import FAST_HASHER, Clock
from tests.web.kpi_data import seed_demo_history
from web.app import create_app
from web.auth.settings import Auth, AuthSettings
from web.config import Config
from web.demo.seed import CAMPAIGN_NAME, DEMO_PASSWORD

pytestmark = BROWSER_MARKS


@pytest.fixture
async def app(config: Config, clock: Clock, auth_settings: AuthSettings, db_url: str) -> web.Application:
    """The demo's data (its users, campaign and portfolio) with a week of calls, instead of the test users."""
    await seed_demo_history(db_url, FAST_HASHER)
    return create_app(config, auth=Auth(settings=auth_settings, hasher=FAST_HASHER), clock=clock)


@pytest.fixture
async def page(served: str) -> AsyncIterator[Any]:
    async with chromium() as browser:
        context = await browser.new_context(base_url=served, locale="pt-BR", viewport={"width": 1280, "height": 900},
                                            accept_downloads=True)
        yield await context.new_page()


async def test_qa_reads_charts_filters_and_exports(page: Any, served: str) -> None:
    from playwright.async_api import expect

    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto("/login")
    await page.get_by_label("Usuário").fill("monitoria")
    await page.get_by_label("Senha").fill(DEMO_PASSWORD)
    await page.get_by_role("button", name="Entrar").click()
    await expect(page).to_have_url(f"{served}/monitoria")
    await page.get_by_role("link", name="Indicadores").click()
    await expect(page).to_have_url(f"{served}/monitoria/indicadores")

    # the default period (the last 7 days) holds the seeded week: one row per day and the total
    await expect(page.get_by_test_id("kpi-status")).to_have_attribute("data-state", "ready")
    table = page.get_by_test_id("kpi-table")
    await expect(table.locator("tbody tr")).to_have_count(7)
    await expect(table.locator("tbody tr").first).to_contain_text("24/02/2026")
    await expect(page.get_by_test_id("kpi-total-row")).to_contain_text("R$ ")

    # an SVG chart per KPI, a bar per day, drawn to scale
    charts = page.get_by_test_id("kpi-charts").locator("section")
    await expect(charts).to_have_count(15)
    attempts = page.get_by_test_id("chart-attempts")
    await expect(attempts.locator("rect.bar")).to_have_count(6)
    widths = [float(await bar.get_attribute("width")) for bar in await attempts.locator("rect.bar").all()]
    assert min(widths) > 0 and max(widths) == 260  # the largest day fills the bar
    await expect(page.get_by_test_id("chart-occupancy").locator("text").filter(has_text="%").first).to_be_visible()
    await expect(page.get_by_test_id("chart-right_party_rate")).to_contain_text("CPC ÷ contatos com operador.")
    split = page.get_by_test_id("chart-reasons-split")
    await expect(split).to_contain_text("Causados pela empresa")
    await expect(split.locator("rect.bar.company")).to_have_count(1)
    await expect(page.get_by_test_id("chart-reasons-items")).to_contain_text("Desemprego")

    # regrouped by agent: the agent and the calls nobody took
    await page.get_by_label("Agrupar por", exact=True).select_option("agent")
    await page.get_by_test_id("kpi-apply").click()
    await expect(table).to_contain_text("Ana Paula Ribeiro (agente1)")
    await expect(table).to_contain_text("Cláudia Simões (agente3)")
    await expect(table).to_contain_text("Sem operador")
    await expect(page.get_by_test_id("kpi-export")).to_have_attribute("href", "/api/v1/kpis.csv?from=2026-02-24&to=2026-03-02&by=agent")

    async with page.expect_download() as info:
        await page.get_by_test_id("kpi-export").click()
    download = await info.value
    raw = Path(await download.path()).read_bytes()  # a small local file: no need for a thread
    assert raw.startswith(b"\xef\xbb\xbf") and b"operador;tentativas" in raw and "Bruno Conceição (agente2)".encode() in raw

    # one campaign: the demo's
    await page.get_by_label("Campanha", exact=True).select_option(label=CAMPAIGN_NAME)
    await page.get_by_label("Agrupar por", exact=True).select_option("campaign")
    await page.get_by_test_id("kpi-apply").click()
    await expect(table.locator("tbody tr").first).to_contain_text(CAMPAIGN_NAME)
    await expect(page.get_by_test_id("chart-occupancy").locator("text").filter(has_text="—")).to_have_count(1)

    # a bad period is said in pt-BR, not drawn
    await page.get_by_label("De", exact=True).fill("05/03/2026")
    await page.get_by_test_id("kpi-apply").click()
    await expect(page.get_by_test_id("kpi-error")).to_contain_text("início do período")
    assert errors == [] or all("422" in e for e in errors), errors
