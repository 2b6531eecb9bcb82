"""Segments and boosts of a campaign, and re-prioritising its leads in one statement.

Storage imports nothing of ours, so filters arrive here as plain mappings (the validated
``SegmentFilter.to_json()`` form) and the rank formula is passed in as numbers:
``priority = level_of[position] - 100 * boost`` where ``level_of`` comes from the domain
(``dialer.leads.segments.priority_of(weight, position, 0)``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, delete, exists, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import (
    CallAttempt,
    Callback,
    Customer,
    CustomerTag,
    Lead,
    LeadState,
    Outcome,
    OutcomeCode,
    Segment,
)

LIVE_STATES = (LeadState.NEW, LeadState.DIALABLE, LeadState.IN_PROGRESS)
_OPEN_ENDED = ("a vencer", "360+")
_BUCKET_DAYS = {"1-30": (1, 30), "31-60": (31, 60), "61-90": (61, 90), "91-180": (91, 180), "181-360": (181, 360)}


@dataclass(frozen=True, slots=True)
class StoredSegment:
    position: int
    name: str
    weight: int
    filters: dict[str, Any]


async def list_segments(session: AsyncSession, campaign_id: int) -> list[StoredSegment]:
    """The campaign's segments in order."""
    rows = await session.execute(
        select(Segment.position, Segment.name, Segment.weight, Segment.filters)
        .where(Segment.campaign_id == campaign_id)
        .order_by(Segment.position)
    )
    return [StoredSegment(*row) for row in rows]


async def replace_segments(session: AsyncSession, campaign_id: int, segments: Sequence[StoredSegment]) -> None:
    """Store ``segments`` as the campaign's whole list (positions are renumbered 0..n-1)."""
    await session.execute(delete(Segment).where(Segment.campaign_id == campaign_id))
    await session.flush()
    for position, seg in enumerate(segments):
        session.add(
            Segment(campaign_id=campaign_id, position=position, name=seg.name, weight=seg.weight, filters=seg.filters)
        )
    await session.flush()


def _bucket_condition(bucket: str, today: date) -> Any:
    due = Customer.oldest_due_date
    if bucket == "a vencer":
        return due >= today
    if bucket == "360+":
        return due < today - timedelta(days=360)
    low, high = _BUCKET_DAYS[bucket]
    return and_(due >= today - timedelta(days=high), due <= today - timedelta(days=low))


def promise_broken_condition(today: date) -> Any:
    """The customer's promise date passed, nothing settled since, and a balance is still open."""
    attempt, outcome = aliased(CallAttempt), aliased(Outcome)
    later_attempt, later = aliased(CallAttempt), aliased(Outcome)
    settled_since = exists().where(
        later.attempt_id == later_attempt.id,
        later_attempt.customer_id == Customer.id,
        later.created_at > outcome.created_at,
        later.code.in_([OutcomeCode.ACORDO, OutcomeCode.JA_PAGO, OutcomeCode.PROMESSA]),
    )
    return and_(
        Customer.balance_total > 0,
        exists().where(
            outcome.attempt_id == attempt.id,
            attempt.customer_id == Customer.id,
            outcome.code == OutcomeCode.PROMESSA,
            outcome.promise_date < today,
            ~settled_since,
        ),
    )


def callback_due_condition(campaign_id: int, now: datetime) -> Any:
    return exists().where(
        Callback.customer_id == Customer.id,
        Callback.campaign_id == campaign_id,
        Callback.done_at.is_(None),
        Callback.due_at <= now,
    )


def filter_condition(filters: Mapping[str, Any], *, campaign_id: int, today: date, now: datetime) -> Any:
    """SQL over ``customers`` (and their tags, outcomes, callbacks) for one validated filter mapping."""
    conds: list[Any] = []
    if filters.get("buckets"):
        conds.append(or_(*(_bucket_condition(b, today) for b in filters["buckets"])))
    if filters.get("balance_min") is not None:
        conds.append(Customer.balance_total >= Decimal(filters["balance_min"]))
    if filters.get("balance_max") is not None:
        conds.append(Customer.balance_total <= Decimal(filters["balance_max"]))
    if filters.get("tags_any"):
        conds.append(exists().where(CustomerTag.customer_id == Customer.id, CustomerTag.tag.in_(filters["tags_any"])))
    if filters.get("ufs"):
        conds.append(Customer.uf.in_(filters["ufs"]))
    if filters.get("score_min") is not None:
        conds.append(Customer.score >= filters["score_min"])
    if filters.get("score_max") is not None:
        conds.append(Customer.score <= filters["score_max"])
    if filters.get("promise_broken") is not None:
        cond = promise_broken_condition(today)
        conds.append(cond if filters["promise_broken"] else ~cond)
    if filters.get("callback_due") is not None:
        cond = callback_due_condition(campaign_id, now)
        conds.append(cond if filters["callback_due"] else ~cond)
    return and_(literal(True), *conds)


async def reprioritise(
    session: AsyncSession,
    campaign_id: int,
    segments: Sequence[StoredSegment],
    levels: Sequence[int],
    no_segment_level: int,
    *,
    today: date,
    now: datetime,
    customer_ids: Collection[int] | None = None,
    only: Any = None,
) -> int:
    """Recompute ``priority`` of the campaign's live leads (or only ``customer_ids``', or only the leads
    matching the SQL condition ``only``); returns how many rows.

    ``levels[i]`` is the priority of segment ``i`` with no boost; each lead gets the level of
    the first segment its customer matches, minus 100 per point of boost.
    """
    whens = [
        (filter_condition(seg.filters, campaign_id=campaign_id, today=today, now=now), literal(level))
        for seg, level in zip(segments, levels, strict=True)
    ]
    base = case(*whens, else_=literal(no_segment_level)) if whens else literal(no_segment_level)
    # Driven from the campaign's leads (index on campaign_id), one customer lookup by primary key
    # each: an UPDATE ... FROM customers lets SQLite walk all customers instead
    per_customer = select(base).where(Customer.id == Lead.customer_id).scalar_subquery()
    stmt = (
        update(Lead)
        .where(Lead.campaign_id == campaign_id, Lead.state.in_(LIVE_STATES))
        .values(priority=per_customer - Lead.boost * 100)
        .execution_options(synchronize_session=False)
    )
    if customer_ids is not None:
        stmt = stmt.where(Lead.customer_id.in_(list(customer_ids)))
    if only is not None:
        stmt = stmt.where(only)
    result = await session.execute(stmt)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class BoostChange:
    customer_id: int
    external_id: str
    before: int
    after: int


async def set_boosts(
    session: AsyncSession, campaign_id: int, boosts: Mapping[str, int], *, now: datetime
) -> tuple[list[BoostChange], list[str]]:
    """Set the boost of the leads of customers given by external id; returns the changes and unknown ids."""
    rows = (
        await session.execute(
            select(Lead.id, Lead.customer_id, Customer.external_id, Lead.boost)
            .join(Customer, Customer.id == Lead.customer_id)
            .where(Lead.campaign_id == campaign_id, Customer.external_id.in_(list(boosts)))
        )
    ).all()
    found = {ext: (lead_id, cust_id, boost) for lead_id, cust_id, ext, boost in rows}
    unknown = sorted(set(boosts) - set(found))
    changes: list[BoostChange] = []
    for ext, value in boosts.items():
        if ext not in found:
            continue
        lead_id, cust_id, before = found[ext]
        if before == value:
            continue
        await session.execute(update(Lead).where(Lead.id == lead_id).values(boost=value, updated_at=now))
        changes.append(BoostChange(cust_id, ext, before, value))
    return changes, unknown


def unranked_leads() -> Any:
    """Leads never ranked on the segment scale: stored with priority 0 and no boost (a ranked lead
    with no boost is at least ``(MAX_SCORE - MAX_WEIGHT) * 100``), e.g. inserted without an import."""
    return and_(Lead.priority == 0, Lead.boost == 0)


async def boosted_leads(session: AsyncSession, campaign_id: int) -> dict[str, int]:
    """External id → boost of every lead of the campaign with a boost other than 0."""
    rows = await session.execute(
        select(Customer.external_id, Lead.boost)
        .join(Customer, Customer.id == Lead.customer_id)
        .where(Lead.campaign_id == campaign_id, Lead.boost != 0)
        .order_by(Customer.external_id)
    )
    return {ext: boost for ext, boost in rows}
