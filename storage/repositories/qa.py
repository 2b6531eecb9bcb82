"""Scorecards, reviews and automatic flags of calls; the review queue's and the ranking's reads (SPEC §8)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import case, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Agreement,
    CallAttempt,
    CallFlag,
    CallReview,
    Outcome,
    Scorecard,
    User,
)

CA = CallAttempt.__table__


# ---------------------------------------------------------------- scorecards


async def get_scorecard(session: AsyncSession, key: str) -> Scorecard | None:
    return await session.get(Scorecard, key)


async def list_scorecards(session: AsyncSession) -> list[Scorecard]:
    return list((await session.execute(select(Scorecard).order_by(Scorecard.key))).scalars())


async def put_scorecard(
    session: AsyncSession, *, key: str, name: str, items: list[dict[str, Any]], user_id: int | None, at: datetime
) -> tuple[Scorecard, dict[str, Any] | None]:
    """Create or replace the scorecard ``key``; returns it and what it was before (None: new)."""
    card = await session.get(Scorecard, key)
    before = None if card is None else {"name": card.name, "items": card.items}
    if card is None:
        card = Scorecard(key=key, name=name, items=items, updated_at=at, updated_by=user_id)
        session.add(card)
    else:
        card.name, card.items, card.updated_at, card.updated_by = name, items, at, user_id
    await session.flush()
    return card, before


# ---------------------------------------------------------------- reviews


async def add_review(
    session: AsyncSession,
    *,
    attempt_id: str,
    agent_id: int | None,
    reviewer_id: int,
    scorecard_key: str,
    answers: dict[str, Any],
    score: Decimal,
    zeroed: bool,
    feedback: str | None,
    at: datetime,
) -> CallReview:
    review = CallReview(
        attempt_id=attempt_id, agent_id=agent_id, reviewer_id=reviewer_id, scorecard_key=scorecard_key,
        answers=answers, score=score, zeroed=zeroed, feedback=feedback, created_at=at,
    )
    session.add(review)
    await session.flush()
    return review


@dataclass(frozen=True, slots=True)
class ReviewRow:
    id: int
    attempt_id: str
    call_created_at: datetime
    agent_id: int | None
    reviewer_login: str
    reviewer_name: str
    scorecard_key: str
    answers: dict[str, Any]
    score: Decimal
    zeroed: bool
    feedback: str | None
    created_at: datetime


def _reviews() -> Any:
    return (
        select(
            CallReview.id, CallReview.attempt_id, CA.c.created_at, CallReview.agent_id, User.login, User.full_name,
            CallReview.scorecard_key, CallReview.answers, CallReview.score, CallReview.zeroed, CallReview.feedback,
            CallReview.created_at,
        )
        .join(User, User.id == CallReview.reviewer_id)
        .join(CA, CA.c.id == CallReview.attempt_id)
    )


async def reviews_of_call(session: AsyncSession, attempt_id: str) -> list[ReviewRow]:
    rows = await session.execute(_reviews().where(CallReview.attempt_id == attempt_id).order_by(CallReview.id))
    return [ReviewRow(*r) for r in rows]


async def reviews_of_agent(session: AsyncSession, agent_id: int, *, limit: int = 20) -> list[ReviewRow]:
    rows = await session.execute(
        _reviews().where(CallReview.agent_id == agent_id).order_by(CallReview.created_at.desc(), CallReview.id.desc())
        .limit(limit)
    )
    return [ReviewRow(*r) for r in rows]


@dataclass(frozen=True, slots=True)
class RankRow:
    agent_id: int
    login: str
    name: str
    reviews: int
    average: Decimal
    zeroed: int


async def ranking(session: AsyncSession, *, start: datetime | None, end: datetime | None) -> list[RankRow]:
    """Agents by average review score (reviews made in ``[start, end)``), best first."""
    stmt = (
        select(
            CallReview.agent_id, User.login, User.full_name, func.count(CallReview.id), func.avg(CallReview.score),
            func.sum(case((CallReview.zeroed, 1), else_=0)),
        )
        .join(User, User.id == CallReview.agent_id)
        .group_by(CallReview.agent_id, User.login, User.full_name)
    )
    if start is not None:
        stmt = stmt.where(CallReview.created_at >= start)
    if end is not None:
        stmt = stmt.where(CallReview.created_at < end)
    out = [
        RankRow(int(a), str(login), str(name), int(n), Decimal(str(avg)).quantize(Decimal("0.01"), ROUND_HALF_UP), int(z or 0))
        for a, login, name, n, avg, z in await session.execute(stmt)
    ]
    return sorted(out, key=lambda r: (-r.average, -r.reviews, r.login))


# ---------------------------------------------------------------- flags


async def replace_flags(
    session: AsyncSession, attempt_id: str, flags: Sequence[tuple[str, str]], *, at: datetime
) -> None:
    """The call's flags become ``flags`` (``(code, detail)``)."""
    await session.execute(delete(CallFlag).where(CallFlag.attempt_id == attempt_id))
    for code, detail in flags:
        session.add(CallFlag(attempt_id=attempt_id, code=code, detail=detail[:300], created_at=at))
    await session.flush()


# ---------------------------------------------------------------- review queue


async def queue_candidates(
    session: AsyncSession, *, start: datetime, end: datetime, min_agreement: Decimal
) -> dict[str, set[str]]:
    """Unreviewed calls of ``[start, end)`` that must be reviewed: call id → reasons
    (``acordo_alto``, ``contestacao``, ``sinalizada``)."""
    unreviewed = ~select(CallReview.id).where(CallReview.attempt_id == CA.c.id).exists()
    window = (CA.c.created_at >= start, CA.c.created_at < end, unreviewed)
    out: dict[str, set[str]] = {}
    high = select(CA.c.id).join(Agreement, Agreement.attempt_id == CA.c.id).where(*window, Agreement.total >= min_agreement)
    disputes = select(CA.c.id).join(Outcome, Outcome.attempt_id == CA.c.id).where(*window, Outcome.code == "CONTESTA")
    flagged = select(CA.c.id).where(*window, select(CallFlag.code).where(CallFlag.attempt_id == CA.c.id).exists())
    for reason, stmt in (("acordo_alto", high), ("contestacao", disputes), ("sinalizada", flagged)):
        for (call_id,) in await session.execute(stmt.limit(1000)):
            out.setdefault(call_id, set()).add(reason)
    return out


async def sample_pool(session: AsyncSession, *, start: datetime, end: datetime) -> list[tuple[int, str]]:
    """``(agent_id, call_id)`` of the calls agents disposed in ``[start, end)`` (the sample's pool)."""
    rows = await session.execute(
        select(CA.c.agent_id, CA.c.id)
        .join(Outcome, Outcome.attempt_id == CA.c.id)
        .where(CA.c.created_at >= start, CA.c.created_at < end, CA.c.agent_id.is_not(None))
    )
    return [(int(a), str(c)) for a, c in rows]


async def reviewed_ids(session: AsyncSession, call_ids: Sequence[str]) -> set[str]:
    if not call_ids:
        return set()
    rows = await session.execute(select(CallReview.attempt_id).where(CallReview.attempt_id.in_(call_ids)))
    return {str(r[0]) for r in rows}


__all__ = [
    "RankRow", "ReviewRow", "add_review", "get_scorecard", "list_scorecards", "put_scorecard", "queue_candidates",
    "ranking", "replace_flags", "reviewed_ids", "reviews_of_agent", "reviews_of_call", "sample_pool",
]
