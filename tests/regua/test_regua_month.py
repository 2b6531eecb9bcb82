"""The scheduler over a simulated month matches the default régua exactly for a fixed portfolio;
preview and run twice act once; opt-outs are honoured; broken commitments come back boosted."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialer.regua.services import ReguaSettings, preview_day, run_day
from storage.models import Lead, OutboxMessage, Promise, PromiseStatus, ReguaDecision
from storage.repositories import regua as repo
from tests.regua.portfolio import at_brt, seed

MARCH = [date(2026, 3, 1) + timedelta(days=n) for n in range(31)]
SETTINGS = ReguaSettings(grace_days=3)


async def _decisions(sessions: async_sessionmaker[AsyncSession]) -> set[tuple[str, int, date]]:
    async with sessions() as db:
        rows = (await db.execute(select(ReguaDecision))).scalars().all()
    return {(d.rule_key, d.customer_id, d.run_on) for d in rows}


async def test_a_month_of_daily_runs_matches_the_default_regua(sessions: async_sessionmaker[AsyncSession]) -> None:
    p = await seed(sessions)
    for day in MARCH:
        report = await run_day(sessions, day, SETTINGS, now=at_brt(day, 7))
        assert report.already == 0  # nothing already decided is even tried again (Davi's installment stays unpaid)
    expected = {
        # Ana, due Tue 10/03: reminder Thu 05, SMS Wed 11, dialing Sun 15 (no message: allowed), offer Wed 25
        ("lembrete-d-5", p.ana, date(2026, 3, 5)),
        ("aviso-d1", p.ana, date(2026, 3, 11)),
        ("discagem-d5", p.ana, date(2026, 3, 15)),
        ("segundo-aviso-d15", p.ana, date(2026, 3, 25)),
        # Bruno (RJ, no e-mail), due Sat 07/03: D+1 is a Sunday, so the SMS goes on Monday 09; D+5 Thu 12
        ("aviso-d1", p.bruno, date(2026, 3, 9)),
        ("discagem-d5", p.bruno, date(2026, 3, 12)),
        # Carla (e-mail only), due Fri 20/03: reminder Sun 15 is deferred to Mon 16; no SMS; dialing Wed 25
        ("lembrete-d-5", p.carla, date(2026, 3, 16)),
        ("discagem-d5", p.carla, date(2026, 3, 25)),
        # Davi's agreement: installment 1 reminder Fri 13 (D-3), broken on Fri 20 (16 + 3 days' grace < 20);
        # installment 2 is paid: nothing; the contract is in the agreement: no debt steps
        ("parcela-d-3", p.davi, date(2026, 3, 13)),
        ("quebra", p.davi, date(2026, 3, 16 + 3 + 1)),
        # Eva's promise of 12/03 unpaid: broken on Mon 16
        ("quebra", p.eva, date(2026, 3, 16)),
    }
    assert await _decisions(sessions) == expected
    async with sessions() as db:
        messages = (await db.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars().all()
        assert [(m.channel, m.recipient) for m in messages] == [
            ("email", "ana@example.com"),
            ("sms", "+5521987654321"),
            ("sms", "+5511987654321"),
            ("whatsapp", "+5511912345678"),
            ("email", "carla@example.com"),
            ("email", "ana@example.com"),
        ]
        first = messages[0]
        assert first.subject == "Lembrete: seu pagamento de R$ 500,00 vence em 10/03/2026"
        assert "Olá, Ana." in first.body and "CT-ANA" in first.body
        offer = messages[-1]
        assert "10% de desconto" in offer.body and "R$ 450,00" in offer.body
        leads = {lead.customer_id: lead for lead in (await db.execute(select(Lead))).scalars()}
        assert (leads[p.eva].boost, leads[p.eva].last_result) == (10, "PROMESSA_QUEBRADA")
        assert (leads[p.davi].boost, leads[p.davi].last_result) == (10, "PROMESSA_QUEBRADA")
        assert (leads[p.ana].boost, leads[p.ana].last_result) == (5, "REGUA_D+5")
        assert (await db.get(Promise, p.promise)).status is PromiseStatus.BROKEN  # type: ignore[union-attr]


async def test_a_missed_week_is_caught_up_once_and_capped_per_run(sessions: async_sessionmaker[AsyncSession]) -> None:
    p = await seed(sessions)
    capped = ReguaSettings(grace_days=3, max_per_run=1)
    # nothing ran until Mon 16/03: Ana's SMS (11) and dialing (15), Bruno's dialing (12; his SMS fell on Sun 08,
    # more than the 7 catch-up days ago), Carla's reminder (15), Davi's installment reminder (13), Eva's broken promise
    first = await run_day(sessions, date(2026, 3, 16), capped, now=at_brt(date(2026, 3, 16)))
    assert first.decided == 1 and first.left_for_next_run > 0
    full = await run_day(sessions, date(2026, 3, 16), SETTINGS, now=at_brt(date(2026, 3, 16)))
    again = await run_day(sessions, date(2026, 3, 16), SETTINGS, now=at_brt(date(2026, 3, 16)))
    assert again.decided == 0 and again.broken == 0
    assert {(k, c) for k, c, _ in await _decisions(sessions)} == {
        ("aviso-d1", p.ana), ("discagem-d5", p.ana), ("discagem-d5", p.bruno),
        ("lembrete-d-5", p.carla), ("parcela-d-3", p.davi), ("quebra", p.eva),
    }
    assert first.decided + full.decided == 5 and first.broken + full.broken == 1


async def test_preview_twice_then_run_twice_decides_each_step_once(sessions: async_sessionmaker[AsyncSession]) -> None:
    p = await seed(sessions)
    day = date(2026, 3, 11)
    one = await preview_day(sessions, day, SETTINGS, now=at_brt(day))
    two = await preview_day(sessions, day, SETTINGS, now=at_brt(day))
    assert [(i.rule.key, i.customer_id) for i in one.items] == [(i.rule.key, i.customer_id) for i in two.items]
    assert one.counts()["aviso-d1"] == 2 and one.counts()["lembrete-d-5"] == 0  # Ana on the day, Bruno caught up
    assert await _decisions(sessions) == set()  # a preview stores nothing
    await run_day(sessions, day, SETTINGS, now=at_brt(day))
    await run_day(sessions, day, SETTINGS, now=at_brt(day, 15))
    async with sessions() as db:
        messages = (await db.execute(select(OutboxMessage))).scalars().all()
    assert sorted(m.recipient for m in messages) == ["+5511987654321", "+5521987654321"]  # Ana D+1, Bruno caught up
    assert (await preview_day(sessions, day, SETTINGS, now=at_brt(day))).items == []
    del p


async def test_an_opt_out_is_honoured_by_every_later_run(sessions: async_sessionmaker[AsyncSession]) -> None:
    p = await seed(sessions)
    async with sessions.begin() as db:
        assert await repo.add_opt_out(db, customer_id=p.ana, channel="sms", source="resposta", detail="SAIR",
                                      user_id=None, at=at_brt(date(2026, 3, 1)))
    for day in MARCH[:16]:
        await run_day(sessions, day, SETTINGS, now=at_brt(day))
    ana = {(k, d) for k, c, d in await _decisions(sessions) if c == p.ana}
    assert ana == {("lembrete-d-5", date(2026, 3, 5)), ("discagem-d5", date(2026, 3, 15))}  # no D+1 SMS
    preview = await preview_day(sessions, date(2026, 3, 11), ReguaSettings(catch_up_days=0), now=at_brt(date(2026, 3, 11)))
    assert preview.items == []
    assert preview.skipped[("aviso-d1", "canal bloqueado pelo cliente")] == 1  # the preview says why
