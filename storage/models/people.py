"""Users, their web sessions, agent state history and the audit log (SPEC §8, §11)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Numeric,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, _str_enum, utcnow
from storage.models.vocabulary import AgentState, Role


class User(Base):
    """Someone who logs in: agent, supervisor, QA reviewer or admin.

    Agents need an ``extension`` (their conference, SPEC §3) and an ``endpoint`` (the phone
    dial string Cobra originates to, e.g. ``PJSIP/7001``). ``discount_limit_pct`` is the
    authority level (alçada): the largest discount, in percent, this user may grant.
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(_str_enum(Role, "role"))
    full_name: Mapped[str] = mapped_column(String(120))
    extension: Mapped[str | None] = mapped_column(String(20), unique=True)
    endpoint: Mapped[str | None] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    discount_limit_pct: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebSession(Base):
    """A logged-in browser (SPEC §11); kept in the database so several processes share it.

    The cookie carries a random token; only its SHA-256 (``token_hash``) is stored, so a
    copy of this table does not let anyone log in. ``csrf_token`` is the per-session token
    forms and ``X-CSRF-Token`` headers must echo.
    """

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(255))


class AgentStateChange(Base):
    """One agent state transition, stored with its time (SPEC §6); ``reason`` is the pause code."""

    __tablename__ = "agent_state_changes"
    __table_args__ = (Index("ix_agent_state_changes_user_at", "user_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    from_state: Mapped[AgentState] = mapped_column(_str_enum(AgentState, "from_state"))
    to_state: Mapped[AgentState] = mapped_column(_str_enum(AgentState, "to_state"))
    reason: Mapped[str | None] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditLog(Base):
    """Who changed what, with the values before and after (SPEC §8, §11); user is None for the system."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(60))
    entity: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
