"""Leads: claim the next one to dial atomically, and put it back with its next attempt time.

A claim is one ``UPDATE leads ... WHERE id = (SELECT ... LIMIT 1) AND state IN (...)``
statement: on SQLite the writer lock makes it atomic, on PostgreSQL the sub-select takes
``FOR UPDATE SKIP LOCKED`` so two processes never take the same lead and never wait on
each other. The claimed lead is ``in_progress`` with a lease (``claimed_by``,
``claim_expires_at``) that :func:`release_expired_claims` undoes after a crash.

Order (SPEC §4): a due callback first (an owned one only when its agent is among
``ready_owner_ids``), then ``priority`` (lower first, the ``ix_leads_pick`` order), ``boost``
(higher first), the oldest ``next_attempt_at`` (never tried first). Skipped: leads not yet
due, customers deceased, disputed or on hold, customers with no callable phone, and leads
whose customer has an open callback in the campaign (that callback decides when and who).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import Callback, Customer, Lead, LeadState, Phone, PhoneKind, PhoneStatus

PICKABLE = (LeadState.NEW, LeadState.DIALABLE)
# RJ law: a debtor's reference (third-party) phones are never called (SPEC §4)
RJ_DDDS = ("21", "22", "24")


@dataclass(frozen=True, slots=True)
class ClaimedLead:
    """A lead taken for one call: the phone to dial and, for a callback, who asked for it."""

    lead_id: int
    campaign_id: int
    customer_id: int
    phone_id: int
    e164: str
    callback_id: int | None = None
    owner_agent_id: int | None = None


def _customer_dialable(lead, now: datetime):  # type: ignore[no-untyped-def]
    return ~exists().where(
        Customer.id == lead.customer_id,
        or_(
            Customer.deceased.is_(True),
            Customer.dispute_pending.is_(True),
            and_(Customer.hold_until.is_not(None), Customer.hold_until > now),
        ),
    )


def _phone_callable(customer_id_col, phone_id=None):  # type: ignore[no-untyped-def]
    """Phones of the customer that may be called (status ok; RJ reference phones excluded)."""
    rj_reference = and_(
        Phone.kind == PhoneKind.REFERENCE,
        or_(Phone.ddd.in_(RJ_DDDS), exists().where(Customer.id == Phone.customer_id, Customer.uf == "RJ")),
    )
    conds = [Phone.customer_id == customer_id_col, Phone.status == PhoneStatus.OK, ~rj_reference]
    if phone_id is not None:
        conds.append(Phone.id == phone_id)
    return and_(*conds)


def _lease(claimer: str, now: datetime, lease_s: float) -> dict[str, object]:
    return {
        "state": LeadState.IN_PROGRESS,
        "claimed_by": claimer,
        "claim_expires_at": now + timedelta(seconds=lease_s),
        "attempts": Lead.attempts + 1,
        "updated_at": now,
    }


async def _best_phone(session: AsyncSession, customer_id: int, preferred: int | None) -> tuple[int, str] | None:
    if preferred is not None:
        row = (await session.execute(select(Phone.id, Phone.e164).where(_phone_callable(customer_id, preferred)))).first()
        if row is not None:
            return row[0], row[1]
    row = (
        await session.execute(
            select(Phone.id, Phone.e164)
            .where(_phone_callable(customer_id))
            .order_by(Phone.last_attempt_at.asc().nulls_first(), Phone.id)
            .limit(1)
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def _claim_callback(
    session: AsyncSession, campaign_id: int, now: datetime, ready_owner_ids: Collection[int], claimer: str, lease_s: float
) -> ClaimedLead | None:
    # aliases keep the sub-select from correlating with the UPDATE's own table
    cb = aliased(Callback)
    lead = aliased(Lead)
    owner_ok = cb.owner_agent_id.is_(None)
    if ready_owner_ids:
        owner_ok = or_(owner_ok, cb.owner_agent_id.in_(list(ready_owner_ids)))
    lead_free = exists().where(
        lead.campaign_id == cb.campaign_id,
        lead.customer_id == cb.customer_id,
        lead.state.in_(PICKABLE),
        _customer_dialable(lead, now),
    )
    pick = (
        select(cb.id)
        .where(cb.campaign_id == campaign_id, cb.done_at.is_(None), cb.due_at <= now, owner_ok, lead_free)
        .order_by(cb.due_at, cb.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    row = (
        await session.execute(
            update(Callback)
            .where(Callback.id == pick, Callback.done_at.is_(None))
            .values(done_at=now)
            .returning(Callback.id, Callback.customer_id, Callback.phone_id, Callback.owner_agent_id)
        )
    ).first()
    if row is None:
        return None
    callback_id, customer_id, phone_id, owner = row
    lead_row = (
        await session.execute(
            update(Lead)
            .where(Lead.campaign_id == campaign_id, Lead.customer_id == customer_id, Lead.state.in_(PICKABLE))
            .values(**_lease(claimer, now, lease_s))
            .returning(Lead.id)
        )
    ).first()
    phone = await _best_phone(session, customer_id, phone_id)
    if lead_row is None or phone is None:
        # Nothing callable after all: the callback stays open for a later tick
        await session.execute(update(Callback).where(Callback.id == callback_id).values(done_at=None))
        if lead_row is not None:
            await session.execute(
                update(Lead).where(Lead.id == lead_row[0]).values(state=LeadState.DIALABLE, claimed_by=None, claim_expires_at=None)
            )
        return None
    return ClaimedLead(lead_row[0], campaign_id, customer_id, phone[0], phone[1], callback_id, owner)


async def claim_next_lead(
    session: AsyncSession,
    campaign_id: int,
    *,
    now: datetime,
    claimer: str,
    lease_s: float = 600.0,
    ready_owner_ids: Collection[int] = (),
) -> ClaimedLead | None:
    """Take the next lead to dial in ``campaign_id`` (see the module doc for the order), or None."""
    claimed = await _claim_callback(session, campaign_id, now, ready_owner_ids, claimer, lease_s)
    if claimed is not None:
        return claimed
    lead = aliased(Lead)
    open_callback = exists().where(
        Callback.campaign_id == lead.campaign_id, Callback.customer_id == lead.customer_id, Callback.done_at.is_(None)
    )
    has_phone = exists().where(_phone_callable(lead.customer_id))
    pick = (
        select(lead.id)
        .where(
            lead.campaign_id == campaign_id,
            lead.state.in_(PICKABLE),
            or_(lead.next_attempt_at.is_(None), lead.next_attempt_at <= now),
            _customer_dialable(lead, now),
            has_phone,
            ~open_callback,
        )
        .order_by(lead.priority, lead.boost.desc(), lead.next_attempt_at.asc().nulls_first(), lead.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    row = (
        await session.execute(
            update(Lead)
            .where(Lead.id == pick, Lead.state.in_(PICKABLE))
            .values(**_lease(claimer, now, lease_s))
            .returning(Lead.id, Lead.customer_id)
        )
    ).first()
    if row is None:
        return None
    phone = await _best_phone(session, row[1], None)
    if phone is None:  # the phone went wrong between the two statements
        await session.execute(update(Lead).where(Lead.id == row[0]).values(state=LeadState.DIALABLE, claimed_by=None))
        return None
    return ClaimedLead(row[0], campaign_id, row[1], phone[0], phone[1])


async def release_lead(
    session: AsyncSession,
    lead_id: int,
    *,
    now: datetime,
    last_result: str,
    next_attempt_at: datetime | None,
    state: LeadState = LeadState.DIALABLE,
) -> None:
    """End a claim: the lead is dialable again at ``next_attempt_at`` (or done/stopped)."""
    await session.execute(
        update(Lead)
        .where(Lead.id == lead_id)
        .values(
            state=state,
            next_attempt_at=next_attempt_at,
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
        .values(state=LeadState.STOPPED, claimed_by=None, claim_expires_at=None, updated_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def release_expired_claims(session: AsyncSession, *, now: datetime, claimer: str | None = None) -> int:
    """Give back leads whose lease ran out (a process died mid-call), or all of ``claimer``'s."""
    cond = Lead.claim_expires_at < now
    if claimer is not None:
        cond = or_(cond, Lead.claimed_by == claimer)
    result = await session.execute(
        update(Lead)
        .where(Lead.state == LeadState.IN_PROGRESS, cond)
        .values(state=LeadState.DIALABLE, claimed_by=None, claim_expires_at=None, updated_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def latest_campaign_of_customer(session: AsyncSession, customer_id: int) -> int | None:
    """The campaign where the customer's most recently touched lead is (for agent-made callbacks)."""
    row = (
        await session.execute(
            select(Lead.campaign_id).where(Lead.customer_id == customer_id).order_by(Lead.updated_at.desc()).limit(1)
        )
    ).first()
    return None if row is None else int(row[0])
