"""Seeding the demo database: everything the demo needs, and a second run changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from storage.engine import create_engine, session_factory
from storage.models import (
    Campaign,
    CampaignMode,
    CampaignStatus,
    Customer,
    Debt,
    Lead,
    Phone,
    Role,
    User,
)
from tests.web.conftest import FAST_HASHER
from web.demo.seed import CAMPAIGN_NAME, seed_demo

# the demo's clock: what the seed stores is dated from it, not from the machine's
NOW = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)


async def _count(db, model) -> int:  # type: ignore[no-untyped-def]
    return (await db.execute(select(func.count()).select_from(model))).scalar_one()


async def test_seed_is_complete_and_idempotent(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as db:
            first = await seed_demo(db, FAST_HASHER, customers=1000, now=NOW, bots=2)
        async with session_factory(engine)() as db:
            second = await seed_demo(db, FAST_HASHER, customers=1000, now=NOW, bots=2)
            counts = {m.__name__: await _count(db, m) for m in (User, Customer, Phone, Debt, Lead, Campaign)}
            users = {u.login: u for u in (await db.execute(select(User))).scalars()}
            campaign = (await db.execute(select(Campaign))).scalar_one()
            due = set((await db.execute(select(Lead.next_attempt_at).distinct())).scalars())
    finally:
        await engine.dispose()
    assert (first.users_created, first.customers_created, first.campaign_created) == (8, 1000, True)
    assert (second.users_created, second.customers_created, second.campaign_created) == (0, 0, False)
    assert counts["Customer"] == counts["Lead"] == 1000 and counts["Campaign"] == 1 and counts["User"] == 8
    assert due == {NOW}  # every lead falls due on the demo's clock, not the machine's
    assert counts["Phone"] >= 1000 and counts["Debt"] >= 1000
    assert (campaign.name, campaign.mode, campaign.status) == (CAMPAIGN_NAME, CampaignMode.PROGRESSIVE, CampaignStatus.ACTIVE)
    assert campaign.dial_template == "Local/{number}@cust-sim"
    agents = sorted((u.extension, u.endpoint) for u in users.values() if u.role is Role.AGENT and u.login.startswith("agente"))
    assert agents == [(f"700{i}", f"Local/700{i}@agent-sim") for i in (1, 2, 3)]
    assert {u.role for u in users.values()} == {Role.AGENT, Role.SUPERVISOR, Role.QA, Role.ADMIN}
    assert users["robo2"].extension == "7102"


async def test_the_demo_ranks_leads_by_aging_segments_a_supervisor_can_reorder(db_url: str) -> None:
    from dialer.leads.segments import position_of
    from storage.repositories.segments import list_segments

    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as db:
            await seed_demo(db, FAST_HASHER, customers=60, now=NOW, bots=0)
            campaign = (await db.execute(select(Campaign))).scalar_one()
            segments = await list_segments(db, campaign.id)
            positions = {position_of(p) for p in (await db.execute(select(Lead.priority))).scalars()}
    finally:
        await engine.dispose()
    assert [s.name for s in segments] == ["Atraso 1-30 dias", "Atraso 31-60 dias", "Atraso 61-90 dias",
                                          "Atraso 91-180 dias", "Atraso 181-360 dias", "Atraso 360+ dias"]
    assert {s.weight for s in segments} == {100}
    # every lead is ranked on the segment scale (none left at the unranked 0), each in its bucket's segment
    assert positions == {0, 1, 2, 3, 4, 5}
