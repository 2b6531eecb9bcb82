"""Agreements, promises, discount approval requests, script runs and the audit entries they leave.

Agreements and promises are stored once per call attempt: storing the same attempt's
again returns the stored row (the agent's screen may retry). Approval decisions are a
conditional UPDATE (``WHERE status = 'pending'``), so when two supervisors answer at once,
in one process or several, exactly one decision is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.errors import InvalidValue, NotFound
from storage.models import (
    Agreement,
    AgreementDebt,
    AgreementInstallment,
    AgreementKind,
    ApprovalRequest,
    ApprovalStatus,
    Customer,
    Debt,
    DebtStatus,
    InstallmentStatus,
    Payment,
    Promise,
    PromiseStatus,
    ScriptRunRecord,
)
from storage.repositories._values import enum_value
from storage.repositories.calls import refresh_call_amount


@dataclass(frozen=True, slots=True)
class InstallmentSpec:
    number: int
    due_date: date
    amount: Decimal


@dataclass(frozen=True, slots=True)
class DebtShare:
    """A contract an agreement covers and its updated amount at the time."""

    debt_id: int
    updated_amount: Decimal


# ---------------------------------------------------------------- audit


# ---------------------------------------------------------------- agreements


async def get_agreement(session: AsyncSession, agreement_id: int) -> Agreement:
    """The agreement with its installments and debts loaded; NotFound if absent."""
    found = (
        await session.execute(
            select(Agreement)
            .where(Agreement.id == agreement_id)
            .options(selectinload(Agreement.installments), selectinload(Agreement.debts))
        )
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no agreement with id {agreement_id}")
    return found


async def agreement_of_attempt(session: AsyncSession, attempt_id: str) -> Agreement | None:
    found = (await session.execute(select(Agreement.id).where(Agreement.attempt_id == attempt_id))).scalar()
    return None if found is None else await get_agreement(session, found)


async def add_agreement(
    session: AsyncSession,
    *,
    customer_id: int,
    attempt_id: str | None,
    campaign_id: int | None,
    agent_id: int | None,
    approval_id: int | None,
    kind: AgreementKind | str,
    discount_pct: Decimal,
    discount_amount: Decimal,
    debt_total: Decimal,
    calculation: dict[str, Any],
    installments: Sequence[InstallmentSpec],
    debts: Sequence[DebtShare],
    created_at: datetime,
) -> tuple[Agreement, bool]:
    """Store an agreement with its schedule and debts (those move to ``in_agreement``); ``(row, created)``."""
    kind = enum_value(AgreementKind, kind, "kind")
    if not installments:
        raise InvalidValue("installments: an agreement needs at least one payment")
    if not debts:
        raise InvalidValue("debts: an agreement must cover at least one contract")
    if attempt_id is not None:
        existing = await agreement_of_attempt(session, attempt_id)
        if existing is not None:
            return existing, False
    total = sum((i.amount for i in installments), Decimal("0.00"))
    agreement = Agreement(
        customer_id=customer_id,
        attempt_id=attempt_id,
        campaign_id=campaign_id,
        agent_id=agent_id,
        approval_id=approval_id,
        kind=kind,
        discount_pct=discount_pct,
        discount_amount=discount_amount,
        debt_total=debt_total,
        total=total,
        calculation=calculation,
        created_at=created_at,
        installments=[
            AgreementInstallment(number=i.number, due_date=i.due_date, amount=i.amount) for i in installments
        ],
        debts=[AgreementDebt(debt_id=d.debt_id, updated_amount=d.updated_amount) for d in debts],
    )
    session.add(agreement)
    await session.flush()
    await session.execute(
        update(Debt)
        .where(Debt.id.in_([d.debt_id for d in debts]), Debt.customer_id == customer_id)
        .values(status=DebtStatus.IN_AGREEMENT, updated_at=created_at)
    )
    if attempt_id is not None:
        await refresh_call_amount(session, attempt_id)  # the agreement's total is now the call's amount
    # a re-import must compare this customer again (see Customer.import_fingerprint)
    await session.execute(update(Customer).where(Customer.id == customer_id).values(import_fingerprint=None))
    return await get_agreement(session, agreement.id), True


# ---------------------------------------------------------------- promises


async def promise_of_attempt(session: AsyncSession, attempt_id: str) -> Promise | None:
    return (await session.execute(select(Promise).where(Promise.attempt_id == attempt_id))).scalar_one_or_none()


async def add_promise(
    session: AsyncSession,
    *,
    customer_id: int,
    attempt_id: str | None,
    campaign_id: int | None,
    agent_id: int | None,
    amount: Decimal,
    due_date: date,
    created_at: datetime,
) -> tuple[Promise, bool]:
    """Store a promise to pay ``amount`` by ``due_date``; ``(row, created)``."""
    if amount <= 0:
        raise InvalidValue(f"amount: a promise must be above R$ 0,00, got {amount}")
    if attempt_id is not None:
        existing = await promise_of_attempt(session, attempt_id)
        if existing is not None:
            return existing, False
    promise = Promise(
        customer_id=customer_id,
        attempt_id=attempt_id,
        campaign_id=campaign_id,
        agent_id=agent_id,
        amount=amount,
        due_date=due_date,
        created_at=created_at,
    )
    session.add(promise)
    await session.flush()
    return promise, True


# ---------------------------------------------------------------- approval requests


async def add_approval_request(
    session: AsyncSession,
    *,
    attempt_id: str | None,
    customer_id: int,
    campaign_id: int | None,
    agent_id: int,
    requested_pct: Decimal,
    agent_limit_pct: Decimal,
    supervisor_limit_pct: Decimal,
    offer: dict[str, Any],
    created_at: datetime,
    expires_at: datetime,
    status: ApprovalStatus = ApprovalStatus.PENDING,
    reason: str | None = None,
) -> ApprovalRequest:
    request = ApprovalRequest(
        attempt_id=attempt_id,
        customer_id=customer_id,
        campaign_id=campaign_id,
        agent_id=agent_id,
        requested_pct=requested_pct,
        agent_limit_pct=agent_limit_pct,
        supervisor_limit_pct=supervisor_limit_pct,
        offer=offer,
        status=status,
        reason=reason,
        created_at=created_at,
        expires_at=expires_at,
        decided_at=None if status is ApprovalStatus.PENDING else created_at,
    )
    session.add(request)
    await session.flush()
    return request


async def get_approval_request(session: AsyncSession, request_id: int) -> ApprovalRequest:
    found = await session.get(ApprovalRequest, request_id, populate_existing=True)
    if found is None:
        raise NotFound(f"no approval request with id {request_id}")
    return found


async def decide_approval_request(
    session: AsyncSession,
    request_id: int,
    *,
    status: ApprovalStatus,
    decided_by_id: int | None,
    at: datetime,
    reason: str | None = None,
) -> bool:
    """Store the decision if the request is still pending; False when another decision came first."""
    if status is ApprovalStatus.PENDING:
        raise InvalidValue("status: a decision must be approved, refused or expired")
    result = await session.execute(
        update(ApprovalRequest)
        .where(ApprovalRequest.id == request_id, ApprovalRequest.status == ApprovalStatus.PENDING)
        .values(status=status, decided_by_id=decided_by_id, decided_at=at, reason=reason)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def pending_approval_requests(session: AsyncSession) -> list[ApprovalRequest]:
    rows = await session.execute(
        select(ApprovalRequest)
        .where(ApprovalRequest.status == ApprovalStatus.PENDING)
        .order_by(ApprovalRequest.created_at, ApprovalRequest.id)
    )
    return list(rows.scalars())


async def overdue_approval_requests(session: AsyncSession, now: datetime) -> list[int]:
    """Ids of pending requests whose time ran out."""
    rows = await session.execute(
        select(ApprovalRequest.id).where(
            ApprovalRequest.status == ApprovalStatus.PENDING, ApprovalRequest.expires_at <= now
        )
    )
    return [r for (r,) in rows]


# ---------------------------------------------------------------- script runs


async def save_script_run(
    session: AsyncSession, *, attempt_id: str, agent_id: int | None, record: dict[str, Any]
) -> ScriptRunRecord:
    """Store (or replace, as the call goes on) the script run of ``attempt_id`` from ``ScriptRun.to_record()``."""
    for key in ("script_id", "script_version", "steps", "captures"):
        if key not in record:
            raise InvalidValue(f"record: missing {key!r} (expected ScriptRun.to_record() output)")
    confirmed = record.get("identity_confirmed_at")
    finished = record.get("finished_at")
    values: dict[str, Any] = {
        "agent_id": agent_id,
        "script_id": str(record["script_id"]),
        "script_version": int(record["script_version"]),
        "identity_confirmed_at": None if confirmed is None else datetime.fromisoformat(confirmed),
        "outcome": record.get("outcome"),
        "finished_at": None if finished is None else datetime.fromisoformat(finished),
        "steps": list(record["steps"]),
        "captures": dict(record["captures"]),
    }
    existing = (
        await session.execute(select(ScriptRunRecord).where(ScriptRunRecord.attempt_id == attempt_id))
    ).scalar_one_or_none()
    if existing is None:
        existing = ScriptRunRecord(attempt_id=attempt_id, **values)
        session.add(existing)
    else:
        for key, value in values.items():
            setattr(existing, key, value)
    await session.flush()
    return existing


async def script_run_of_attempt(session: AsyncSession, attempt_id: str) -> ScriptRunRecord | None:
    return (
        await session.execute(select(ScriptRunRecord).where(ScriptRunRecord.attempt_id == attempt_id))
    ).scalar_one_or_none()


# ---------------------------------------------------------------- history (screen-pop)


@dataclass(frozen=True, slots=True)
class InstallmentRow:
    number: int
    due_date: date
    amount: Decimal
    paid: bool
    paid_on: date | None


@dataclass(frozen=True, slots=True)
class AgreementRow:
    id: int
    created_at: datetime
    kind: str
    total: Decimal
    discount_amount: Decimal
    status: str
    contracts: tuple[str, ...]
    installments: tuple[InstallmentRow, ...]


@dataclass(frozen=True, slots=True)
class PromiseHistoryRow:
    attempt_id: str | None
    created_at: datetime
    amount: Decimal
    due_date: date
    status: str

    @property
    def kept(self) -> bool | None:
        """True kept, False broken, None still open (the screen-pop's ``PopPromise.kept``)."""
        return {PromiseStatus.KEPT.value: True, PromiseStatus.BROKEN.value: False}.get(self.status)


@dataclass(frozen=True, slots=True)
class PaymentRow:
    paid_on: date
    amount: Decimal


@dataclass(frozen=True, slots=True)
class NegotiationHistory:
    agreements: tuple[AgreementRow, ...]
    promises: tuple[PromiseHistoryRow, ...]
    payments: tuple[PaymentRow, ...]


async def negotiation_history(session: AsyncSession, customer_id: int, *, limit: int = 10) -> NegotiationHistory:
    """The customer's latest agreements (with installments), promises (with status) and payments."""
    agreements = (
        await session.execute(
            select(Agreement)
            .where(Agreement.customer_id == customer_id)
            .options(selectinload(Agreement.installments), selectinload(Agreement.debts))
            .order_by(Agreement.created_at.desc(), Agreement.id.desc())
            .limit(limit)
        )
    ).scalars().all()
    debt_ids = {d.debt_id for a in agreements for d in a.debts}
    contracts: dict[int, str] = {}
    if debt_ids:
        rows = await session.execute(select(Debt.id, Debt.contract).where(Debt.id.in_(debt_ids)))
        contracts = {debt_id: contract for debt_id, contract in rows}
    agreement_rows = tuple(
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
        for a in agreements
    )
    promises = await session.execute(
        select(Promise.attempt_id, Promise.created_at, Promise.amount, Promise.due_date, Promise.status)
        .where(Promise.customer_id == customer_id)
        .order_by(Promise.created_at.desc(), Promise.id.desc())
        .limit(limit)
    )
    payments = await session.execute(
        select(Payment.paid_on, Payment.amount)
        .where(Payment.customer_id == customer_id)
        .order_by(Payment.paid_on.desc(), Payment.id.desc())
        .limit(limit)
    )
    return NegotiationHistory(
        agreements=agreement_rows,
        promises=tuple(
            PromiseHistoryRow(attempt, created, amount, due, PromiseStatus(status).value)
            for attempt, created, amount, due, status in promises
        ),
        payments=tuple(PaymentRow(paid_on, amount) for paid_on, amount in payments),
    )
