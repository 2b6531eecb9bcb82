"""The régua's storage: rules, the portfolio state the planner reads, decisions (with their outbox
messages, in one transaction), opt-outs, agency hand-offs and satisfaction surveys."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    AgencyHandoff,
    Agreement,
    AgreementDebt,
    AgreementInstallment,
    AgreementStatus,
    Base,
    Campaign,
    ChannelOptOut,
    Customer,
    CustomerHold,
    CustomerTag,
    Debt,
    DebtStatus,
    Lead,
    LeadState,
    OutboxMessage,
    Phone,
    PhoneKind,
    PhoneStatus,
    Promise,
    PromiseStatus,
    ReguaDecision,
    ReguaRule,
    SatisfactionSurvey,
)

# --- rules -----------------------------------------------------------------------------------


async def load_rules(session: AsyncSession) -> list[dict[str, Any]]:
    """The stored steps' definitions in order (empty: none stored yet)."""
    rows = await session.execute(select(ReguaRule.definition).order_by(ReguaRule.position, ReguaRule.id))
    return [dict(d) for (d,) in rows]


async def replace_rules(
    session: AsyncSession, definitions: Sequence[dict[str, Any]], *, user_id: int | None, at: datetime
) -> None:
    """Store exactly ``definitions`` (by key), in this order."""
    keys = [str(d["key"]) for d in definitions]
    await session.execute(delete(ReguaRule).where(ReguaRule.key.not_in(keys)))
    existing = {r.key: r for r in (await session.execute(select(ReguaRule))).scalars()}
    for position, definition in enumerate(definitions):
        row = existing.get(str(definition["key"]))
        if row is None:
            row = ReguaRule(key=str(definition["key"]))
            session.add(row)
        row.position = position
        row.definition = dict(definition)
        row.updated_by_id = user_id
        row.updated_at = at
    await session.flush()


# --- the portfolio as the planner sees it ---------------------------------------------------


@dataclass
class AccountRow:
    """One customer with every row a rule may look at (``dialer.regua.services`` turns it into facts)."""

    customer: Customer
    tags: list[str] = field(default_factory=list)
    campaigns: list[str] = field(default_factory=list)
    mobile: str | None = None
    on_hold: bool = False
    outsourced: bool = False
    opted_out: list[str] = field(default_factory=list)
    debts: list[tuple[Debt, bool]] = field(default_factory=list)  # (debt, covered by an active agreement)
    installments: list[tuple[AgreementInstallment, bool]] = field(default_factory=list)  # (row, agreement active)
    agreements: list[Agreement] = field(default_factory=list)
    promises: list[Promise] = field(default_factory=list)


async def customer_ids_page(session: AsyncSession, *, after_id: int, limit: int) -> list[int]:
    """Customers with anything the régua may act on (open debts, agreements or promises), by id."""
    has_debt = select(Debt.customer_id).where(Debt.status.in_([DebtStatus.OPEN, DebtStatus.IN_AGREEMENT]))
    has_agreement = select(Agreement.customer_id)
    has_promise = select(Promise.customer_id).where(Promise.status == PromiseStatus.PENDING)
    rows = await session.execute(
        select(Customer.id)
        .where(Customer.id > after_id, Customer.id.in_(has_debt.union(has_agreement, has_promise)))
        .order_by(Customer.id)
        .limit(limit)
    )
    return [r for (r,) in rows]


def _is_mobile(e164: str) -> bool:
    digits = e164.removeprefix("+55")
    return len(digits) == 11 and digits[2] == "9"


async def load_accounts(session: AsyncSession, customer_ids: Sequence[int], *, now: datetime) -> list[AccountRow]:
    """Everything about ``customer_ids`` in a few queries (no per-customer round trips)."""
    if not customer_ids:
        return []
    ids = list(customer_ids)
    customers = (await session.execute(select(Customer).where(Customer.id.in_(ids)).order_by(Customer.id))).scalars()
    accounts = {c.id: AccountRow(c) for c in customers}
    for cid, tag in await session.execute(select(CustomerTag.customer_id, CustomerTag.tag).where(CustomerTag.customer_id.in_(ids))):
        accounts[cid].tags.append(tag)
    for cid, name in await session.execute(
        select(Lead.customer_id, Campaign.name).join(Campaign, Campaign.id == Lead.campaign_id).where(Lead.customer_id.in_(ids))
    ):
        accounts[cid].campaigns.append(name)
    phones = await session.execute(
        select(Phone.customer_id, Phone.e164)
        .where(Phone.customer_id.in_(ids), Phone.kind == PhoneKind.OWN, Phone.status == PhoneStatus.OK)
        .order_by(Phone.customer_id, Phone.id)
    )
    for cid, e164 in phones:
        if accounts[cid].mobile is None and _is_mobile(e164):
            accounts[cid].mobile = e164
    holds = await session.execute(
        select(CustomerHold.customer_id).where(
            CustomerHold.customer_id.in_(ids),
            CustomerHold.released_at.is_(None),
            (CustomerHold.until.is_(None)) | (CustomerHold.until > now),
        )
    )
    for (cid,) in holds:
        accounts[cid].on_hold = True
    for (cid,) in await session.execute(select(AgencyHandoff.customer_id).where(AgencyHandoff.customer_id.in_(ids))):
        accounts[cid].outsourced = True
    for cid, channel in await session.execute(
        select(ChannelOptOut.customer_id, ChannelOptOut.channel).where(ChannelOptOut.customer_id.in_(ids))
    ):
        accounts[cid].opted_out.append(channel)
    covered = set(
        (
            await session.execute(
                select(AgreementDebt.debt_id)
                .join(Agreement, Agreement.id == AgreementDebt.agreement_id)
                .where(Agreement.customer_id.in_(ids), Agreement.status == AgreementStatus.ACTIVE)
            )
        ).scalars()
    )
    for debt in (await session.execute(select(Debt).where(Debt.customer_id.in_(ids)).order_by(Debt.id))).scalars():
        accounts[debt.customer_id].debts.append((debt, debt.id in covered))
    agreements = (
        await session.execute(select(Agreement).where(Agreement.customer_id.in_(ids)).order_by(Agreement.id))
    ).scalars()
    status_of: dict[int, AgreementStatus] = {}
    for agreement in agreements:
        accounts[agreement.customer_id].agreements.append(agreement)
        status_of[agreement.id] = AgreementStatus(agreement.status)
    owner_of = {a.id: a.customer_id for acc in accounts.values() for a in acc.agreements}
    if owner_of:
        installments = await session.execute(
            select(AgreementInstallment)
            .where(AgreementInstallment.agreement_id.in_(list(owner_of)))
            .order_by(AgreementInstallment.agreement_id, AgreementInstallment.number)
        )
        for inst in installments.scalars():
            active = status_of[inst.agreement_id] is AgreementStatus.ACTIVE
            accounts[owner_of[inst.agreement_id]].installments.append((inst, active))
    for promise in (
        await session.execute(select(Promise).where(Promise.customer_id.in_(ids)).order_by(Promise.id))
    ).scalars():
        accounts[promise.customer_id].promises.append(promise)
    return [accounts[i] for i in ids if i in accounts]


# --- decisions --------------------------------------------------------------------------------


async def decided_keys_since(session: AsyncSession, since: date, *, always: str | None = None) -> set[str]:
    """Keys of the steps that fell on or after ``since`` and were already taken (and, whatever
    their date, those of rule ``always``: a broken installment stays unpaid and is seen daily)."""
    condition = ReguaDecision.fire_on >= since
    if always is not None:
        condition = or_(condition, ReguaDecision.rule_key == always)
    rows = await session.execute(select(ReguaDecision.key).where(condition))
    return {k for (k,) in rows}


def _values(row: Base) -> dict[str, Any]:
    """The column values set on a new ORM row (unset ones take their column defaults at insert)."""
    return {c.key: getattr(row, c.key) for c in row.__table__.columns if getattr(row, c.key, None) is not None}


def _insert_if_new(session: AsyncSession) -> Any:
    """``INSERT … ON CONFLICT DO NOTHING`` of the session's database (SQLite ≥ 3.35 and PostgreSQL)."""
    dialect = session.get_bind().dialect.name
    return (sqlite_insert if dialect == "sqlite" else pg_insert)(ReguaDecision)


async def record_decision(
    session: AsyncSession, decision: ReguaDecision, messages: Sequence[OutboxMessage] = ()
) -> bool:
    """Store the decision and its messages (in the caller's transaction); False if its key was taken.

    One ``INSERT … ON CONFLICT (key) DO NOTHING RETURNING id``: a key another run stored first
    (or is storing: the insert waits for its transaction) returns no row and costs only this
    step, without a savepoint round trip. Core inserts: a daily run stores thousands, and the
    unit of work per row costs several times more.
    """
    statement = (
        _insert_if_new(session)
        .values(_values(decision))
        .on_conflict_do_nothing(index_elements=[ReguaDecision.key])
        .returning(ReguaDecision.id)
    )
    decision_id = (await session.execute(statement)).scalar_one_or_none()
    if decision_id is None:
        return False
    if messages:
        await session.execute(insert(OutboxMessage), [{**_values(m), "decision_id": decision_id} for m in messages])
    decision.id = decision_id
    return True


async def decisions_on(session: AsyncSession, run_on: date) -> list[ReguaDecision]:
    rows = await session.execute(select(ReguaDecision).where(ReguaDecision.run_on == run_on).order_by(ReguaDecision.id))
    return list(rows.scalars())


async def decision_counts(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(ReguaDecision.rule_key, func.count()).group_by(ReguaDecision.rule_key))
    return {k: int(n) for k, n in rows}


# --- the dialing list -------------------------------------------------------------------------


async def boost_customer_leads(
    session: AsyncSession, customer_id: int, *, now: datetime, boost: int, reason: str
) -> int:
    """The customer's leads back in the list now, ``boost`` higher, ``reason`` as the last result."""
    result = await session.execute(
        update(Lead)
        .where(Lead.customer_id == customer_id, Lead.state.not_in([LeadState.STOPPED, LeadState.IN_PROGRESS]))
        .values(state=LeadState.DIALABLE, next_attempt_at=now, boost=Lead.boost + boost, last_result=reason[:20], updated_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def stop_customer_leads(session: AsyncSession, customer_id: int, *, now: datetime, reason: str) -> int:
    """Every lead of the customer out of the dialer (not one being dialled right now: it finishes)."""
    result = await session.execute(
        update(Lead)
        .where(Lead.customer_id == customer_id, Lead.state != LeadState.IN_PROGRESS)
        .values(state=LeadState.STOPPED, next_attempt_at=None, last_result=reason[:20], updated_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def lead_reasons(session: AsyncSession, customer_id: int) -> list[str]:
    """The last results of the customer's leads (the régua's reasons among them)."""
    rows = await session.execute(select(Lead.last_result).where(Lead.customer_id == customer_id, Lead.last_result.is_not(None)))
    return sorted({r for (r,) in rows if r})


async def lead_reasons_many(session: AsyncSession, customer_ids: Sequence[int]) -> dict[int, list[str]]:
    """:func:`lead_reasons` of several customers in one query."""
    rows = await session.execute(
        select(Lead.customer_id, Lead.last_result).where(Lead.customer_id.in_(list(customer_ids)), Lead.last_result.is_not(None))
    )
    found: dict[int, set[str]] = {}
    for customer_id, result in rows:
        if result:
            found.setdefault(customer_id, set()).add(result)
    return {customer_id: sorted(results) for customer_id, results in found.items()}


async def break_promise(session: AsyncSession, promise_id: int, *, now: datetime) -> bool:
    result = await session.execute(
        update(Promise)
        .where(Promise.id == promise_id, Promise.status == PromiseStatus.PENDING)
        .values(status=PromiseStatus.BROKEN, resolved_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


# --- agencies ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HandoffRow:
    id: int
    agency: str
    handed_at: datetime
    exported_at: datetime | None
    external_id: str
    name: str
    cpf: str
    email: str | None
    uf: str | None
    contract: str | None
    creditor: str | None
    balance: Decimal | None
    due_date: date | None
    phones: tuple[str, ...]


async def add_handoff(session: AsyncSession, *, customer_id: int, debt_id: int | None, agency: str, at: datetime) -> AgencyHandoff:
    row = AgencyHandoff(customer_id=customer_id, debt_id=debt_id, agency=agency[:120], handed_at=at)
    session.add(row)
    await session.flush()
    return row


async def handoffs(session: AsyncSession, *, agency: str | None = None, only_new: bool = False) -> list[HandoffRow]:
    """Hand-offs with what an agency needs to collect, oldest first."""
    query = (
        select(AgencyHandoff, Customer, Debt)
        .join(Customer, Customer.id == AgencyHandoff.customer_id)
        .outerjoin(Debt, Debt.id == AgencyHandoff.debt_id)
        .order_by(AgencyHandoff.id)
    )
    if agency is not None:
        query = query.where(AgencyHandoff.agency == agency)
    if only_new:
        query = query.where(AgencyHandoff.exported_at.is_(None))
    rows = (await session.execute(query)).all()
    phones: dict[int, list[str]] = defaultdict(list)
    ids = list({h.customer_id for h, _, _ in rows})
    if ids:
        for cid, e164 in await session.execute(
            select(Phone.customer_id, Phone.e164).where(Phone.customer_id.in_(ids), Phone.status == PhoneStatus.OK).order_by(Phone.id)
        ):
            phones[cid].append(e164)
    return [
        HandoffRow(
            h.id, h.agency, h.handed_at, h.exported_at, c.external_id, c.name, c.cpf, c.email, c.uf,
            None if d is None else d.contract, None if d is None else d.creditor, None if d is None else d.balance,
            None if d is None else d.due_date, tuple(phones[c.id]),
        )
        for h, c, d in rows
    ]


async def mark_exported(session: AsyncSession, handoff_ids: Sequence[int], *, at: datetime) -> None:
    if handoff_ids:
        await session.execute(update(AgencyHandoff).where(AgencyHandoff.id.in_(list(handoff_ids))).values(exported_at=at))


async def agencies(session: AsyncSession) -> list[tuple[str, int, int]]:
    """(agency, hand-offs, not yet exported)."""
    rows = await session.execute(
        select(
            AgencyHandoff.agency,
            func.count(),
            func.count(AgencyHandoff.id).filter(AgencyHandoff.exported_at.is_(None)),
        ).group_by(AgencyHandoff.agency).order_by(AgencyHandoff.agency)
    )
    return [(a, int(n), int(new)) for a, n, new in rows]


# --- opt-outs ---------------------------------------------------------------------------------


async def add_opt_out(
    session: AsyncSession, *, customer_id: int, channel: str, source: str, detail: str, user_id: int | None, at: datetime
) -> bool:
    """Stop ``channel`` for the customer; False when it already was."""
    try:
        async with session.begin_nested():
            session.add(ChannelOptOut(customer_id=customer_id, channel=channel, source=source, detail=detail[:200],
                                      created_by_id=user_id, created_at=at))
            await session.flush()
    except IntegrityError:
        return False
    return True


async def remove_opt_out(session: AsyncSession, *, customer_id: int, channel: str) -> bool:
    result = await session.execute(
        delete(ChannelOptOut).where(ChannelOptOut.customer_id == customer_id, ChannelOptOut.channel == channel)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def opt_outs_of(session: AsyncSession, customer_id: int) -> list[ChannelOptOut]:
    rows = await session.execute(
        select(ChannelOptOut).where(ChannelOptOut.customer_id == customer_id).order_by(ChannelOptOut.channel)
    )
    return list(rows.scalars())


async def opt_out_channels_many(session: AsyncSession, customer_ids: Sequence[int]) -> dict[int, list[str]]:
    """The stopped channels of several customers in one query (each list in channel order)."""
    rows = await session.execute(
        select(ChannelOptOut.customer_id, ChannelOptOut.channel)
        .where(ChannelOptOut.customer_id.in_(list(customer_ids)))
        .order_by(ChannelOptOut.customer_id, ChannelOptOut.channel)
    )
    found: dict[int, list[str]] = {}
    for customer_id, channel in rows:
        found.setdefault(customer_id, []).append(channel)
    return found


async def recent_opt_outs(session: AsyncSession, limit: int = 50) -> list[tuple[ChannelOptOut, str]]:
    rows = await session.execute(
        select(ChannelOptOut, Customer.name)
        .join(Customer, Customer.id == ChannelOptOut.customer_id)
        .order_by(ChannelOptOut.id.desc())
        .limit(limit)
    )
    return [(o, n) for o, n in rows]


async def customers_by_contact(session: AsyncSession, *, email: str | None = None, phone: str | None = None) -> list[int]:
    """Customers with this e-mail address (case-insensitive) or this phone (E.164)."""
    if email:
        rows = await session.execute(select(Customer.id).where(func.lower(Customer.email) == email.strip().lower()))
    elif phone:
        rows = await session.execute(select(Phone.customer_id).where(Phone.e164 == phone).distinct())
    else:
        return []
    return sorted(r for (r,) in rows)


async def customer_exists(session: AsyncSession, customer_id: int) -> bool:
    return (await session.get(Customer, customer_id)) is not None


# --- satisfaction surveys ---------------------------------------------------------------------


async def survey_for(session: AsyncSession, agreement_id: int) -> SatisfactionSurvey | None:
    return (
        await session.execute(select(SatisfactionSurvey).where(SatisfactionSurvey.agreement_id == agreement_id))
    ).scalar_one_or_none()


async def add_survey(session: AsyncSession, *, agreement_id: int, customer_id: int, nonce: str, at: datetime) -> SatisfactionSurvey:
    survey = SatisfactionSurvey(agreement_id=agreement_id, customer_id=customer_id, nonce=nonce, created_at=at)
    session.add(survey)
    await session.flush()
    return survey


async def survey_by_nonce(session: AsyncSession, nonce: str) -> SatisfactionSurvey | None:
    return (await session.execute(select(SatisfactionSurvey).where(SatisfactionSurvey.nonce == nonce))).scalar_one_or_none()


async def rate_survey(session: AsyncSession, nonce: str, rating: int, *, at: datetime) -> bool:
    """Store the rating if none was stored yet (True), else leave the first one (False)."""
    result = await session.execute(
        update(SatisfactionSurvey)
        .where(SatisfactionSurvey.nonce == nonce, SatisfactionSurvey.rating.is_(None))
        .values(rating=rating, rated_at=at)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def survey_summary(session: AsyncSession) -> tuple[int, int, float | None]:
    """(surveys, answered, average rating)."""
    row = (
        await session.execute(
            select(func.count(), func.count(SatisfactionSurvey.rating), func.avg(SatisfactionSurvey.rating))
        )
    ).one()
    return int(row[0]), int(row[1]), None if row[2] is None else float(row[2])


__all__ = ["AccountRow", "HandoffRow"]
