"""Rows for the storage tests, with unique keys so tests can share one migrated database."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Campaign, CampaignMode, Customer, Phone, Role, User


def unique(prefix: str = "") -> str:
    """A value no other test uses."""
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def unique_digits(n: int) -> str:
    return str(uuid.uuid4().int)[-n:].rjust(n, "0")


async def make_customer(session: AsyncSession, **kw: object) -> Customer:
    fields: dict[str, object] = {
        "external_id": unique("ext-"),
        "name": "Maria da Silva",
        "cpf": unique_digits(11),
        "birth_date": date(1980, 5, 17),
        "uf": "SP",
    }
    fields.update(kw)
    customer = Customer(**fields)
    session.add(customer)
    await session.flush()
    return customer


async def make_phone(session: AsyncSession, customer: Customer, e164: str | None = None) -> Phone:
    phone = Phone(customer_id=customer.id, e164=e164 or "+55119" + unique_digits(8), ddd="11")
    session.add(phone)
    await session.flush()
    return phone


async def make_campaign(session: AsyncSession, **kw: object) -> Campaign:
    fields: dict[str, object] = {
        "name": unique("Carteira "),
        "mode": CampaignMode.PROGRESSIVE,
        "dial_template": "Local/{number}@cust-sim",
        "caller_id": "551130000000",
        "pbx_name": "sim",
    }
    fields.update(kw)
    campaign = Campaign(**fields)
    session.add(campaign)
    await session.flush()
    return campaign


async def make_user(session: AsyncSession, role: Role = Role.AGENT, **kw: object) -> User:
    fields: dict[str, object] = {
        "login": unique("agent-"),
        "password_hash": "$argon2id$not-a-real-hash",
        "role": role,
        "full_name": "João Souza",
        "extension": unique_digits(8),
        "endpoint": "PJSIP/7001",
        "discount_limit_pct": Decimal("10.00"),
    }
    fields.update(kw)
    user = User(**fields)
    session.add(user)
    await session.flush()
    return user
