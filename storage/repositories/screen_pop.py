"""What a screen-pop shows of a customer, read in a fixed number of indexed queries.

Customer (primary key), phones, debts and tags (``selectinload``: one query each, never a
query per debt), the last attempts with their outcome and agent (one join on
``ix_call_attempts_customer_created``), the promises, and the attempt counts for today and
the last 7 days (one aggregate), and the negotiation history (agreements with their
installments, promises kept or broken, payments: ``storage.repositories.negotiation``). Returned as this module's own frozen dataclasses; the
dialer turns them into its ``ScreenPop``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.errors import NotFound
from storage.models import (
    Agreement,
    AgreementKind,
    CallAttempt,
    Customer,
    Debt,
    DebtStatus,
    InstallmentStatus,
    Outcome,
    OutcomeCode,
    Payment,
    Promise,
    PromiseStatus,
    User,
)
from storage.repositories import regua
from storage.repositories.negotiation import (
    AgreementRow,
    InstallmentRow,
    PaymentRow,
    negotiation_history,
)


@dataclass(frozen=True, slots=True)
class DebtRow:
    contract: str
    creditor: str
    product: str | None
    original_amount: Decimal
    balance: Decimal
    due_date: date


@dataclass(frozen=True, slots=True)
class AttemptRow:
    at: datetime
    result: str | None
    agent_name: str | None
    outcome_code: str | None
    notes: str | None


@dataclass(frozen=True, slots=True)
class PromiseRow:
    created_at: datetime
    amount: Decimal | None
    due: date | None
    kept: bool | None = None  # None while open (the payments import settles it)


@dataclass(frozen=True, slots=True)
class PopData:
    customer_id: int
    name: str
    cpf: str
    uf: str | None
    tags: tuple[str, ...]
    debts: tuple[DebtRow, ...]
    attempts: tuple[AttemptRow, ...]
    promises: tuple[PromiseRow, ...]
    attempts_today: int
    attempts_7d: int
    agreements: tuple[AgreementRow, ...] = ()
    payments: tuple[PaymentRow, ...] = ()
    birth_date: date | None = None  # for the identity check only
    email: str | None = None
    external_id: str | None = None  # the creditor's customer code (an identity question may ask it)
    lead_reasons: tuple[str, ...] = ()  # the leads' last results (the régua's "PROMESSA_QUEBRADA", "REGUA_D+5", ...)
    opted_out: tuple[str, ...] = ()  # channels the customer stopped (régua opt-outs)


async def load_pop_data(
    session: AsyncSession, customer_id: int, *, now: datetime, day_start: datetime, last_attempts: int = 10
) -> PopData:
    """Everything the pop needs about ``customer_id``; ``day_start`` is when "today" began (local)."""
    customer = (
        await session.execute(
            select(Customer)
            .where(Customer.id == customer_id)
            .options(selectinload(Customer.debts), selectinload(Customer.tags))
        )
    ).scalar_one_or_none()
    if customer is None:
        raise NotFound(f"no customer with id {customer_id}")
    debts = tuple(
        DebtRow(d.contract, d.creditor, d.product, d.original_amount, d.balance, d.due_date)
        for d in sorted(customer.debts, key=lambda d: (d.due_date, d.contract))
        if d.status in (DebtStatus.OPEN, DebtStatus.IN_AGREEMENT)
    )
    history = await session.execute(
        select(CallAttempt.created_at, CallAttempt.result, User.full_name, Outcome.code, Outcome.notes)
        .outerjoin(Outcome, Outcome.attempt_id == CallAttempt.id)
        .outerjoin(User, User.id == CallAttempt.agent_id)
        .where(CallAttempt.customer_id == customer_id, CallAttempt.result.is_not(None))
        .order_by(CallAttempt.created_at.desc())
        .limit(last_attempts)
    )
    attempts = tuple(
        AttemptRow(at, None if result is None else str(result.value if hasattr(result, "value") else result),
                   agent, None if code is None else code.value, notes)
        for at, result, agent, code, notes in history
    )
    promise_rows = await session.execute(
        select(Outcome.created_at, Outcome.promise_amount, Outcome.promise_date, Promise.status)
        .join(CallAttempt, CallAttempt.id == Outcome.attempt_id)
        .outerjoin(Promise, Promise.attempt_id == Outcome.attempt_id)
        .where(CallAttempt.customer_id == customer_id, Outcome.code == OutcomeCode.PROMESSA)
        .order_by(Outcome.created_at.desc())
        .limit(last_attempts)
    )
    kept_of = {PromiseStatus.KEPT: True, PromiseStatus.BROKEN: False}
    promises = tuple(
        PromiseRow(c, a, d, None if st is None else kept_of.get(PromiseStatus(st))) for c, a, d, st in promise_rows
    )
    negotiation = await negotiation_history(session, customer_id, limit=last_attempts)
    reasons = tuple(await regua.lead_reasons(session, customer_id))
    opted_out = tuple(o.channel for o in await regua.opt_outs_of(session, customer_id))
    week_ago = now - timedelta(days=7)
    counts = (
        await session.execute(
            select(
                func.count(CallAttempt.id),
                func.coalesce(func.sum(case((CallAttempt.created_at >= day_start, 1), else_=0)), 0),
            ).where(CallAttempt.customer_id == customer_id, CallAttempt.created_at >= week_ago)
        )
    ).one()
    return PopData(
        customer_id=customer.id,
        name=customer.name,
        cpf=customer.cpf,
        uf=customer.uf,
        tags=tuple(sorted(t.tag for t in customer.tags)),
        debts=debts,
        attempts=attempts,
        promises=promises,
        attempts_today=int(counts[1]),
        attempts_7d=int(counts[0]),
        agreements=negotiation.agreements,
        payments=negotiation.payments,
        birth_date=customer.birth_date,
        email=customer.email,
        external_id=customer.external_id,
        lead_reasons=reasons,
        opted_out=opted_out,
    )


# ---------------------------------------------------------------------------- many customers at once


async def load_pop_data_many(
    session: AsyncSession,
    customer_ids: list[int],
    *,
    now: datetime,
    day_start: datetime,
    last_attempts: int = 10,
    exclude_attempts: Sequence[str] = (),
) -> dict[int, PopData]:
    """:func:`load_pop_data` for several customers in one fixed set of queries (not a set per customer).

    ``exclude_attempts``: attempts not counted in the day's and week's attempts (the calls the
    pop is for, stored with their claims before their pop data is read).

    The dialer claims a tick's leads together; eight queries per lead, one lead after the other,
    held their calls back for over a second at 200 agents (issue 10). "The last N" per customer
    is a ``row_number()`` window (SQLite >= 3.25 and PostgreSQL). NotFound names a missing customer.
    """
    ids = sorted(set(customer_ids))
    if not ids:
        return {}
    customers = {
        c.id: c
        for c in (
            await session.execute(
                select(Customer).where(Customer.id.in_(ids)).options(selectinload(Customer.debts), selectinload(Customer.tags))
            )
        ).scalars()
    }
    missing = [i for i in ids if i not in customers]
    if missing:
        raise NotFound(f"no customer with id {missing[0]}")

    history = _last_per_customer(
        select(
            CallAttempt.customer_id.label("customer_id"),
            CallAttempt.created_at,
            CallAttempt.result,
            User.full_name,
            Outcome.code,
            Outcome.notes,
        )
        .outerjoin(Outcome, Outcome.attempt_id == CallAttempt.id)
        .outerjoin(User, User.id == CallAttempt.agent_id)
        .where(CallAttempt.customer_id.in_(ids), CallAttempt.result.is_not(None)),
        CallAttempt.customer_id,
        (CallAttempt.created_at.desc(),),
        last_attempts,
    )
    attempts: dict[int, list[AttemptRow]] = {i: [] for i in ids}
    for customer_id, at, result, agent, code, notes in (await session.execute(history)).all():
        attempts[customer_id].append(
            AttemptRow(at, None if result is None else str(result.value if hasattr(result, "value") else result),
                       agent, None if code is None else OutcomeCode(code).value, notes)
        )

    promised = _last_per_customer(
        select(
            CallAttempt.customer_id.label("customer_id"),
            Outcome.created_at,
            Outcome.promise_amount,
            Outcome.promise_date,
            Promise.status,
        )
        .join(CallAttempt, CallAttempt.id == Outcome.attempt_id)
        .outerjoin(Promise, Promise.attempt_id == Outcome.attempt_id)
        .where(CallAttempt.customer_id.in_(ids), Outcome.code == OutcomeCode.PROMESSA),
        CallAttempt.customer_id,
        (Outcome.created_at.desc(),),
        last_attempts,
    )
    kept_of = {PromiseStatus.KEPT: True, PromiseStatus.BROKEN: False}
    promises: dict[int, list[PromiseRow]] = {i: [] for i in ids}
    for customer_id, c, a, d, st in (await session.execute(promised)).all():
        promises[customer_id].append(PromiseRow(c, a, d, None if st is None else kept_of.get(PromiseStatus(st))))

    week_ago = now - timedelta(days=7)
    counted = [CallAttempt.customer_id.in_(ids), CallAttempt.created_at >= week_ago]
    if exclude_attempts:
        counted.append(CallAttempt.id.not_in(list(exclude_attempts)))
    counts = {
        customer_id: (int(week), int(today))
        for customer_id, week, today in await session.execute(
            select(
                CallAttempt.customer_id,
                func.count(CallAttempt.id),
                func.coalesce(func.sum(case((CallAttempt.created_at >= day_start, 1), else_=0)), 0),
            )
            .where(*counted)
            .group_by(CallAttempt.customer_id)
        )
    }
    agreements = await _agreements_many(session, ids, last_attempts)
    payments: dict[int, list[PaymentRow]] = {i: [] for i in ids}
    paid = _last_per_customer(
        select(Payment.customer_id.label("customer_id"), Payment.paid_on, Payment.amount).where(Payment.customer_id.in_(ids)),
        Payment.customer_id,
        (Payment.paid_on.desc(), Payment.id.desc()),
        last_attempts,
    )
    for customer_id, paid_on, amount in (await session.execute(paid)).all():
        payments[customer_id].append(PaymentRow(paid_on, amount))

    reasons = await regua.lead_reasons_many(session, ids)
    opted_out = await regua.opt_out_channels_many(session, ids)
    out = {}
    for i in ids:
        customer = customers[i]
        week, today = counts.get(i, (0, 0))
        out[i] = PopData(
            customer_id=customer.id,
            name=customer.name,
            cpf=customer.cpf,
            uf=customer.uf,
            tags=tuple(sorted(t.tag for t in customer.tags)),
            debts=tuple(
                DebtRow(d.contract, d.creditor, d.product, d.original_amount, d.balance, d.due_date)
                for d in sorted(customer.debts, key=lambda d: (d.due_date, d.contract))
                if d.status in (DebtStatus.OPEN, DebtStatus.IN_AGREEMENT)
            ),
            attempts=tuple(attempts[i]),
            promises=tuple(promises[i]),
            attempts_today=today,
            attempts_7d=week,
            agreements=agreements.get(i, ()),
            payments=tuple(payments[i]),
            birth_date=customer.birth_date,
            email=customer.email,
            external_id=customer.external_id,
            lead_reasons=tuple(reasons.get(i, ())),
            opted_out=tuple(opted_out.get(i, ())),
        )
    return out


def _last_per_customer(query: Any, partition: Any, order: tuple[Any, ...], limit: int) -> Any:
    """The first ``limit`` rows of ``query`` per customer in ``order`` (its first column is the customer id),
    by customer, in that order: the rows without their rank."""
    ranked = query.add_columns(func.row_number().over(partition_by=partition, order_by=order).label("pop_rank")).subquery()
    columns = [c for c in ranked.c if c.name != "pop_rank"]
    return select(*columns).where(ranked.c.pop_rank <= limit).order_by(ranked.c.customer_id, ranked.c.pop_rank)


async def _agreements_many(session: AsyncSession, ids: list[int], limit: int) -> dict[int, tuple[AgreementRow, ...]]:
    """Each customer's latest agreements (as :func:`negotiation_history` reads them for one)."""
    latest = _last_per_customer(
        select(Agreement.customer_id.label("customer_id"), Agreement.id).where(Agreement.customer_id.in_(ids)),
        Agreement.customer_id,
        (Agreement.created_at.desc(), Agreement.id.desc()),
        limit,
    )
    ordered = [(customer_id, agreement_id) for customer_id, agreement_id in (await session.execute(latest)).all()]
    if not ordered:
        return {}
    loaded = {
        a.id: a
        for a in (
            await session.execute(
                select(Agreement)
                .where(Agreement.id.in_([a for _, a in ordered]))
                .options(selectinload(Agreement.installments), selectinload(Agreement.debts))
            )
        ).scalars()
    }
    debt_ids = {d.debt_id for a in loaded.values() for d in a.debts}
    contracts: dict[int, str] = {}
    if debt_ids:
        rows = await session.execute(select(Debt.id, Debt.contract).where(Debt.id.in_(debt_ids)))
        contracts = {debt_id: contract for debt_id, contract in rows}
    out: dict[int, list[AgreementRow]] = {}
    for customer_id, agreement_id in ordered:
        a = loaded[agreement_id]
        out.setdefault(customer_id, []).append(
            AgreementRow(
                id=a.id,
                created_at=a.created_at,
                kind=AgreementKind(a.kind).value,
                total=a.total,
                discount_amount=a.discount_amount,
                status=a.status.value,
                contracts=tuple(sorted(contracts.get(d.debt_id, "?") for d in a.debts)),
                installments=tuple(
                    InstallmentRow(i.number, i.due_date, i.amount, i.status is InstallmentStatus.PAID, i.paid_on)
                    for i in a.installments
                ),
            )
        )
    return {customer_id: tuple(rows) for customer_id, rows in out.items()}
