"""Quality monitoring: scorecards, reviews of calls and automatic flags (SPEC §8).

The keyset indexes of the call records (``(created_at, id)`` alone and behind campaign and
agent) live here with the feature that reads them: ``GET /api/v1/calls`` orders by
``created_at DESC, id DESC`` and seeks past the cursor, so every first page and every deep
page is one index range read.
"""

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
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow
from storage.models.dialing import CallAttempt

_calls = CallAttempt.__table__
Index("ix_call_attempts_created_id", _calls.c.created_at, _calls.c.id)
Index("ix_call_attempts_campaign_created_id", _calls.c.campaign_id, _calls.c.created_at, _calls.c.id)
Index("ix_call_attempts_agent_created_id", _calls.c.agent_id, _calls.c.created_at, _calls.c.id)
# the amount-range filter walks only the calls that have an amount (about one in ten) in keyset order
# and tests the amount in the index itself
Index(
    "ix_call_attempts_amount_created_id", _calls.c.created_at, _calls.c.id, _calls.c.amount,
    sqlite_where=_calls.c.amount.is_not(None), postgresql_where=_calls.c.amount.is_not(None),
)


class Scorecard(Base):
    """A QA form: ``items`` is a list of ``{"key", "label", "weight", "critical"}``.

    A critical item answered "não" zeroes the whole score (dialer.qa.scorecards).
    """

    __tablename__ = "scorecards"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    items: Mapped[list[Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class CallReview(Base):
    """A reviewer's scoring of one call; ``agent_id`` is the call's agent (their feedback and ranking)."""

    __tablename__ = "call_reviews"
    __table_args__ = (
        Index("ix_call_reviews_attempt", "attempt_id"),
        Index("ix_call_reviews_agent_created", "agent_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[str] = mapped_column(ForeignKey("call_attempts.id", ondelete="CASCADE"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    scorecard_key: Mapped[str] = mapped_column(String(40))
    # item key → true ("sim"), false ("não") or null ("não se aplica"), plus the items as scored
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    score: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    zeroed: Mapped[bool] = mapped_column(Boolean, default=False)
    feedback: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CallFlag(Base):
    """An automatic QA flag on a call (dialer.qa.flags), stored in the dispose transaction."""

    __tablename__ = "call_flags"

    attempt_id: Mapped[str] = mapped_column(ForeignKey("call_attempts.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    detail: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
