"""A week of synthetic calls in a web test's database, for the KPI API and page tests."""

from __future__ import annotations

from datetime import date, timedelta

from argon2 import PasswordHasher
from sqlalchemy import select

from storage.engine import create_engine, session_factory
from storage.models import Campaign, CampaignMode, Customer, Lead, User
from web.demo.history import History, build_history, store_history
from web.demo.seed import DEMO_USERS, seed_demo

FIRST_DAY = date(2026, 2, 24)  # the web tests' clock says 02/03/2026: a week ending the day before
DAYS = 6
CAMPAIGN = "Carteira Varejo"


async def seed_history(db_url: str, *, attempts: int = 400, seed: int = 13) -> tuple[History, int]:
    """The calls of campaign ``CAMPAIGN`` taken by the agent ``ana``; returns the rows and the campaign id."""
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as db:
            campaign = Campaign(name=CAMPAIGN, mode=CampaignMode.PREDICTIVE, dial_template="Local/{number}@cust-sim",
                                caller_id="551130000000", pbx_name="sim")
            db.add(campaign)
            customers = [Customer(external_id=f"kpi-{i}", name=f"Cliente {i}", cpf=f"{i:011d}") for i in range(1, 6)]
            db.add_all(customers)
            await db.flush()
            agent_ids = list((await db.scalars(select(User.id).where(User.login == "ana"))).all())
            history = build_history(seed=seed, first_day=FIRST_DAY, days=DAYS, attempts=attempts,
                                    campaign_ids=[campaign.id], agent_ids=agent_ids,
                                    customer_ids=[c.id for c in customers])
            await store_history(db, history)
            await db.commit()
            return history, campaign.id
    finally:
        await engine.dispose()


async def seed_demo_history(db_url: str, hasher: PasswordHasher, *, attempts: int = 400) -> History:
    """The demo's own world (``cobra demo``'s users, campaign and portfolio) with a week of its calls."""
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as db:
            report = await seed_demo(db, hasher, customers=40, today=FIRST_DAY + timedelta(days=DAYS))
            logins = [u.login for u in DEMO_USERS if u.extension is not None]
            agent_ids = list((await db.scalars(select(User.id).where(User.login.in_(logins)))).all())
            customer_ids = list((await db.scalars(select(Lead.customer_id).where(Lead.campaign_id == report.campaign_id))).all())
            history = build_history(seed=5, first_day=FIRST_DAY, days=DAYS, attempts=attempts,
                                    campaign_ids=[report.campaign_id], agent_ids=agent_ids, customer_ids=customer_ids)
            await store_history(db, history)
            await db.commit()
            return history
    finally:
        await engine.dispose()
