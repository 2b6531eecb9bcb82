"""What a dialer finds when it starts after another one stopped: open attempts, unfinished wrap-ups, leases.

A process that dies (``kill -9``, a crash, a lost host) leaves attempts without an end,
agents in wrap-up without an outcome, and leads claimed under its name. These queries let
the next process (or any process sharing the database) settle them (SPEC §9, §11).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import CallAttempt, Lead, LeadState, Outcome


async def open_attempts(session: AsyncSession, pbx_name: str | None) -> list[CallAttempt]:
    """Attempts of ``pbx_name`` with no end and no result: dialling, ringing or talking when their owner stopped."""
    query = select(CallAttempt).where(CallAttempt.ended_at.is_(None), CallAttempt.result.is_(None))
    if pbx_name is not None:
        query = query.where(CallAttempt.pbx_name == pbx_name)
    return list((await session.execute(query.order_by(CallAttempt.created_at))).scalars())


async def unfinished_wrapups(session: AsyncSession, pbx_name: str | None, *, since: datetime) -> list[CallAttempt]:
    """Each agent's latest connected call since ``since`` that ended with no outcome and no wrap-up end."""
    query = (
        select(CallAttempt)
        .outerjoin(Outcome, Outcome.attempt_id == CallAttempt.id)
        .where(
            CallAttempt.agent_id.is_not(None),
            CallAttempt.connected_at.is_not(None),
            CallAttempt.ended_at.is_not(None),
            CallAttempt.wrapup_ended_at.is_(None),
            CallAttempt.created_at >= since,
            Outcome.id.is_(None),
        )
        .order_by(CallAttempt.ended_at.desc())
    )
    if pbx_name is not None:
        query = query.where(CallAttempt.pbx_name == pbx_name)
    latest: dict[int, CallAttempt] = {}
    for attempt in (await session.execute(query)).scalars():
        assert attempt.agent_id is not None  # the query insists
        latest.setdefault(attempt.agent_id, attempt)
    return list(latest.values())


async def claimers(session: AsyncSession) -> list[str]:
    """Who holds leases on leads now (``host:pid`` of each dialer process)."""
    rows = await session.execute(
        select(Lead.claimed_by).where(Lead.state == LeadState.IN_PROGRESS, Lead.claimed_by.is_not(None)).distinct()
    )
    return [r for r in rows.scalars() if r is not None]


async def release_claims_of(session: AsyncSession, owners: Sequence[str], *, now: datetime) -> int:
    """Give back every lead leased by ``owners`` (processes known to be gone): due at once."""
    if not owners:
        return 0
    result = await session.execute(
        update(Lead)
        .where(Lead.state == LeadState.IN_PROGRESS, Lead.claimed_by.in_(list(owners)))
        .values(state=LeadState.DIALABLE, next_attempt_at=now, claimed_by=None, claim_expires_at=None, updated_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def renew_claims(session: AsyncSession, lead_ids: Iterable[int], *, claimer: str, until: datetime) -> int:
    """Extend the leases ``claimer`` holds on ``lead_ids`` (calls still live) so nobody takes them back."""
    ids = list(lead_ids)
    if not ids:
        return 0
    result = await session.execute(
        update(Lead)
        .where(and_(Lead.id.in_(ids), Lead.state == LeadState.IN_PROGRESS, Lead.claimed_by == claimer))
        .values(claim_expires_at=until)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
