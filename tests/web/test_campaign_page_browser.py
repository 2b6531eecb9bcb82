"""The campaign page (/supervisor/campanhas/{id}) in a real browser on the real app, dialer and simulator:
a segment reorder made on the page is honoured by the next pick, a bulk boost by DDD is previewed and
applied, pause from the page stops dialing, and the change history shows each step."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.dialer.runtime_support import actions, add_campaign, add_lead, eventually
from tests.support.browser import BROWSER_MARKS, chromium
from tests.web.agent_rig import DeskRig, WsAgent, desk_of, desk_rig
from tests.web.conftest import PASSWORD

pytestmark = BROWSER_MARKS

# one customer per DDD / state: São Paulo (11), Rio (21), Belo Horizonte (31)
LEADS = (("5511987650011", "SP", "12345678909"), ("5521987650022", "RJ", "52998224725"),
         ("5531987650033", "MG", "11144477735"))


@pytest.fixture
async def rig(db_url: str) -> AsyncIterator[DeskRig]:
    async with desk_rig(db_url) as r:
        yield r


async def _campaign(rig: DeskRig) -> int:
    async with rig.db.begin() as s:
        campaign = await add_campaign(s, running=False, name="Cartões Atrasados")
        for number, uf, cpf in LEADS:
            await add_lead(s, campaign, number, name="Maria Conceição da Silva", uf=uf, cpf=cpf)
    await desk_of(rig.app).runtime.campaign_changed(campaign.id)
    return int(campaign.id)


@pytest.fixture
async def page(rig: DeskRig) -> AsyncIterator[Any]:
    async with chromium() as browser:
        context = await browser.new_context(base_url=rig.url, locale="pt-BR", viewport={"width": 1600, "height": 1000})
        page = await context.new_page()
        page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
        await page.goto("/login")
        await page.get_by_label("Usuário").fill("sofia")
        await page.get_by_label("Senha").fill(PASSWORD)
        await page.get_by_role("button", name="Entrar").click()
        await page.wait_for_url(f"{rig.url}/supervisor")
        yield page


def _customer_originates(rig: DeskRig) -> list[str]:
    return [a.get("Channel", "") for a in actions(rig.sim, "Originate") if "cust-sim" in a.get("Channel", "")]


async def _first_call_after_start(rig: DeskRig, page: Any) -> str:
    """Start the campaign from the page with one agent ready; the number of the first customer dialled."""
    from playwright.async_api import expect

    ana = await WsAgent.log_in(rig.url, "ana")
    try:
        await ana.connect()
        await ana.request({"type": "set_state", "state": "ready"})
        await ana.wait_for(lambda f: f["type"] == "agent_state" and f["state"] == "ready", "ready")
        assert _customer_originates(rig) == []
        await page.get_by_role("button", name="Iniciar").click()
        await expect(page.get_by_test_id("campaign-status")).to_have_text("ativa")
        calls: list[str] = await eventually(lambda: _customer_originates(rig), "a customer dialled")
        return calls[0]
    finally:
        await ana.close()


async def _open(page: Any, campaign_id: int) -> None:
    from playwright.async_api import expect

    await page.get_by_test_id("mainnav").get_by_role("link", name="Campanhas").click()
    await page.get_by_role("link", name="Cartões Atrasados").click()
    await page.wait_for_url(f"**/supervisor/campanhas/{campaign_id}")
    await expect(page.get_by_test_id("campaign-page")).to_have_attribute("data-ready", "1")


async def test_a_segment_reorder_made_on_the_page_is_honoured_by_the_next_pick(rig: DeskRig, page: Any) -> None:
    from playwright.async_api import expect

    campaign_id = await _campaign(rig)
    await _open(page, campaign_id)
    for name, uf in (("São Paulo", "SP"), ("Rio", "RJ")):
        form = page.get_by_test_id("segment-form")
        await form.get_by_label("Nome").fill(name)
        await form.get_by_label("UFs").fill(uf)
        await form.get_by_role("button", name="Adicionar segmento").click()
        await expect(page.get_by_test_id("segment").last).to_have_attribute("data-name", name)
    segments = page.get_by_test_id("segment-title")
    await expect(segments).to_have_text(["São Paulo", "Rio"])
    # same weight: the order decides; Rio goes up
    await page.get_by_role("button", name="Subir Rio").click()
    await expect(segments).to_have_text(["Rio", "São Paulo"])

    first = await _first_call_after_start(rig, page)
    assert "21987650022" in first, first
    history = page.get_by_test_id("history-item")
    await expect(history.first).to_contain_text("Iniciou a campanha (pausada → ativa)")
    await expect(history.nth(1)).to_contain_text("Mudou os segmentos: São Paulo (peso 100), Rio (peso 100) → "
                                                 "Rio (peso 100), São Paulo (peso 100)")
    await expect(history.nth(1)).to_contain_text("Sofia Lima")


async def test_bulk_boost_by_ddd_with_a_count_preview_then_pause_and_history(rig: DeskRig, page: Any) -> None:
    from playwright.async_api import expect

    campaign_id = await _campaign(rig)
    await _open(page, campaign_id)
    bulk = page.get_by_test_id("boost-bulk-form")
    await bulk.get_by_test_id("bulk-ddds").fill("31")
    await expect(page.get_by_test_id("bulk-apply")).to_be_disabled()
    await page.get_by_test_id("bulk-preview").click()
    await expect(page.get_by_test_id("bulk-count")).to_have_text("1 conta")
    await page.get_by_test_id("bulk-apply").click()
    await expect(page.get_by_test_id("done")).to_have_text("Prioridade extra aplicada a 1 contas.")
    await expect(page.get_by_test_id("history-item").first).to_contain_text(
        "Prioridade extra 300 para 1 contas (DDD 31)")

    first = await _first_call_after_start(rig, page)
    assert "31987650033" in first, first

    # pause from the page: the dialer has it within a second (it re-reads campaigns every tick anyway)
    runtime = desk_of(rig.app).runtime
    await page.get_by_role("button", name="Pausar").click()
    await eventually(lambda: runtime.floor.campaigns[campaign_id].status == "paused", "paused on the floor", guard=1.0)
    await expect(page.get_by_test_id("campaign-status")).to_have_text("pausada")
    history = page.get_by_test_id("history-item")
    await expect(history).to_have_count(3)
    await expect(history.nth(0)).to_contain_text("Pausou a campanha (ativa → pausada)")
    await expect(history.nth(1)).to_contain_text("Iniciou a campanha (pausada → ativa)")


async def test_window_script_and_holds_from_the_page(rig: DeskRig, page: Any) -> None:
    from playwright.async_api import expect

    campaign_id = await _campaign(rig)
    await _open(page, campaign_id)
    form = page.get_by_test_id("window-form")
    await form.get_by_test_id("window-none").uncheck()
    for day in ("seg", "ter", "qua", "qui", "sex"):
        await form.get_by_label(day, exact=True).fill("09:00-18:00")
    await form.get_by_role("button", name="Salvar horário").click()
    await expect(page.get_by_test_id("done")).to_have_text("Horário da campanha salvo.")
    pacing = page.get_by_test_id("pacing-form")
    await pacing.get_by_test_id("pacing-mode").select_option("preview")
    await pacing.get_by_label("Nível máximo de discagem").fill("2")
    await pacing.get_by_role("button", name="Salvar ritmo").click()
    await expect(page.get_by_test_id("done")).to_have_text("Ritmo de discagem salvo.")
    runtime = desk_of(rig.app).runtime
    await eventually(lambda: runtime.floor.campaigns[campaign_id].mode.value == "preview", "preview on the floor",
                     guard=1.0)
    holds = page.get_by_test_id("hold-form")
    await holds.get_by_label("Código do cliente").fill("ext-5511987650011")
    await holds.get_by_label("Motivo").fill("Contesta no Procon")
    await holds.get_by_role("button", name="Suspender").click()
    await expect(page.get_by_test_id("hold")).to_have_count(1)
    await page.get_by_test_id("hold").get_by_role("button", name="Encerrar").click()
    await expect(page.get_by_test_id("hold")).to_have_count(0)
    history = page.get_by_test_id("history-item")
    await expect(history).to_have_count(4)
    await expect(history.nth(2)).to_contain_text("Mudou o ritmo de discagem (modo: progressivo → prévia; "
                                                 "nível máximo: 3,0 → 2,0)")
    await expect(history.nth(3)).to_contain_text("Mudou o horário da campanha: sem restrição da campanha → "
                                                 "seg 09:00-18:00")
    async with rig.db() as s:
        from storage.models import Campaign

        campaign = await s.get(Campaign, campaign_id)
        assert campaign is not None and campaign.window_override is not None
        assert campaign.window_override["fri"] == "09:00-18:00" and campaign.window_override["sun"] is None


async def test_a_bulk_boost_whose_count_changed_asks_again(rig: DeskRig, page: Any) -> None:
    from playwright.async_api import expect

    from storage.models import Campaign

    campaign_id = await _campaign(rig)
    await _open(page, campaign_id)
    await page.get_by_test_id("bulk-ddds").fill("21")
    await page.get_by_test_id("bulk-preview").click()
    await expect(page.get_by_test_id("bulk-count")).to_have_text("1 conta")
    # meanwhile another customer of DDD 21 joins the list
    async with rig.db.begin() as s:
        campaign = await s.get(Campaign, campaign_id)
        assert campaign is not None
        await add_lead(s, campaign, "5521987650055", uf="RJ", cpf="39053344705")
    await page.get_by_test_id("bulk-apply").click()
    await expect(page.get_by_test_id("error")).to_contain_text("A contagem mudou: agora são 2 contas, não 1.")
    await expect(page.get_by_test_id("bulk-count")).to_have_text("2 contas (contagem atualizada)")
    await expect(page.get_by_test_id("history-item")).to_have_count(0)
    await page.get_by_test_id("bulk-apply").click()
    await expect(page.get_by_test_id("history-item").first).to_contain_text("Prioridade extra 300 para 2 contas (DDD 21)")


async def test_portfolio_upload_shows_progress_figures_and_the_reject_report(rig: DeskRig, page: Any) -> None:
    from pathlib import Path

    from playwright.async_api import expect

    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "portfolios" / "messy_latin1_semicolon.csv"
    campaign_id = await _campaign(rig)
    await _open(page, campaign_id)
    form = page.get_by_test_id("import-form")
    await page.get_by_test_id("import-file").set_input_files(str(fixture))
    await form.get_by_role("button", name="Enviar").click()
    await expect(page.get_by_test_id("import-result")).to_contain_text("Importado: 12 linhas, 4 clientes novos")
    await expect(page.get_by_test_id("import-progress")).to_have_attribute("value", "100")
    await expect(page.get_by_test_id("reject").first).to_contain_text("CPF com dígitos verificadores errados")
    await expect(page.get_by_test_id("history-item").first).to_contain_text(
        "Importou a carteira messy_latin1_semicolon.csv: 12 linhas, 7 rejeitadas")


async def test_an_agent_cannot_open_the_campaign_pages(rig: DeskRig) -> None:
    from playwright.async_api import expect

    campaign_id = await _campaign(rig)
    async with chromium() as browser:
        context = await browser.new_context(base_url=rig.url, locale="pt-BR")
        page = await context.new_page()
        await page.goto("/login")
        await page.get_by_label("Usuário").fill("ana")
        await page.get_by_label("Senha").fill(PASSWORD)
        await page.get_by_role("button", name="Entrar").click()
        await page.wait_for_url(f"{rig.url}/agente")
        for path in ("/supervisor/campanhas", f"/supervisor/campanhas/{campaign_id}", "/supervisor"):
            resp = await page.goto(path)
            assert resp is not None and resp.status == 403, path
            await expect(page.get_by_test_id("campaign-page")).to_have_count(0)
        resp = await page.goto(f"/api/v1/campaigns/{campaign_id}/history")
        assert resp is not None and resp.status == 403


async def test_the_campaign_list_starts_pauses_and_switches_the_mode(rig: DeskRig, page: Any) -> None:
    from playwright.async_api import expect

    campaign_id = await _campaign(rig)
    runtime = desk_of(rig.app).runtime
    await page.get_by_test_id("mainnav").get_by_role("link", name="Campanhas").click()
    row = page.locator(f"[data-testid=campaign-item][data-campaign-id='{campaign_id}']")
    await expect(row.get_by_test_id("campaign-status")).to_have_text("pausada")
    await row.get_by_role("button", name="Iniciar").click()
    await expect(row.get_by_test_id("campaign-status")).to_have_text("ativa")
    await eventually(lambda: runtime.floor.campaigns[campaign_id].status == "active", "active on the floor", guard=1.0)
    await row.get_by_role("button", name="Pausar").click()
    await expect(row.get_by_test_id("campaign-status")).to_have_text("pausada")
    await eventually(lambda: runtime.floor.campaigns[campaign_id].status == "paused", "paused on the floor", guard=1.0)
    await row.get_by_test_id("campaign-mode").select_option("preview")
    await eventually(lambda: runtime.floor.campaigns[campaign_id].mode.value == "preview", "preview on the floor",
                     guard=1.0)
    await expect(row.get_by_test_id("campaign-mode")).to_have_value("preview")
