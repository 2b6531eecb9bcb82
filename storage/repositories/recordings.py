"""Call recordings: a campaign's ``record`` flag, the muted stretches (gaps) of a recording, and
what the recording endpoint needs to find a call's file.

Gaps are opened when the agent enters a sensitive script step and closed when they leave it
(or when the call ends); :func:`recording_gaps` is what a call record shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import CallAttempt, Campaign, RecordingGap
from storage.repositories import audit


@dataclass(frozen=True, slots=True)
class Gap:
    """A muted stretch, in seconds from the recording's start; ``end_s`` None: muted until the end."""

    start_s: float
    end_s: float | None
    step_id: str | None

    def as_json(self) -> dict[str, float | str | None]:
        return {"start_s": self.start_s, "end_s": self.end_s, "step_id": self.step_id}


@dataclass(frozen=True, slots=True)
class StoredRecording:
    """What the database says about a call's recording (the path is the dialer's, never a request's)."""

    attempt_id: str
    path: str | None
    connected_at: datetime | None


async def open_recording_gap(session: AsyncSession, attempt_id: str, start_s: float, step_id: str | None) -> None:
    """The recording of ``attempt_id`` was muted ``start_s`` seconds in (a sensitive step began)."""
    session.add(RecordingGap(attempt_id=attempt_id, start_s=round(start_s, 3), end_s=None, step_id=step_id))
    await session.flush()


async def close_recording_gap(session: AsyncSession, attempt_id: str, end_s: float) -> None:
    """The recording of ``attempt_id`` was unmuted (or ended) ``end_s`` seconds in: its open gap ends."""
    await session.execute(
        update(RecordingGap)
        .where(RecordingGap.attempt_id == attempt_id, RecordingGap.end_s.is_(None))
        .values(end_s=round(end_s, 3))
    )


async def recording_gaps(session: AsyncSession, attempt_id: str) -> list[Gap]:
    """The muted stretches of a call's recording, in order (what a call record shows next to the player)."""
    rows = await session.execute(
        select(RecordingGap.start_s, RecordingGap.end_s, RecordingGap.step_id)
        .where(RecordingGap.attempt_id == attempt_id)
        .order_by(RecordingGap.start_s, RecordingGap.id)
    )
    return [Gap(float(start), None if end is None else float(end), step) for start, end, step in rows]


async def stored_recording(session: AsyncSession, attempt_id: str) -> StoredRecording | None:
    """The call's recording path as the dialer stored it; None when there is no such call."""
    row = (
        await session.execute(
            select(CallAttempt.id, CallAttempt.recording_path, CallAttempt.connected_at).where(
                CallAttempt.id == attempt_id
            )
        )
    ).first()
    return None if row is None else StoredRecording(row[0], row[1], row[2])


async def set_campaign_recording(
    session: AsyncSession, campaign_id: int, record: bool, *, user_id: int | None, at: datetime, source: str
) -> tuple[bool, bool] | None:
    """Turn recording on or off for a campaign (audited ``campaign.recording``); (before, after) or None."""
    campaign = await session.scalar(
        select(Campaign).where(Campaign.id == campaign_id).with_for_update().execution_options(populate_existing=True)
    )
    if campaign is None:
        return None
    before = bool(campaign.record)
    campaign.record = record
    await audit.record(
        session,
        user_id=user_id,
        action="campaign.recording",
        entity="campaign",
        entity_id=campaign.id,
        before={"record": before},
        after={"record": record, "source": source},
        at=at,
    )
    await session.flush()
    return before, record
