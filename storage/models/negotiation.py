"""Agreements, installments, promises and discount approvals (SPEC §7, §9)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, _str_enum, utcnow
from storage.models.vocabulary import (
    AgreementKind,
    AgreementStatus,
    ApprovalStatus,
    InstallmentStatus,
    PromiseStatus,
)


class Agreement(Base):
    """An ``ACORDO``: the offer the customer accepted, with the calculation that priced it.

    ``calculation`` is the JSON record of the quote (every contract's itemised breakdown,
    the policy bucket, the authority limits and the accepted offer) so the amounts can be
    reproduced later; ``approval_id`` is the supervisor's approval when the discount was
    above the agent's limit. One agreement per call attempt.
    """

    __tablename__ = "agreements"
    __table_args__ = (Index("ix_agreements_customer_created", "customer_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    attempt_id: Mapped[str | None] = mapped_column(ForeignKey("call_attempts.id"), unique=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approval_id: Mapped[int | None] = mapped_column(ForeignKey("approval_requests.id"))
    kind: Mapped[AgreementKind] = mapped_column(_str_enum(AgreementKind, "kind"))
    discount_pct: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    discount_amount: Mapped[Decimal] = mapped_column()
    debt_total: Mapped[Decimal] = mapped_column()
    total: Mapped[Decimal] = mapped_column()
    calculation: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[AgreementStatus] = mapped_column(
        _str_enum(AgreementStatus, "status"), default=AgreementStatus.ACTIVE
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    installments: Mapped[list[AgreementInstallment]] = relationship(
        back_populates="agreement",
        lazy="raise",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="AgreementInstallment.number",
    )
    debts: Mapped[list[AgreementDebt]] = relationship(
        back_populates="agreement", lazy="raise", cascade="all, delete-orphan", passive_deletes=True
    )


class AgreementDebt(Base):
    """Which contracts an agreement settles, with each one's updated amount when it was made."""

    __tablename__ = "agreement_debts"

    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"), primary_key=True)
    debt_id: Mapped[int] = mapped_column(ForeignKey("debts.id", ondelete="CASCADE"), primary_key=True, index=True)
    updated_amount: Mapped[Decimal] = mapped_column()

    agreement: Mapped[Agreement] = relationship(back_populates="debts", lazy="raise")


class AgreementInstallment(Base):
    """One payment of an agreement; number 0 is the down payment ("entrada")."""

    __tablename__ = "agreement_installments"
    __table_args__ = (
        UniqueConstraint("agreement_id", "number"),
        Index("ix_agreement_installments_status_due", "status", "due_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column()
    paid_amount: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    status: Mapped[InstallmentStatus] = mapped_column(
        _str_enum(InstallmentStatus, "status"), default=InstallmentStatus.OPEN
    )
    paid_on: Mapped[date | None] = mapped_column(Date)

    agreement: Mapped[Agreement] = relationship(back_populates="installments", lazy="raise")


class Promise(Base):
    """A ``PROMESSA``: the customer promised ``amount`` by ``due_date``; the payments import settles it."""

    __tablename__ = "promises"
    __table_args__ = (
        Index("ix_promises_customer_created", "customer_id", "created_at"),
        Index("ix_promises_status_due", "status", "due_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    attempt_id: Mapped[str | None] = mapped_column(ForeignKey("call_attempts.id"), unique=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    amount: Mapped[Decimal] = mapped_column()
    due_date: Mapped[date] = mapped_column(Date)
    paid_amount: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    status: Mapped[PromiseStatus] = mapped_column(_str_enum(PromiseStatus, "status"), default=PromiseStatus.PENDING)
    resolved_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApprovalRequest(Base):
    """An agent's request for a discount above their limit (alçada), decided live by a supervisor.

    The limits in force when it was asked are kept with it, and ``offer`` is the priced
    proposal the supervisor saw.
    """

    __tablename__ = "approval_requests"
    __table_args__ = (Index("ix_approval_requests_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[str | None] = mapped_column(ForeignKey("call_attempts.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_pct: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    agent_limit_pct: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    supervisor_limit_pct: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    offer: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[ApprovalStatus] = mapped_column(_str_enum(ApprovalStatus, "status"), default=ApprovalStatus.PENDING)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column()
    reason: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
