"""A broken promise returns the account to the list with a boost, and the next pop says why
("promessa quebrada") and which channels the customer stopped."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialer.calls.services import build_screen_pop
from dialer.regua.services import ReguaSettings, run_day
from storage.models import Lead, LeadState
from storage.repositories import regua as repo
from storage.repositories.screen_pop import load_pop_data
from tests.regua.portfolio import at_brt, seed
from web.agent.views import pop_summary


async def test_a_broken_promise_comes_back_boosted_and_the_pop_says_why(sessions: async_sessionmaker[AsyncSession]) -> None:
    p = await seed(sessions)
    day = date(2026, 3, 16)  # Eva promised for 12/03; 3 days' grace end on the 15th
    now = at_brt(day)
    async with sessions.begin() as db:
        assert await repo.add_opt_out(db, customer_id=p.eva, channel="whatsapp", source="supervisor", detail="",
                                      user_id=None, at=now)
    await run_day(sessions, date(2026, 3, 15), ReguaSettings(grace_days=3), now=at_brt(date(2026, 3, 15)))
    async with sessions() as db:
        lead = (await db.execute(select(Lead).where(Lead.customer_id == p.eva))).scalar_one()
        assert (lead.boost, lead.state) == (0, LeadState.DONE)  # not broken yet on the 15th
    await run_day(sessions, day, ReguaSettings(grace_days=3, broken_boost=25), now=now)
    async with sessions() as db:
        lead = (await db.execute(select(Lead).where(Lead.customer_id == p.eva))).scalar_one()
        assert (lead.boost, lead.state, lead.last_result) == (25, LeadState.DIALABLE, "PROMESSA_QUEBRADA")
        assert lead.next_attempt_at == now
        data = await load_pop_data(db, p.eva, now=now, day_start=now - timedelta(hours=10))
    pop = build_screen_pop(data, call_id="c1", campaign_id=p.campaign, campaign_name="Carteira régua",
                           mode="progressive", phone_e164="+5511955554444", at=now, today_local=day)
    flags = pop_summary(pop, now).flags
    assert "promessa quebrada" in flags
    assert "não enviar WhatsApp (pedido do cliente)" in flags
