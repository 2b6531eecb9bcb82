"""Outcomes: the agent's disposition of a call, stored once per idempotency key (SPEC §6, §11)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import AlreadyExists
from storage.models import Outcome, OutcomeCode
from storage.repositories._values import enum_value
from storage.repositories.calls import refresh_call_amount

_ANY_AGENT: Any = object()


async def get_outcome_by_key(
    session: AsyncSession, client_key: str, *, agent_id: int | None = _ANY_AGENT
) -> Outcome | None:
    """The outcome stored under ``client_key`` by ``agent_id`` (None: stored without an agent).

    Keys are unique per agent only. Without ``agent_id`` the oldest outcome with the key,
    whoever stored it, is returned: callers that way must check ``agent_id`` themselves.
    """
    query = select(Outcome).where(Outcome.client_key == client_key)
    if agent_id is not _ANY_AGENT:
        query = query.where(Outcome.agent_id.is_(None) if agent_id is None else Outcome.agent_id == agent_id)
    return (await session.execute(query.order_by(Outcome.id).limit(1))).scalar_one_or_none()


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
    at: datetime | None = None,
) -> tuple[Outcome, bool]:
    """Store the outcome; ``(outcome, created)``. The same ``client_key`` again from the same
    agent returns the stored one; another agent's key never does.

    Raises AlreadyExists when the attempt already has an outcome under another key. ``at`` is
    the caller's clock (the KPIs and QA count outcomes by it); None falls back to the model's default.
    """
    code = enum_value(OutcomeCode, code, "code")
    existing = await get_outcome_by_key(session, client_key, agent_id=agent_id)
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
    if at is not None:
        outcome.created_at = at
    session.add(outcome)
    await session.flush()
    await refresh_call_amount(session, attempt_id)  # the promised amount is the call's, unless it has an agreement
    return outcome, True
