"""The outbox: messages written with the decision that made them, claimed by senders under a lease.

Claiming is a compare-and-set ``UPDATE`` per row (``queued`` and due, or ``sending`` with an
expired lease → ``sending`` under this owner's lease), so two senders, or a sender and a
restarted one, never hold the same message; every later change checks the lease owner, so
a sender whose lease was taken over can no longer mark the message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxMessage, OutboxStatus


@dataclass(frozen=True, slots=True)
class ClaimedMessage:
    id: int
    channel: str
    recipient: str
    subject: str
    body: str
    attempts: int  # including this one
    customer_id: int | None


def new_message(
    *,
    channel: str,
    recipient: str,
    subject: str,
    body: str,
    not_before: datetime,
    customer_id: int | None,
    created_at: datetime,
) -> OutboxMessage:
    """A queued message (added by the caller, in the decision's transaction)."""
    return OutboxMessage(
        channel=channel,
        recipient=recipient[:254],
        subject=subject[:200],
        body=body,
        status=OutboxStatus.QUEUED,
        attempts=0,
        next_attempt_at=not_before,
        customer_id=customer_id,
        created_at=created_at,
    )


def _claimable(now: datetime) -> object:
    return or_(
        and_(OutboxMessage.status == OutboxStatus.QUEUED, OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.lease_expires_at < now),
    )


async def claim_due(
    session: AsyncSession, *, now: datetime, owner: str, lease: timedelta, limit: int, channels: Sequence[str]
) -> list[ClaimedMessage]:
    """Take up to ``limit`` due messages of ``channels`` under ``owner``'s lease (commit it before sending)."""
    ids = (
        await session.execute(
            select(OutboxMessage.id)
            .where(_claimable(now), OutboxMessage.channel.in_(list(channels)))  # type: ignore[arg-type]
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
        )
    ).scalars().all()
    claimed: list[ClaimedMessage] = []
    for message_id in ids:
        result = await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, _claimable(now))  # type: ignore[arg-type]
            .values(
                status=OutboxStatus.SENDING,
                lease_owner=owner,
                lease_expires_at=now + lease,
                attempts=OutboxMessage.attempts + 1,
            )
            .returning(
                OutboxMessage.id, OutboxMessage.channel, OutboxMessage.recipient, OutboxMessage.subject,
                OutboxMessage.body, OutboxMessage.attempts, OutboxMessage.customer_id,
            )
        )
        row = result.one_or_none()
        if row is not None:  # another sender took it between the select and here
            claimed.append(ClaimedMessage(*row))
    return claimed


async def renew_lease(session: AsyncSession, message_id: int, owner: str, *, now: datetime, lease: timedelta) -> bool:
    """Extend ``owner``'s lease right before sending; False when it expired and another sender took it."""
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.status == OutboxStatus.SENDING,
            OutboxMessage.lease_owner == owner,
        )
        .values(lease_expires_at=now + lease)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def _finish(session: AsyncSession, message_id: int, owner: str, **values: object) -> bool:
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.status == OutboxStatus.SENDING,
            OutboxMessage.lease_owner == owner,
        )
        .values(lease_owner=None, lease_expires_at=None, **values)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def mark_sent(session: AsyncSession, message_id: int, owner: str, *, at: datetime) -> bool:
    """Delivered; False when this owner no longer holds the lease."""
    return await _finish(session, message_id, owner, status=OutboxStatus.SENT, sent_at=at, last_error=None)


async def mark_retry(session: AsyncSession, message_id: int, owner: str, *, at: datetime, error: str) -> bool:
    """Failed for now: back in the queue, due at ``at``."""
    return await _finish(session, message_id, owner, status=OutboxStatus.QUEUED, next_attempt_at=at, last_error=error[:2000])


async def mark_failed(session: AsyncSession, message_id: int, owner: str, *, error: str) -> bool:
    """Failed for good (retries exhausted or refused)."""
    return await _finish(session, message_id, owner, status=OutboxStatus.FAILED, last_error=error[:2000])


async def requeue_failed(session: AsyncSession, message_id: int, *, now: datetime) -> OutboxMessage | None:
    """A supervisor's retry: a failed message goes back to the queue, due now, with its attempts reset."""
    message = await session.get(OutboxMessage, message_id)
    if message is None or message.status is not OutboxStatus.FAILED:
        return None
    message.status = OutboxStatus.QUEUED
    message.attempts = 0
    message.next_attempt_at = now
    await session.flush()
    return message


async def get_message(session: AsyncSession, message_id: int) -> OutboxMessage | None:
    return await session.get(OutboxMessage, message_id)


async def list_messages(
    session: AsyncSession, *, status: OutboxStatus | None = None, limit: int = 100, channel: str | None = None
) -> list[OutboxMessage]:
    """Newest first."""
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    if channel is not None:
        query = query.where(OutboxMessage.channel == channel)
    return list((await session.execute(query)).scalars())


async def status_counts(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))
    counts = {s.value: 0 for s in OutboxStatus}
    for status, n in rows:
        counts[OutboxStatus(status).value] = int(n)
    return counts


async def next_due_at(session: AsyncSession) -> datetime | None:
    """When the earliest queued message is due (for the sender's sleep)."""
    return (
        await session.execute(
            select(func.min(OutboxMessage.next_attempt_at)).where(OutboxMessage.status == OutboxStatus.QUEUED)
        )
    ).scalar()
