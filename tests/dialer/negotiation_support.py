"""Shared world of the negotiation tests: a migrated SQLite file and a seeded customer with debts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.engine import create_engine, session_factory
from storage.models import (
    CallAttempt,
    Campaign,
    CampaignMode,
    Customer,
    Debt,
    Lead,
    LeadState,
    Role,
    User,
)
from tests.dialer.runtime_support import migrated_copy

TODAY = date(2026, 3, 2)  # a Monday
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)

POLICY: dict[str, Any] = {
    "campaign": "Cartão 2026",
    "terms": {"index": "none", "fine_pct": "2", "interest_pct_month": "1"},
    "buckets": [
        {"name": "1-90", "min_days": 0, "max_days": 90, "max_cash_discount_pct": "10", "min_down_payment_pct": "10",
         "max_installments": 6, "min_installment": "50.00", "first_due_max_days": 10},
        {"name": "91-360", "min_days": 91, "max_days": 360, "max_cash_discount_pct": "40", "min_down_payment_pct": "10",
         "max_installments": 10, "min_installment": "50.00", "first_due_max_days": 15},
        {"name": "360+", "min_days": 361, "max_days": None, "max_cash_discount_pct": "60", "min_down_payment_pct": "5",
         "max_installments": 12, "min_installment": "30.00", "first_due_max_days": 30},
    ],
}


@pytest.fixture
async def sessions(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(migrated_copy(tmp_path / "cobra.db", tmp_path_factory.getbasetemp()))
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


@dataclass(frozen=True)
class World:
    agent_id: int
    supervisor_ids: tuple[int, ...]
    campaign_id: int
    customer_id: int
    debt_ids: tuple[int, ...]
    lead_id: int
    cpf: str


_counter = [0]


async def seed(
    sessions: async_sessionmaker[AsyncSession],
    *,
    cpf: str = "52998224725",
    contracts: tuple[tuple[str, str, date], ...] = (("CT-1", "1000.00", date(2025, 11, 10)), ("CT-2", "350.50", date(2025, 12, 15))),
    agent_limit: str | None = "10",
    supervisor_limits: tuple[str | None, ...] = ("30",),
    policy: dict[str, Any] | None = POLICY,
    uf: str = "SP",
) -> World:
    """An agent, supervisors, a campaign with ``policy``, and Maria with ``contracts`` (contract, balance, due)."""
    _counter[0] += 1
    n = _counter[0]
    async with sessions() as db:
        agent = User(login=f"ana{n}", password_hash="x", role=Role.AGENT, full_name="Ana Souza", extension=f"79{n:03d}",
                     endpoint="PJSIP/7001", discount_limit_pct=None if agent_limit is None else Decimal(agent_limit))
        db.add(agent)
        supervisors = []
        for i, limit in enumerate(supervisor_limits):
            s = User(login=f"sup{n}-{i}", password_hash="x", role=Role.SUPERVISOR, full_name=f"Sofia {i}",
                     discount_limit_pct=None if limit is None else Decimal(limit))
            db.add(s)
            supervisors.append(s)
        campaign = Campaign(name=f"Cartão {n}", mode=CampaignMode.PROGRESSIVE, dial_template="Local/{number}@cust-sim",
                            caller_id="551130000000", pbx_name="sim", policy=policy)
        db.add(campaign)
        customer = Customer(external_id=f"ext-{n}", name="Maria Aparecida da Silva", cpf=cpf, uf=uf)
        db.add(customer)
        await db.flush()
        debts = []
        for contract, balance, due in contracts:
            d = Debt(customer_id=customer.id, contract=contract, creditor="Banco Exemplo", product="Cartão",
                     original_amount=Decimal(balance), balance=Decimal(balance), due_date=due)
            db.add(d)
            debts.append(d)
        lead = Lead(campaign_id=campaign.id, customer_id=customer.id, state=LeadState.DIALABLE)
        db.add(lead)
        await db.flush()
        world = World(agent.id, tuple(s.id for s in supervisors), campaign.id, customer.id, tuple(d.id for d in debts),
                      lead.id, cpf)
        await db.commit()
    return world


async def add_call(sessions: async_sessionmaker[AsyncSession], world: World, at: datetime = NOW) -> str:
    """A connected call attempt to the world's customer; its id."""
    async with sessions() as db:
        attempt = CallAttempt(campaign_id=world.campaign_id, lead_id=world.lead_id, customer_id=world.customer_id,
                              agent_id=world.agent_id, mode=CampaignMode.PROGRESSIVE, number="+5511987654321",
                              created_at=at, connected_at=at)
        db.add(attempt)
        await db.commit()
        return attempt.id
