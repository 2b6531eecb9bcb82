"""Steering a campaign from the supervisor's page: bulk boosts by filter, holds of its customers,
its calling-window override, its change history and today's results (SPEC §4, §8).

Storage imports nothing of ours: filters arrive as the validated plain mappings that
:func:`storage.repositories.segments.filter_condition` reads, plus a list of DDDs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Agreement,
    AuditLog,
    CallAttempt,
    Campaign,
    Customer,
    CustomerHold,
    Lead,
    LeadState,
    Outcome,
    OutcomeCode,
    Phone,
    User,
)
from storage.repositories.segments import LIVE_STATES, filter_condition

# Dispositions that say the agent talked to the debtor themself (a right-party contact, CPC);
# a message left, a wrong number or a deceased customer are contacts with someone else
RIGHT_PARTY_CODES = (
    OutcomeCode.ACORDO,
    OutcomeCode.PROMESSA,
    OutcomeCode.RECUSA,
    OutcomeCode.SEM_CONDICOES,
    OutcomeCode.CONTESTA,
    OutcomeCode.JA_PAGO,
    OutcomeCode.RETORNAR,
)


def matching_leads(campaign_id: int, filters: Mapping[str, Any], ddds: Sequence[str], *, today: date, now: datetime) -> Any:
    """Live leads of the campaign whose customer matches ``filters`` and has a phone in one of ``ddds``."""
    customer_ok = filter_condition(filters, campaign_id=campaign_id, today=today, now=now)
    if ddds:
        customer_ok = and_(customer_ok, exists().where(Phone.customer_id == Customer.id, Phone.ddd.in_(list(ddds))))
    matches = exists().where(Customer.id == Lead.customer_id, customer_ok)
    return and_(Lead.campaign_id == campaign_id, Lead.state.in_(LIVE_STATES), matches)


async def count_matching_leads(
    session: AsyncSession, campaign_id: int, filters: Mapping[str, Any], ddds: Sequence[str], *, today: date,
    now: datetime,
) -> int:
    """How many live leads of the campaign a bulk boost with this filter would change."""
    cond = matching_leads(campaign_id, filters, ddds, today=today, now=now)
    return int(await session.scalar(select(func.count()).select_from(Lead).where(cond)) or 0)


async def boost_matching_leads(
    session: AsyncSession, campaign_id: int, filters: Mapping[str, Any], ddds: Sequence[str], boost: int, *,
    today: date, now: datetime,
) -> tuple[int, dict[str, int]]:
    """Set ``boost`` on every matching live lead; (how many, boost before → how many leads had it)."""
    cond = matching_leads(campaign_id, filters, ddds, today=today, now=now)
    rows = await session.execute(select(Lead.boost, func.count()).where(cond).group_by(Lead.boost))
    before = {str(value): int(n) for value, n in rows}
    result = await session.execute(
        update(Lead).where(cond).values(boost=boost, updated_at=now).execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0), before  # type: ignore[attr-defined]


# ---------------------------------------------------------------- holds of a campaign's customers


@dataclass(frozen=True, slots=True)
class CampaignHold:
    id: int
    customer_id: int
    external_id: str
    customer_name: str
    kind: str
    reason: str
    until: datetime | None
    set_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "customer_id": self.customer_id, "external_id": self.external_id,
            "customer_name": self.customer_name, "kind": self.kind, "reason": self.reason,
            "until": self.until.isoformat() if self.until else None, "set_at": self.set_at.isoformat(),
        }


async def campaign_holds(session: AsyncSession, campaign_id: int, *, now: datetime, limit: int = 500) -> list[CampaignHold]:
    """Active holds of customers who have a lead in the campaign, newest first."""
    in_campaign = exists().where(Lead.customer_id == CustomerHold.customer_id, Lead.campaign_id == campaign_id)
    rows = await session.execute(
        select(
            CustomerHold.id, CustomerHold.customer_id, Customer.external_id, Customer.name, CustomerHold.kind,
            CustomerHold.reason, CustomerHold.until, CustomerHold.set_at,
        )
        .join(Customer, Customer.id == CustomerHold.customer_id)
        .where(in_campaign, CustomerHold.released_at.is_(None),
               (CustomerHold.until.is_(None)) | (CustomerHold.until > now))
        .order_by(CustomerHold.id.desc())
        .limit(limit)
    )
    return [CampaignHold(r[0], r[1], r[2], r[3], str(getattr(r[4], "value", r[4])), r[5], r[6], r[7]) for r in rows]


async def campaign_customer(session: AsyncSession, campaign_id: int, external_id: str) -> int | None:
    """The id of the customer ``external_id`` if they have a lead in the campaign."""
    found = await session.scalar(
        select(Customer.id)
        .join(Lead, Lead.customer_id == Customer.id)
        .where(Customer.external_id == external_id, Lead.campaign_id == campaign_id)
    )
    return None if found is None else int(found)


async def hold_customer_in_campaign(session: AsyncSession, campaign_id: int, hold_id: int) -> int | None:
    """The customer of hold ``hold_id`` when that customer has a lead in the campaign, else None."""
    found = await session.scalar(
        select(CustomerHold.customer_id)
        .join(Lead, Lead.customer_id == CustomerHold.customer_id)
        .where(CustomerHold.id == hold_id, Lead.campaign_id == campaign_id)
    )
    return None if found is None else int(found)


# ---------------------------------------------------------------- the calling-window override


async def set_window_override(
    session: AsyncSession, campaign_id: int, window: dict[str, str | None] | None
) -> tuple[dict[str, Any] | None] | None:
    """Store the campaign's window override (None clears it); (the one before,), or None for no campaign."""
    campaign = await session.scalar(
        select(Campaign).where(Campaign.id == campaign_id).with_for_update().execution_options(populate_existing=True)
    )
    if campaign is None:
        return None
    before = campaign.window_override
    campaign.window_override = window
    await session.flush()
    return (before,)


async def recheck_deferred_leads(session: AsyncSession, campaign_id: int, *, now: datetime) -> int:
    """Make the campaign's deferred, unclaimed live leads due now, so the next picks re-check them.

    Used when the campaign's window widens: leads held back until the old window opened may be
    called now. The hopper puts back those that are still not dialable (retry gaps, caps) with
    their true time, so this only costs re-examining them."""
    result = await session.execute(
        update(Lead)
        .where(Lead.campaign_id == campaign_id, Lead.state.in_((LeadState.NEW, LeadState.DIALABLE)), Lead.claimed_by.is_(None),
               Lead.next_attempt_at > now)
        .values(next_attempt_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# ---------------------------------------------------------------- change history (from the audit log)


@dataclass(frozen=True, slots=True)
class HistoryRow:
    id: int
    at: datetime
    user_id: int | None
    login: str | None
    user_name: str | None
    action: str
    entity: str
    entity_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


async def history(
    session: AsyncSession, *, entities: Sequence[str], entity_id: str | None = None, limit: int = 50,
    before_id: int | None = None,
) -> list[HistoryRow]:
    """The newest audit entries about ``entities`` (one id of them if given), newest first, with who did it."""
    query = (
        select(
            AuditLog.id, AuditLog.at, AuditLog.user_id, User.login, User.full_name, AuditLog.action,
            AuditLog.entity, AuditLog.entity_id, AuditLog.before, AuditLog.after,
        )
        .outerjoin(User, User.id == AuditLog.user_id)
        .where(AuditLog.entity.in_(list(entities)))
    )
    if entity_id is not None:
        query = query.where(AuditLog.entity_id == entity_id)
    if before_id is not None:
        query = query.where(AuditLog.id < before_id)
    rows = await session.execute(query.order_by(AuditLog.id.desc()).limit(limit))
    return [HistoryRow(*row) for row in rows]


async def campaign_names(session: AsyncSession) -> dict[int, str]:
    return {int(i): str(n) for i, n in await session.execute(select(Campaign.id, Campaign.name))}


async def user_names(session: AsyncSession, user_ids: Sequence[int]) -> dict[int, str]:
    """user id → full name, for the ids given (the agents a history names)."""
    if not user_ids:
        return {}
    rows = await session.execute(select(User.id, User.full_name).where(User.id.in_(list(set(user_ids)))))
    return {int(i): str(n) for i, n in rows}


# ---------------------------------------------------------------- today's results per campaign


@dataclass(frozen=True, slots=True)
class DayResults:
    right_party: int = 0
    promises: int = 0
    promised_amount: Decimal = Decimal(0)
    agreements: int = 0
    agreed_amount: Decimal = Decimal(0)


async def results_since(session: AsyncSession, since: datetime) -> dict[int, DayResults]:
    """Per campaign, the dispositions of the calls placed since ``since``.

    Read by the calls' ``created_at`` (indexed; the cost follows the day's calls, not the
    history), which the dialer stamps with the app's one clock; a disposition's own time is
    the wall clock's, which a demo running in shifted business hours does not share."""
    rows = await session.execute(
        select(CallAttempt.campaign_id, Outcome.code, func.count(), func.sum(Outcome.promise_amount),
               func.sum(Agreement.total))
        .join(CallAttempt, CallAttempt.id == Outcome.attempt_id)
        .outerjoin(Agreement, Agreement.attempt_id == Outcome.attempt_id)
        .where(CallAttempt.created_at >= since)
        .group_by(CallAttempt.campaign_id, Outcome.code)
    )
    acc: dict[int, dict[str, Any]] = {}
    for campaign_id, code, n, promised, agreed in rows:
        a = acc.setdefault(int(campaign_id), {"right_party": 0, "promises": 0, "promised_amount": Decimal(0),
                                              "agreements": 0, "agreed_amount": Decimal(0)})
        code = OutcomeCode(code)
        if code in RIGHT_PARTY_CODES:
            a["right_party"] += int(n)
        if code is OutcomeCode.PROMESSA:
            a["promises"] += int(n)
            a["promised_amount"] += Decimal(promised or 0)
        if code is OutcomeCode.ACORDO:
            a["agreements"] += int(n)
            a["agreed_amount"] += Decimal(agreed or 0)
    return {cid: DayResults(**a) for cid, a in acc.items()}


__all__ = [
    "RIGHT_PARTY_CODES",
    "CampaignHold",
    "DayResults",
    "HistoryRow",
    "boost_matching_leads",
    "campaign_customer",
    "campaign_holds",
    "campaign_names",
    "count_matching_leads",
    "history",
    "hold_customer_in_campaign",
    "matching_leads",
    "recheck_deferred_leads",
    "results_since",
    "set_window_override",
    "user_names",
]
