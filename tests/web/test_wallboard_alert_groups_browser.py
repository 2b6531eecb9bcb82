"""Repeated alerts of one kind don't flood the wallboard: five agents releasing calls without a
verified identity are one group (how many, the newest three, "ver mais" for the rest), and an
agent who releases again is counted. Real app, dialer and simulator; real agents' websockets;
the supervisor's page in Chromium."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from storage.models import Role
from tests.dialer.runtime_support import add_campaign, add_lead
from tests.support.browser import BROWSER_MARKS, chromium
from tests.web.agent_rig import DeskRig, WsAgent, desk_of, desk_rig
from tests.web.conftest import PASSWORD, UserSpec, add_users

pytestmark = BROWSER_MARKS

EXTRA = [
    UserSpec("caio", Role.AGENT, "Caio Prado", "7003", "Local/7003@agent-sim"),
    UserSpec("davi", Role.AGENT, "Davi Reis", "7004", "Local/7004@agent-sim"),
    UserSpec("eva", Role.AGENT, "Eva Moura", "7005", "Local/7005@agent-sim"),
]
ORDER = ["ana", "bia", "caio", "davi", "eva"]
NAMES = {"ana": "Ana Souza", "bia": "Beatriz Lima", "caio": "Caio Prado", "davi": "Davi Reis", "eva": "Eva Moura"}


@pytest.fixture
async def rig(db_url: str) -> AsyncIterator[DeskRig]:
    await add_users(db_url, EXTRA)
    async with desk_rig(db_url, time_scale=0.5) as r:
        async with r.db.begin() as s:
            campaign = await add_campaign(s, running=False)
            for n in range(7):
                await add_lead(s, campaign, f"55119876501{n:02d}", name=f"Cliente Número {n}")
        await desk_of(r.app).runtime.set_campaign_running(campaign.id, True)
        yield r


async def _take_and_release(agent: WsAgent, login: str, start: int = 0) -> tuple[str, int]:
    pop = await agent.wait_for(lambda f: f["type"] == "screen_pop", f"{login}'s screen-pop", start)
    await agent.wait_for(lambda f: f["type"] == "identity" and f.get("call_id") == pop["call_id"], "identity", start)
    await agent.request({"type": "override_identity", "call_id": pop["call_id"], "reason": f"Motivo de {login}"})
    return pop["call_id"], len(agent.frames)


async def test_five_releases_are_one_group_newest_first_with_ver_mais(rig: DeskRig) -> None:
    from playwright.async_api import expect

    agents: dict[str, WsAgent] = {}
    async with chromium() as browser:
        context = await browser.new_context(base_url=rig.url, locale="pt-BR", viewport={"width": 1366, "height": 768})
        page = await context.new_page()
        await page.goto("/login")
        await page.get_by_label("Usuário").fill("sofia")
        await page.get_by_label("Senha").fill(PASSWORD)
        await page.get_by_role("button", name="Entrar").click()
        await expect(page.get_by_test_id("conn")).to_have_attribute("data-conn", "up")
        group = page.get_by_test_id("alerts").locator("[data-testid=alert-group][data-kind=identity_override]")
        items = group.get_by_test_id("alert-item")
        try:
            calls: dict[str, tuple[str, int]] = {}
            for login in ORDER:  # one after the other: eva's is the newest
                agents[login] = agent = await WsAgent.log_in(rig.url, login)
                await agent.connect()
                await agent.request({"type": "set_state", "state": "ready"})
                calls[login] = await _take_and_release(agent, login)
                if login == "bia":  # two of a kind: already a group, no longer two lines
                    await expect(group).to_contain_text("2 operadores liberaram a chamada sem verificar a identidade")
            await expect(group).to_contain_text("5 operadores liberaram a chamada sem verificar a identidade")
            await expect(page.get_by_test_id("alert").filter(has_text="sem verificar a identidade")).to_have_count(0)
            await expect(page.get_by_test_id("alert-count")).to_have_text("5")
            # the newest three, newest first; the other two behind "ver mais 2"
            await expect(items).to_have_text([f"{NAMES[x]}: Motivo de {x}" for x in ("eva", "davi", "caio")])
            more = group.get_by_test_id("alert-more")
            await expect(more).to_have_text("ver mais 2")
            await more.click()
            await expect(items).to_have_count(5)
            await expect(items.nth(4)).to_have_text("Ana Souza: Motivo de ana")
            await group.get_by_test_id("alert-more").click()  # "mostrar menos"
            await expect(items).to_have_count(3)

            # ana hangs up, disposes, takes the next call and releases it too: counted, and the newest now
            ana = agents["ana"]
            call_id, seen = calls["ana"]
            await ana.request({"type": "hangup", "call_id": call_id})
            await ana.wait_for(lambda f: f["type"] == "call_ended" and f.get("call_id") == call_id, "call ended", seen)
            await ana.request({"type": "dispose", "call_id": call_id, "code": "RECADO", "client_key": "k-ana-call-1"})
            seen = len(ana.frames)
            await _take_and_release(ana, "ana", seen)
            await expect(items.first).to_have_text("Ana Souza (2×): Motivo de ana")
        finally:
            for agent in agents.values():
                await agent.close()
