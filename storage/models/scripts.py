"""Negotiation scripts: published versions and the run of each call (SPEC §7)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class ScriptRunRecord(Base):
    """The script run of one call (SPEC §7): script id and version, steps with times and captures."""

    __tablename__ = "script_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[str] = mapped_column(ForeignKey("call_attempts.id"), unique=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    script_id: Mapped[str] = mapped_column(String(80))
    script_version: Mapped[int] = mapped_column(Integer)
    identity_confirmed_at: Mapped[datetime | None] = mapped_column()
    outcome: Mapped[str | None] = mapped_column(String(40))
    finished_at: Mapped[datetime | None] = mapped_column()
    steps: Mapped[list[Any]] = mapped_column(JSON)
    captures: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ScriptVersion(Base):
    """One published version of a negotiation script (SPEC §7); rows are only ever inserted."""

    __tablename__ = "script_versions"
    __table_args__ = (UniqueConstraint("script_key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    script_key: Mapped[str] = mapped_column(String(80))
    version: Mapped[int] = mapped_column(Integer)
    yaml_text: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
