"""The creditor's portfolio: customers, phones, debts, tags, holds, DNC and payments (SPEC §4)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, _str_enum, utcnow
from storage.models.vocabulary import (
    DebtStatus,
    DncKind,
    HoldKind,
    PhoneKind,
    PhoneStatus,
)


class Customer(Base):
    """A debtor, keyed by the creditor's ``external_id`` (re-imports update, never duplicate).

    ``cpf`` holds the 11 digits only. Holds: ``deceased`` and ``dispute_pending`` stop
    dialling; ``hold_until`` pauses collection until that instant (``hold_reason`` says why).
    """

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    cpf: Mapped[str] = mapped_column(String(11), index=True)
    birth_date: Mapped[date | None] = mapped_column(Date)
    email: Mapped[str | None] = mapped_column(String(254))
    uf: Mapped[str | None] = mapped_column(String(2))
    score: Mapped[int | None] = mapped_column(Integer)
    deceased: Mapped[bool] = mapped_column(Boolean, default=False)
    dispute_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    hold_until: Mapped[datetime | None] = mapped_column()
    hold_reason: Mapped[str | None] = mapped_column(String(200))
    # Kept by the importer so segments and the hopper filter without summing debts per pick
    oldest_due_date: Mapped[date | None] = mapped_column(Date)
    balance_total: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    call_window: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """When the customer said they may be called (``WeeklyWindow.parse`` mapping), or None."""
    import_fingerprint: Mapped[str | None] = mapped_column(String(32))
    """Hash of the file records this customer was last imported from (None: re-read them next time).
    A re-import skips customers whose records hash the same; code that changes what an import
    compares (debt statuses, the imported fields) must set it to None."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    phones: Mapped[list[Phone]] = relationship(
        back_populates="customer", lazy="raise", cascade="all, delete-orphan", passive_deletes=True
    )
    debts: Mapped[list[Debt]] = relationship(
        back_populates="customer", lazy="raise", cascade="all, delete-orphan", passive_deletes=True
    )
    tags: Mapped[list[CustomerTag]] = relationship(
        back_populates="customer", lazy="raise", cascade="all, delete-orphan", passive_deletes=True
    )


class CustomerTag(Base):
    """A free-form label on a customer (portfolio tags; segments filter on them)."""

    __tablename__ = "customer_tags"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(60), primary_key=True, index=True)

    customer: Mapped[Customer] = relationship(back_populates="tags", lazy="raise")


class Phone(Base):
    """A customer's phone in E.164 (``+5511987654321``); ``ddd`` is the two-digit area code."""

    __tablename__ = "phones"
    __table_args__ = (UniqueConstraint("customer_id", "e164"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    e164: Mapped[str] = mapped_column(String(16), index=True)
    ddd: Mapped[str] = mapped_column(String(2))
    kind: Mapped[PhoneKind] = mapped_column(_str_enum(PhoneKind, "kind"), default=PhoneKind.OWN)
    status: Mapped[PhoneStatus] = mapped_column(_str_enum(PhoneStatus, "status"), default=PhoneStatus.OK)
    last_attempt_at: Mapped[datetime | None] = mapped_column()
    last_result: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="phones", lazy="raise")


class Debt(Base):
    """One contract a customer owes; ``due_date`` is the oldest unpaid due date (aging)."""

    __tablename__ = "debts"
    __table_args__ = (UniqueConstraint("customer_id", "contract"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    contract: Mapped[str] = mapped_column(String(64))
    creditor: Mapped[str] = mapped_column(String(120))
    product: Mapped[str | None] = mapped_column(String(120))
    original_amount: Mapped[Decimal] = mapped_column()
    balance: Mapped[Decimal] = mapped_column()
    due_date: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[DebtStatus] = mapped_column(_str_enum(DebtStatus, "status"), default=DebtStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="debts", lazy="raise")


class CustomerHold(Base):
    """A suspension of collection set by a supervisor or an outcome; active while ``released_at`` is None
    and ``until`` (if any) is in the future."""

    __tablename__ = "customer_holds"
    __table_args__ = (Index("ix_customer_holds_customer_released", "customer_id", "released_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    kind: Mapped[HoldKind] = mapped_column(_str_enum(HoldKind, "kind"))
    reason: Mapped[str] = mapped_column(String(200))
    until: Mapped[datetime | None] = mapped_column()
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    set_at: Mapped[datetime] = mapped_column(default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column()
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class DncEntry(Base):
    """A do-not-call entry by phone (E.164) or CPF (11 digits): permanent, or until (and including) a date."""

    __tablename__ = "dnc_entries"
    __table_args__ = (UniqueConstraint("kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[DncKind] = mapped_column(_str_enum(DncKind, "kind"))
    value: Mapped[str] = mapped_column(String(16))
    until: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(60), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Payment(Base):
    """A payment from the creditor's payment file; ``source_key`` makes re-imports idempotent."""

    __tablename__ = "payments"
    __table_args__ = (Index("ix_payments_customer_paid", "customer_id", "paid_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_key: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    debt_id: Mapped[int | None] = mapped_column(ForeignKey("debts.id", ondelete="SET NULL"))
    amount: Mapped[Decimal] = mapped_column()
    paid_on: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(200), default="")
    applied: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """What the payment settled: ``{"installments": [ids], "promises": [ids]}``."""
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
