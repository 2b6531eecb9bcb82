"""Leads after the hopper picked them: put back with their next attempt time, finish, stop.

Picking is the hopper's (``storage.repositories.hopper`` under ``dialer.leads.hopper``): it
claims a lead atomically (``in_progress`` with a lease: ``claimed_by``,
``claim_expires_at``) and only ever picks leads whose ``next_attempt_at`` is set and due.
So every function here that leaves a lead callable sets ``next_attempt_at``; a lead that is
done or stopped has none (it leaves the hopper's index). These run on the caller's session,
inside the same transaction as the attempt they close.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Lead, LeadState

FINAL_STATES = (LeadState.DONE, LeadState.STOPPED)


async def release_lead(
    session: AsyncSession,
    lead_id: int,
    *,
    now: datetime,
    last_result: str,
    next_attempt_at: datetime,
    count_attempt: bool = False,
) -> None:
    """End a claim: the lead is dialable again from ``next_attempt_at`` (``count_attempt``: it was dialled)."""
    if next_attempt_at is None:
        raise ValueError(f"next_attempt_at: lead {lead_id} would never be picked again; finish it instead")
    values: dict[str, object] = {
        "state": LeadState.DIALABLE,
        "next_attempt_at": next_attempt_at,
        "last_result": last_result[:20],
        "claimed_by": None,
        "claim_expires_at": None,
        "updated_at": now,
    }
    if count_attempt:
        values["attempts"] = Lead.attempts + 1
    await session.execute(update(Lead).where(Lead.id == lead_id).values(**values))


async def finish_lead(
    session: AsyncSession, lead_id: int, *, now: datetime, last_result: str, state: LeadState = LeadState.DONE
) -> None:
    """End a lead for good (done or stopped): no next attempt, so the hopper never looks at it again."""
    if state not in FINAL_STATES:
        raise ValueError(f"state: a finished lead is done or stopped, got {state}")
    await session.execute(
        update(Lead)
        .where(Lead.id == lead_id)
        .values(
            state=state,
            next_attempt_at=None,
            last_result=last_result[:20],
            claimed_by=None,
            claim_expires_at=None,
            updated_at=now,
        )
    )


async def stop_customer_leads(session: AsyncSession, customer_id: int, *, now: datetime) -> int:
    """Stop every lead of the customer in every campaign; how many changed."""
    result = await session.execute(
        update(Lead)
        .where(Lead.customer_id == customer_id, Lead.state != LeadState.STOPPED)
        .values(state=LeadState.STOPPED, next_attempt_at=None, claimed_by=None, claim_expires_at=None, updated_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def release_expired_claims(session: AsyncSession, *, now: datetime, claimer: str | None = None) -> int:
    """Give back leads whose lease ran out (a process died mid-call), or all of ``claimer``'s: due at once."""
    cond = Lead.claim_expires_at < now
    if claimer is not None:
        cond = or_(cond, Lead.claimed_by == claimer)
    result = await session.execute(
        update(Lead)
        .where(Lead.state == LeadState.IN_PROGRESS, cond)
        .values(state=LeadState.DIALABLE, next_attempt_at=now, claimed_by=None, claim_expires_at=None, updated_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
