"""The régua de cobrança (SPEC §9): rules, decisions, the outbox, channel opt-outs, agency hand-offs
and satisfaction surveys.

``regua_decisions.key`` is the idempotency key of one step for one target and due date: a
decision and the outbox messages it makes are written in one transaction, so a step either
happened (once) or not at all. ``outbox_messages`` is the persisted queue the sender drains:
``sending`` rows carry a lease (``lease_owner``, ``lease_expires_at``) so a sender that dies
mid-send leaves the message to be taken again once the lease expires.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, _str_enum, utcnow


class OutboxStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting for its time (``next_attempt_at``)
    SENDING = "sending"  # a sender holds its lease
    SENT = "sent"
    FAILED = "failed"  # retries exhausted, or refused for good (``last_error`` says why)


class ReguaRule(Base):
    """One step of the régua as supervisors edited it (``definition`` is ``dialer.regua.rules.Rule.as_dict``)."""

    __tablename__ = "regua_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    position: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ReguaDecision(Base):
    """A step taken for one target (``debt:12``, ``installment:7``, ...): at most one per ``key``."""

    __tablename__ = "regua_decisions"
    __table_args__ = (
        Index("ix_regua_decisions_customer_decided", "customer_id", "decided_at"),
        Index("ix_regua_decisions_run_on", "run_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    rule_key: Mapped[str] = mapped_column(String(40))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    target: Mapped[str] = mapped_column(String(40))
    anchor_date: Mapped[date] = mapped_column(Date)
    fire_on: Mapped[date] = mapped_column(Date)
    run_on: Mapped[date] = mapped_column(Date)
    action: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(20))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxMessage(Base):
    """A message to deliver (e-mail, SMS, WhatsApp), with its delivery state and history."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_messages_status_next", "status", "next_attempt_at"),
        Index("ix_outbox_messages_customer", "customer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("regua_decisions.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[OutboxStatus] = mapped_column(_str_enum(OutboxStatus, "status"), default=OutboxStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column()
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChannelOptOut(Base):
    """A customer who asked not to be contacted through ``channel`` (reply keyword or supervisor)."""

    __tablename__ = "channel_opt_outs"
    __table_args__ = (UniqueConstraint("customer_id", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(20))  # "resposta" (the customer replied) | "supervisor"
    detail: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AgencyHandoff(Base):
    """A contract handed to an outside agency; its customer is out of the dialer and the régua's debt steps."""

    __tablename__ = "agency_handoffs"
    __table_args__ = (Index("ix_agency_handoffs_agency_exported", "agency", "exported_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    debt_id: Mapped[int | None] = mapped_column(ForeignKey("debts.id", ondelete="SET NULL"), unique=True)
    agency: Mapped[str] = mapped_column(String(120))
    handed_at: Mapped[datetime] = mapped_column(default=utcnow)
    exported_at: Mapped[datetime | None] = mapped_column()


class SatisfactionSurvey(Base):
    """The one-click 1–5 rating after an agreement; ``nonce`` is in the signed link, ``rating`` is set once."""

    __tablename__ = "satisfaction_surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    nonce: Mapped[str] = mapped_column(String(32), unique=True)
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    rated_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
