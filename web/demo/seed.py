"""Seeding the demo database: users, one progressive campaign, the synthetic portfolio.

Idempotent: users that exist are kept (their passwords are not reset), and the portfolio
is loaded only when the demo campaign is new, so a second ``cobra demo`` reuses everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from argon2 import PasswordHasher
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.clocks import BRASILIA
from dialer.leads.hopper import reprioritise_campaign
from storage.models import (
    Campaign,
    CampaignMode,
    CampaignStatus,
    Customer,
    Lead,
    Role,
    User,
)
from storage.repositories.portfolio import CustomerRecord, DebtRecord, store_customers
from storage.repositories.segments import StoredSegment, list_segments, replace_segments
from web.auth.accounts import add_account, check_new_account
from web.demo.portfolio import demo_email, generate_customers

DEMO_PASSWORD = "cobra-demo"
# the demo portfolio's aging buckets (web.demo.portfolio.AGING_BUCKETS), as segment filters name them
DEMO_BUCKETS = ("1-30", "31-60", "61-90", "91-180", "181-360", "360+")
DEMO_SEGMENT_WEIGHT = 100
CAMPAIGN_NAME = "Demonstração: carteira geral"
DIAL_TEMPLATE = "Local/{number}@cust-sim"
CALLER_ID = "551130000000"


@dataclass(frozen=True, slots=True)
class DemoUser:
    login: str
    role: Role
    full_name: str
    extension: str | None = None
    phone: str | None = None  # a phone without an extension: the supervisor's, for listen / whisper / barge

    @property
    def endpoint(self) -> str | None:
        if self.phone is not None:
            return self.phone
        return None if self.extension is None else f"Local/{self.extension}@agent-sim"


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("agente1", Role.AGENT, "Ana Paula Ribeiro", "7001"),
    DemoUser("agente2", Role.AGENT, "Bruno Conceição", "7002"),
    DemoUser("agente3", Role.AGENT, "Cláudia Simões", "7003"),
    DemoUser("supervisor", Role.SUPERVISOR, "Sérgio Magalhães", phone="Local/7901@agent-sim"),
    DemoUser("monitoria", Role.QA, "Quitéria Alves"),
    DemoUser("admin", Role.ADMIN, "Administração TI"),
)


def bot_user(n: int) -> DemoUser:
    """The ``n``-th bot agent (1-based): extensions from 7101."""
    return DemoUser(f"robo{n}", Role.AGENT, f"Robô Operador {n}", str(7100 + n))


@dataclass(frozen=True, slots=True)
class SeedReport:
    users_created: int
    customers_created: int
    campaign_id: int
    campaign_created: bool


async def ensure_users(db: AsyncSession, hasher: PasswordHasher, users: tuple[DemoUser, ...] | list[DemoUser]) -> int:
    """Create the users that do not exist yet; how many were created."""
    existing = set((await db.execute(select(User.login))).scalars())
    created = 0
    for u in users:
        if u.login in existing:
            continue
        account = check_new_account(u.login, u.role, u.full_name, u.extension, u.endpoint)
        await add_account(db, hasher, account, DEMO_PASSWORD)
        created += 1
    return created


async def ensure_campaign(db: AsyncSession) -> tuple[Campaign, bool]:
    campaign = (await db.execute(select(Campaign).where(Campaign.name == CAMPAIGN_NAME))).scalar_one_or_none()
    if campaign is not None:
        return campaign, False
    campaign = Campaign(
        name=CAMPAIGN_NAME,
        mode=CampaignMode.PROGRESSIVE,
        status=CampaignStatus.ACTIVE,
        dial_template=DIAL_TEMPLATE,
        caller_id=CALLER_ID,
        pbx_name="sim",
    )
    db.add(campaign)
    await db.flush()
    return campaign, True


async def load_portfolio(
    db: AsyncSession, campaign: Campaign, count: int, *, today: date, seed: int = 2026, now: datetime | None = None
) -> int:
    """The synthetic customers stored as an import stores them (phones, debts, tags, a due lead each).

    ``now`` is when the leads become due: pass the dialer's clock when it is not the wall clock
    (a lead due by the wall clock is in the future for a dialer whose clock runs behind it).
    """
    customers = generate_customers(count, today=today, seed=seed)
    records = [
        CustomerRecord(
            external_id=c.external_id,
            name=c.name,
            cpf=c.cpf,
            birth_date=c.birth_date,
            email=c.email,
            uf=c.uf,
            phones={p.e164: p.ddd for p in c.phones},
            debts={
                d.contract: DebtRecord(d.contract, d.creditor, d.product, d.original_amount, d.balance, d.due_date)
                for d in c.debts
            },
            tags=set(c.tags),
        )
        for c in customers
    ]
    now = now or datetime.now(UTC)
    for start in range(0, len(records), 500):
        await store_customers(db, campaign.id, records[start : start + 500], now=now)
    # fresher debts first (likelier to be recovered): one segment per aging bucket, youngest first, all of the
    # same weight, so the order decides and a supervisor can reorder them (or boost accounts) from the
    # campaign page; kept if the campaign already has segments (a supervisor's own order wins)
    if not await list_segments(db, campaign.id):
        await replace_segments(db, campaign.id, [
            StoredSegment(i, f"Atraso {label} dias", DEMO_SEGMENT_WEIGHT, {"buckets": [label]})
            for i, label in enumerate(DEMO_BUCKETS)
        ])
    await reprioritise_campaign(db, campaign.id, now=now)
    await db.flush()
    return len(customers)


async def ensure_demo_emails(db: AsyncSession) -> int:
    """Give a demo database seeded before the régua existed its customers' e-mail addresses."""
    rows = (
        await db.execute(
            select(Customer).where(Customer.external_id.like("DEMO-%"), Customer.email.is_(None))
        )
    ).scalars().all()
    changed = 0
    for customer in rows:
        number = customer.external_id.removeprefix("DEMO-")
        email = demo_email(customer.name, int(number)) if number.isdigit() else None
        if email is not None:
            customer.email = email
            changed += 1
    await db.flush()
    return changed


async def seed_demo(
    db: AsyncSession,
    hasher: PasswordHasher,
    *,
    customers: int,
    today: date | None = None,
    bots: int = 0,
    now: datetime | None = None,
) -> SeedReport:
    """Everything the demo needs (see the module doc); commits.

    ``now`` is the demo's clock (the leads fall due then); ``today`` defaults to its date in Brasília.
    """
    if today is None:
        today = (now or datetime.now(UTC)).astimezone(BRASILIA).date()
    users = list(DEMO_USERS) + [bot_user(n) for n in range(1, bots + 1)]
    created_users = await ensure_users(db, hasher, users)
    campaign, campaign_created = await ensure_campaign(db)
    created_customers = 0
    if campaign_created:
        already = (await db.execute(select(func.count(Lead.id)).where(Lead.campaign_id == campaign.id))).scalar_one()
        if not already:
            created_customers = await load_portfolio(db, campaign, customers, today=today, now=now)
    elif campaign.status is not CampaignStatus.ACTIVE:
        campaign.status = CampaignStatus.ACTIVE
    await ensure_demo_emails(db)
    await db.commit()
    return SeedReport(created_users, created_customers, campaign.id, campaign_created)
