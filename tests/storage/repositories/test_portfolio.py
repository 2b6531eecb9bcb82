"""Portfolio storage: whole customers in, re-store is a no-op, holds push and release leads."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import InvalidValue, NotFound
from storage.models import Customer, HoldKind, Lead
from storage.repositories.portfolio import (
    CustomerRecord,
    DebtRecord,
    active_holds,
    release_hold,
    set_hold,
    store_customers,
)
from tests.storage.factories import make_campaign, unique

NOW = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)


def record(ext: str, balance: str = "100.00") -> CustomerRecord:
    rec = CustomerRecord(ext, "Ana", "52998224725", None, None, "SP")
    rec.phones = {"+5511987654321": "11"}
    rec.debts = {"CT-1": DebtRecord("CT-1", "Banco", None, Decimal(balance), Decimal(balance), date(2026, 1, 10))}
    rec.tags = {"vip"}
    return rec


async def test_store_twice_changes_nothing_then_an_update(session: AsyncSession) -> None:
    campaign = await make_campaign(session)
    ext = unique("C")
    first = await store_customers(session, campaign.id, [record(ext)], now=NOW)
    assert (first.inserted_customers, first.updated_customers, first.leads_created) == (1, 0, 1)
    again = await store_customers(session, campaign.id, [record(ext)], now=NOW + timedelta(hours=1))
    assert (again.inserted_customers, again.updated_customers, again.leads_created, again.changed_customer_ids) == (
        0, 0, 0, [])
    changed = await store_customers(session, campaign.id, [record(ext, "80.00")], now=NOW + timedelta(hours=2))
    assert changed.updated_customers == 1
    customer = await session.scalar(select(Customer).where(Customer.external_id == ext))
    assert customer is not None and customer.balance_total == Decimal("80.00")
    await session.rollback()


async def test_holds_push_leads_and_release_brings_them_back(session: AsyncSession) -> None:
    campaign = await make_campaign(session)
    ext = unique("C")
    await store_customers(session, campaign.id, [record(ext)], now=NOW)
    customer_id = await session.scalar(select(Customer.id).where(Customer.external_id == ext))
    assert customer_id is not None
    hold = await set_hold(session, customer_id, kind=HoldKind.DISPUTE, reason="Contestação em análise",
                          until=NOW + timedelta(days=10), set_by_id=None, now=NOW)
    assert [h.kind for h in await active_holds(session, customer_id, now=NOW)] == [HoldKind.DISPUTE]
    lead_at = await session.scalar(select(Lead.next_attempt_at).where(Lead.customer_id == customer_id))
    assert lead_at == NOW + timedelta(days=10)
    released = await release_hold(session, customer_id, hold.id, released_by_id=None, now=NOW + timedelta(hours=1))
    assert released.released_at == NOW + timedelta(hours=1)
    lead_at = await session.scalar(select(Lead.next_attempt_at).where(Lead.customer_id == customer_id))
    assert lead_at == NOW + timedelta(hours=1)
    with pytest.raises(InvalidValue, match="already released"):
        await release_hold(session, customer_id, hold.id, released_by_id=None, now=NOW)
    with pytest.raises(NotFound):
        await set_hold(session, 10**9, kind="lawyer", reason="x", until=None, set_by_id=None, now=NOW)
    with pytest.raises(InvalidValue, match="kind"):
        await set_hold(session, customer_id, kind="vacation", reason="x", until=None, set_by_id=None, now=NOW)
    await session.rollback()
