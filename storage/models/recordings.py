"""Call recordings: the stretches of a recording that were muted (SPEC §3, §8).

The recording's path lives on ``call_attempts.recording_path``; a campaign records when
``campaigns.record`` is set. A gap is a muted stretch (the agent was on a sensitive script
step, e.g. card data), in seconds from the start of the recording.
"""

from __future__ import annotations

from sqlalchemy import Double, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class RecordingGap(Base):
    """One muted stretch of a call's recording; ``end_s`` is NULL while it is still muted."""

    __tablename__ = "recording_gaps"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[str] = mapped_column(ForeignKey("call_attempts.id", ondelete="CASCADE"), index=True)
    start_s: Mapped[float] = mapped_column(Double)
    end_s: Mapped[float | None] = mapped_column(Double)
    step_id: Mapped[str | None] = mapped_column(String(80))  # the sensitive step that muted it
