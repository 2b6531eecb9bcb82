"""Flags outcomes set on a contact: a wrong phone, a deceased customer, a dispute (SPEC §4, §7)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Customer, Phone, PhoneStatus


async def mark_phone_wrong(session: AsyncSession, phone_id: int) -> None:
    await session.execute(update(Phone).where(Phone.id == phone_id).values(status=PhoneStatus.WRONG))


async def mark_customer_deceased(session: AsyncSession, customer_id: int, *, now: datetime) -> None:
    await session.execute(update(Customer).where(Customer.id == customer_id).values(deceased=True, updated_at=now))


async def mark_customer_disputing(session: AsyncSession, customer_id: int, *, now: datetime) -> None:
    await session.execute(update(Customer).where(Customer.id == customer_id).values(dispute_pending=True, updated_at=now))


async def note_phone_attempt(session: AsyncSession, phone_id: int, *, at: datetime, result: str) -> None:
    """Remember the phone's last attempt (the next pick prefers the least recently tried phone)."""
    await session.execute(update(Phone).where(Phone.id == phone_id).values(last_attempt_at=at, last_result=result[:20]))
