"""Outcomes: the agent's disposition of a call, stored once per idempotency key (SPEC §6, §11)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import AlreadyExists
from storage.models import Outcome, OutcomeCode
from storage.repositories._values import enum_value


async def get_outcome_by_key(session: AsyncSession, client_key: str) -> Outcome | None:
    return (await session.execute(select(Outcome).where(Outcome.client_key == client_key))).scalar_one_or_none()


async def get_outcome_of_attempt(session: AsyncSession, attempt_id: str) -> Outcome | None:
    return (await session.execute(select(Outcome).where(Outcome.attempt_id == attempt_id))).scalar_one_or_none()


async def add_outcome(
    session: AsyncSession,
    *,
    attempt_id: str,
    agent_id: int | None,
    code: OutcomeCode | str,
    client_key: str,
    promise_amount: Decimal | None = None,
    promise_date: date | None = None,
    callback_at: datetime | None = None,
    notes: str | None = None,
) -> tuple[Outcome, bool]:
    """Store the outcome; ``(outcome, created)``. The same ``client_key`` again returns the stored one.

    Raises AlreadyExists when the attempt already has an outcome under another key.
    """
    code = enum_value(OutcomeCode, code, "code")
    existing = await get_outcome_by_key(session, client_key)
    if existing is not None:
        return existing, False
    other = await get_outcome_of_attempt(session, attempt_id)
    if other is not None:
        raise AlreadyExists(f"call {attempt_id} already has outcome {other.code.value} (key {other.client_key!r})")
    outcome = Outcome(
        attempt_id=attempt_id,
        agent_id=agent_id,
        code=code,
        client_key=client_key,
        promise_amount=promise_amount,
        promise_date=promise_date,
        callback_at=callback_at,
        notes=notes,
    )
    session.add(outcome)
    await session.flush()
    return outcome, True
