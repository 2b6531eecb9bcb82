"""Payments from the creditor's payment file, and the rows they settle (installments, promises, leads)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Agreement,
    AgreementDebt,
    AgreementInstallment,
    AgreementStatus,
    Customer,
    Debt,
    DebtStatus,
    InstallmentStatus,
    Lead,
    LeadState,
    Payment,
    Promise,
    PromiseStatus,
)


async def customer_ids_by_cpf(session: AsyncSession, cpf: str) -> list[int]:
    rows = await session.execute(select(Customer.id).where(Customer.cpf == cpf).order_by(Customer.id))
    return [r for (r,) in rows]


async def debts_by_contract(session: AsyncSession, contract: str) -> list[Debt]:
    rows = await session.execute(select(Debt).where(Debt.contract == contract).order_by(Debt.id))
    return list(rows.scalars())


async def payment_by_key(session: AsyncSession, source_key: str) -> Payment | None:
    return (await session.execute(select(Payment).where(Payment.source_key == source_key))).scalar_one_or_none()


async def add_payment(
    session: AsyncSession,
    *,
    source_key: str,
    customer_id: int,
    debt_id: int | None,
    amount: Decimal,
    paid_on: date,
    source: str,
    applied: dict[str, Any],
    imported_at: datetime,
) -> Payment:
    payment = Payment(
        source_key=source_key,
        customer_id=customer_id,
        debt_id=debt_id,
        amount=amount,
        paid_on=paid_on,
        source=source[:200],
        applied=applied,
        imported_at=imported_at,
    )
    session.add(payment)
    await session.flush()
    return payment


async def open_installments(session: AsyncSession, customer_id: int, debt_id: int | None = None) -> list[AgreementInstallment]:
    """Unpaid installments of the customer's active agreements (of those covering ``debt_id``), oldest due first."""
    query = (
        select(AgreementInstallment)
        .join(Agreement, Agreement.id == AgreementInstallment.agreement_id)
        .where(
            Agreement.customer_id == customer_id,
            Agreement.status == AgreementStatus.ACTIVE,
            AgreementInstallment.status == InstallmentStatus.OPEN,
        )
        .order_by(AgreementInstallment.due_date, AgreementInstallment.agreement_id, AgreementInstallment.number)
    )
    if debt_id is not None:
        query = query.where(
            Agreement.id.in_(select(AgreementDebt.agreement_id).where(AgreementDebt.debt_id == debt_id))
        )
    return list((await session.execute(query)).scalars())


async def credit_installment(
    session: AsyncSession, installment: AgreementInstallment, *, amount: Decimal, paid_on: date, now: datetime
) -> tuple[bool, bool]:
    """Add ``amount`` to what was paid of it; ``(paid now, whole agreement settled now)``.

    When the last installment is paid, the agreement becomes ``paid`` and its debts ``settled``.
    """
    installment.paid_amount = installment.paid_amount + amount
    if installment.paid_amount < installment.amount:
        await session.flush()
        return False, False
    installment.paid_on = paid_on
    installment.status = InstallmentStatus.PAID
    await session.flush()
    still_open = (
        await session.execute(
            select(AgreementInstallment.id)
            .where(
                AgreementInstallment.agreement_id == installment.agreement_id,
                AgreementInstallment.status == InstallmentStatus.OPEN,
            )
            .limit(1)
        )
    ).scalar()
    if still_open is not None:
        return True, False
    await session.execute(
        update(Agreement).where(Agreement.id == installment.agreement_id).values(status=AgreementStatus.PAID)
    )
    await session.execute(
        update(Debt)
        .where(Debt.id.in_(select(AgreementDebt.debt_id).where(AgreementDebt.agreement_id == installment.agreement_id)))
        .values(status=DebtStatus.SETTLED, updated_at=now)
    )
    await session.execute(  # a re-import must compare this customer again (see Customer.import_fingerprint)
        update(Customer)
        .where(Customer.id == select(Agreement.customer_id).where(Agreement.id == installment.agreement_id)
               .scalar_subquery())
        .values(import_fingerprint=None)
    )
    return True, True


async def pending_promises(session: AsyncSession, customer_id: int) -> list[Promise]:
    """The customer's open promises, earliest date first."""
    rows = await session.execute(
        select(Promise)
        .where(Promise.customer_id == customer_id, Promise.status == PromiseStatus.PENDING)
        .order_by(Promise.due_date, Promise.id)
    )
    return list(rows.scalars())


async def promises_past_due(session: AsyncSession, before: date) -> list[Promise]:
    """Open promises whose date is before ``before`` (so they can no longer be kept)."""
    rows = await session.execute(
        select(Promise)
        .where(Promise.status == PromiseStatus.PENDING, Promise.due_date < before)
        .order_by(Promise.due_date, Promise.id)
    )
    return list(rows.scalars())


async def requeue_customer_leads(
    session: AsyncSession, customer_id: int, *, now: datetime, boost: int, reason: str, campaign_id: int | None = None
) -> int:
    """Put the customer's leads back in the list now, ``boost`` higher, with ``reason`` as the last result.

    Leads being dialled or stopped (deceased, …) are left alone; returns how many changed.
    """
    query = (
        update(Lead)
        .where(Lead.customer_id == customer_id, Lead.state.not_in([LeadState.STOPPED, LeadState.IN_PROGRESS]))
        .values(
            state=LeadState.DIALABLE,
            next_attempt_at=now,
            boost=Lead.boost + boost,
            last_result=reason[:20],
            updated_at=now,
        )
    )
    if campaign_id is not None:
        query = query.where(Lead.campaign_id == campaign_id)
    result = await session.execute(query)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
