"""Stored XSS, tried for real (issue 14 item 3): a customer imported as ``<img src=x onerror=alert(1)> Souza``
with a note full of HTML in their history, and a published script whose text carries HTML-looking
text and **negrito**, reach the agent page in Debian's chromium under the Content-Security-Policy.
Everything shows literally, no script runs (no dialog, ``window.__xss`` stays undefined), and no
page of any role reports a CSP violation."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from dialer.scripts_catalog import refresh_campaign_scripts
from storage.models import CallAttempt, CampaignMode, Outcome, OutcomeCode, Role
from storage.models import CallResult as Result
from storage.repositories.scripts import publish_version, set_campaign_script
from tests.dialer.runtime_support import add_campaign, add_lead
from tests.support.browser import BROWSER_MARKS, chromium
from tests.web.agent_rig import DeskRig, desk_of, desk_rig
from tests.web.conftest import PASSWORD, UserSpec, add_users

pytestmark = BROWSER_MARKS

XSS_NAME = "<img src=x onerror=alert(1)> Souza"
XSS_NOTE = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
# valid script text: the sandbox escapes {{ cliente.nome }}; "&lt;...&gt;" in the text decodes to
# HTML-looking text that the page must still show as text
SCRIPT = textwrap.dedent(
    """\
    id: seguro
    version: 1
    title: Roteiro com texto perigoso
    steps:
      - id: abertura
        title: Apresentação
        text: |
          Posso falar com {{ cliente.nome }}?
          **Atenção**: não leia &lt;img src=x onerror="window.__xss=3"&gt; em voz alta.
        choices:
          - id: pessoa_certa
            label: A própria pessoa atendeu
            next: identidade
          - id: recado
            label: Recado
            dispose: RECADO
      - id: identidade
        title: Identidade
        gate: identity_confirmed
        text: Confirme os dados.
        choices:
          - id: confere
            label: Dados conferem
            next: fim
            confirms_identity: true
      - id: fim
        title: Fim
        text: Recusou.
        choices:
          - id: recusa
            label: Recusou
            dispose: RECUSA
    """
)
CSP_WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI + " " + e.sourceFile + ":" + e.lineNumber);
});
"""


@pytest.fixture
async def rig(db_url: str) -> AsyncIterator[DeskRig]:
    async with desk_rig(db_url, time_scale=0.5) as r:
        await add_users(db_url, [UserSpec("quito", Role.QA, "Quitéria Alves"), UserSpec("root", Role.ADMIN, "Admin TI")])
        async with r.db.begin() as s:
            campaign = await add_campaign(s, running=False)
            lead = await add_lead(s, campaign, "5511987650071", name=XSS_NAME)
            # an earlier call whose note is HTML (notes are free text typed by agents)
            earlier = CallAttempt(
                campaign_id=campaign.id, customer_id=lead.customer_id, mode=CampaignMode.PROGRESSIVE,
                number="+5511987650071", result=Result.CONNECTED, agent_id=r.users["bia"],
                created_at=datetime(2025, 1, 6, 14, 0, tzinfo=UTC),
            )
            s.add(earlier)
            await s.flush()
            s.add(Outcome(attempt_id=earlier.id, agent_id=r.users["bia"], code=OutcomeCode.RECADO, notes=XSS_NOTE,
                          client_key="xss-note"))
            await publish_version(s, "seguro", SCRIPT, published_by=r.users["sofia"])
            await set_campaign_script(s, campaign.id, "seguro")
        await refresh_campaign_scripts(r.db, desk_of(r.app).scripts)
        await desk_of(r.app).runtime.set_campaign_running(campaign.id, True)
        yield r


@pytest.fixture
async def browser(rig: DeskRig) -> AsyncIterator[Any]:
    async with chromium() as launched:
        yield launched


async def _page(browser: Any, rig: DeskRig, login: str, home: str, dialogs: list[str]) -> Any:
    from playwright.async_api import expect

    context = await browser.new_context(base_url=rig.url, locale="pt-BR", viewport={"width": 1366, "height": 900})
    await context.add_init_script(CSP_WATCH)  # runs before the page's own scripts, on every page
    page = await context.new_page()
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    await page.goto("/login")
    await page.get_by_label("Usuário").fill(login)
    await page.get_by_label("Senha").fill(PASSWORD)
    await page.get_by_role("button", name="Entrar").click()
    await expect(page).to_have_url(f"{rig.url}{home}")
    return page


async def test_html_in_customer_names_notes_and_scripts_shows_literally_and_never_runs(browser: Any, rig: DeskRig) -> None:
    from playwright.async_api import expect

    dialogs: list[str] = []
    page = await _page(browser, rig, "ana", "/agente", dialogs)
    await expect(page.get_by_test_id("conn")).to_have_attribute("data-conn", "up")
    await page.get_by_test_id("btn-ready").click()
    await expect(page.get_by_test_id("call-phase")).to_have_text("Em conversa")

    script = page.get_by_test_id("script-text")
    await expect(script).to_contain_text(f"Posso falar com {XSS_NAME}?")
    await expect(script).to_contain_text('não leia <img src=x onerror="window.__xss=3"> em voz alta.')
    # the one piece of markup the page builds itself
    await expect(script.locator("strong")).to_have_text("Atenção")
    assert await script.locator("br").count() >= 1

    await page.get_by_test_id("identity-answer").fill("17/05/1980")
    await page.get_by_test_id("identity-answer").press("Enter")
    await expect(page.get_by_test_id("pop-greeting")).to_have_text(XSS_NAME)
    await expect(page.get_by_test_id("history")).to_contain_text(XSS_NOTE)

    # nothing the server sent became an element: no <img>, no <script> beyond the page's own
    assert await page.evaluate("document.querySelectorAll('img[src=\"x\"], #history img, #script-text img').length") == 0
    own_scripts = await page.evaluate("Array.from(document.scripts).map(s => s.getAttribute('src'))")
    assert all(src and src.startswith("/static/") for src in own_scripts)
    assert await page.evaluate("typeof window.__xss") == "undefined"
    assert dialogs == []
    assert await page.evaluate("window.__csp") == []


@pytest.mark.parametrize(
    ("login", "pages"),
    [
        ("sofia", ["/supervisor", "/supervisor/roteiros", "/supervisor/simulacao"]),
        ("quito", ["/monitoria", "/monitoria/fila", "/monitoria/ficha"]),
        ("root", ["/admin"]),
    ],
)
async def test_no_page_breaks_the_content_security_policy(browser: Any, rig: DeskRig, login: str, pages: list[str]) -> None:
    from playwright.async_api import expect

    dialogs: list[str] = []
    page = await _page(browser, rig, login, pages[0], dialogs)
    for path in pages:
        response = await page.goto(path)
        assert response is not None and response.status == 200, path
        assert "unsafe-inline" not in (await response.all_headers())["content-security-policy"]
        await page.wait_for_load_state("networkidle")
        assert await page.evaluate("window.__csp") == [], path
    if "/supervisor/roteiros" in pages:
        # the editor still works under the policy: validate and preview the published script
        await page.goto("/supervisor/roteiros")
        await page.get_by_test_id("yaml").fill(SCRIPT)
        await page.get_by_test_id("validate").click()
        await expect(page.get_by_test_id("status")).to_have_text("Roteiro válido.")
        await page.get_by_test_id("preview").click()
        preview = page.get_by_test_id("preview-box")
        await expect(preview).to_contain_text("Posso falar com Maria da Silva Souza?")
        await expect(preview).to_contain_text('não leia <img src=x onerror="window.__xss=3"> em voz alta.')
        await expect(preview.locator("strong")).to_have_text("Atenção")
        assert await page.evaluate("typeof window.__xss") == "undefined"
        assert await page.evaluate("window.__csp") == []
    assert dialogs == []
