"""What a screen-pop shows of a customer, read in a fixed number of indexed queries.

Customer (primary key), phones, debts and tags (``selectinload``: one query each, never a
query per debt), the last attempts with their outcome and agent (one join on
``ix_call_attempts_customer_created``), the promises, and the attempt counts for today and
the last 7 days (one aggregate), and the negotiation history (agreements with their
installments, promises kept or broken, payments: ``storage.repositories.negotiation``). Returned as this module's own frozen dataclasses; the
dialer turns them into its ``ScreenPop``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.errors import NotFound
from storage.models import (
    CallAttempt,
    Customer,
    DebtStatus,
    Outcome,
    OutcomeCode,
    Promise,
    PromiseStatus,
    User,
)
from storage.repositories import regua
from storage.repositories.negotiation import (
    AgreementRow,
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
