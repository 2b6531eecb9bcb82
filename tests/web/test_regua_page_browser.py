"""A real browser (Debian's chromium through Playwright): a supervisor runs the régua, sees the
outbox, retries a failed message, blocks a channel and edits a step."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import update

from storage.engine import create_engine, session_factory
from storage.models import OutboxMessage, OutboxStatus
from tests.regua.portfolio import seed
from tests.support.browser import BROWSER_MARKS, chromium
from tests.web.conftest import PASSWORD, Clock

pytestmark = BROWSER_MARKS


@pytest.fixture
async def page(served: str) -> AsyncIterator[Any]:
    async with chromium() as browser:
        context = await browser.new_context(base_url=served, locale="pt-BR", viewport={"width": 1200, "height": 900})
        yield await context.new_page()


async def _fail_all_messages(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine).begin() as db:
            await db.execute(update(OutboxMessage).values(status=OutboxStatus.FAILED, last_error="SMTP 550: caixa inexistente"))
    finally:
        await engine.dispose()


async def test_supervisor_runs_the_regua_and_retries_a_failed_message(
    page: Any, served: str, clock: Clock, db_url: str
) -> None:
    from playwright.async_api import expect

    engine = create_engine(db_url)
    try:
        await seed(session_factory(engine))
    finally:
        await engine.dispose()
    clock.now = datetime(2026, 3, 10, 13, 0, tzinfo=UTC)  # Tuesday 10:00 in Brasília
    await page.goto("/login")
    await page.get_by_label("Usuário").fill("sofia")
    await page.get_by_label("Senha").fill(PASSWORD)
    await page.get_by_role("button", name="Entrar").click()
    await expect(page).to_have_url(f"{served}/supervisor")
    await page.get_by_role("link", name="Régua de cobrança").click()
    await expect(page.get_by_test_id("regua-previa")).to_contain_text("Quem recebe o quê em 11/03/2026")

    await page.get_by_test_id("regua-executar").click()
    await expect(page.get_by_test_id("regua-aviso")).to_contain_text("Régua de hoje executada")
    # Bruno's D+1 SMS (Sunday 08/03, caught up) and Ana's D-5 reminder (05/03, caught up: her due date is today)
    await expect(page.get_by_test_id("regua-mensagem")).to_have_count(2)

    await _fail_all_messages(db_url)
    await page.get_by_test_id("regua-situacao-failed").click()
    await expect(page.get_by_test_id("regua-motivo")).to_have_text(["SMTP 550: caixa inexistente"] * 2)
    await page.get_by_test_id("regua-reenviar").first.click()
    await expect(page.get_by_test_id("regua-aviso")).to_contain_text("de volta à fila")
    await expect(page.get_by_test_id("regua-situacao-queued")).to_have_text("na fila: 1")

    await page.get_by_label("Cliente (id externo ou CPF)").fill("111.444.777-35")
    await page.get_by_label("Canal").select_option("sms")
    await page.get_by_test_id("regua-bloquear").click()
    await expect(page.get_by_test_id("regua-aviso")).to_have_text("Bruno Lima: SMS bloqueado.")

    step = page.get_by_test_id("regua-passo").filter(has_text="D+15")
    await step.get_by_label("Dia em relação ao vencimento").fill("12")
    await step.get_by_role("button", name="Salvar passo").click()
    await expect(page.get_by_test_id("regua-aviso")).to_contain_text("salvo")
    await expect(page.get_by_text(re.compile(r"D\+12 · Segundo aviso com oferta"))).to_be_visible()
