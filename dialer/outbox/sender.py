"""The sender: claim due messages under a lease, deliver them, record delivery or failure.

Each message goes through these transactions: the claim (``queued`` → ``sending`` with this
sender's lease, attempts + 1, a batch at a time), the lease renewed right before its own
delivery (a message whose lease expired while earlier ones were sent is left to the sender
that took it over), the delivery (no transaction open while the network is used), then the result (``sent``, back to ``queued`` at the backoff's time, or ``failed``),
which only lands while this sender still holds the lease. A sender killed at any point
leaves its messages ``sending``; when the lease expires another sender (or the restarted
one) takes them. The one window where a message can go out twice is a crash after the
receiver accepted it and before ``sent`` was committed: the delivery carries the outbox id
(``Message-ID``, ``Idempotency-Key``) so the receiver can drop that duplicate.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialer.clocks import Clock, system_clock
from dialer.outbox.backoff import RetryPolicy
from dialer.outbox.transports import PermanentFailure, TemporaryFailure, Transport
from storage.repositories import outbox
from storage.repositories.outbox import ClaimedMessage

log = logging.getLogger(__name__)


@dataclass
class DrainReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    lost_lease: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {"claimed": self.claimed, "sent": self.sent, "retried": self.retried, "failed": self.failed,
                "lost_lease": self.lost_lease}


class OutboxSender:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        transports: Mapping[str, Transport],
        *,
        clock: Clock = system_clock,
        policy: RetryPolicy | None = None,
        lease: timedelta = timedelta(minutes=2),
        batch: int = 50,
        owner: str | None = None,
    ) -> None:
        self.sessions = sessions
        self.transports = dict(transports)
        self.clock = clock
        self.policy = policy or RetryPolicy()
        self.lease = lease
        self.batch = batch
        self.owner = owner or f"sender-{secrets.token_hex(6)}"
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    async def claim(self) -> list[ClaimedMessage]:
        async with self.sessions.begin() as db:
            return await outbox.claim_due(db, now=self.clock(), owner=self.owner, lease=self.lease, limit=self.batch,
                                          channels=list(self.transports))

    async def deliver(self, message: ClaimedMessage, report: DrainReport) -> None:
        # a batch is claimed at once and sent one by one: a slow server could outlast the lease of the
        # last ones, so each is renewed right before it goes out, and skipped if another sender took it
        async with self.sessions.begin() as db:
            if not await outbox.renew_lease(db, message.id, self.owner, now=self.clock(), lease=self.lease):
                report.lost_lease += 1
                return
        transport = self.transports[message.channel]
        error: str | None = None
        permanent = False
        try:
            await transport.send(message)
        except PermanentFailure as exc:
            error, permanent = str(exc), True
        except TemporaryFailure as exc:
            error = str(exc)
        except Exception as exc:  # a bug in a transport must not stop the queue: the message is retried
            log.exception("outbox %s: unexpected error from the %s transport", message.id, message.channel)
            error = f"erro inesperado: {exc!r}"
        now = self.clock()
        async with self.sessions.begin() as db:
            if error is None:
                ok = await outbox.mark_sent(db, message.id, self.owner, at=now)
                report.sent += int(ok)
            else:
                delay = None if permanent else self.policy.delay_after(message.attempts)
                if delay is None:
                    reason = error if permanent else f"{error} (desistimos após {message.attempts} tentativas)"
                    ok = await outbox.mark_failed(db, message.id, self.owner, error=reason)
                    report.failed += int(ok)
                else:
                    ok = await outbox.mark_retry(db, message.id, self.owner, at=now + delay, error=error)
                    report.retried += int(ok)
                report.errors.append(f"{message.id}: {error}")
            if not ok:
                report.lost_lease += 1
                log.warning("outbox %s: lease lost before the result was stored", message.id)

    async def drain_once(self) -> DrainReport:
        """Deliver every message due now (batch after batch); what fails waits for its backoff."""
        report = DrainReport()
        while True:
            claimed = await self.claim()
            if not claimed:
                return report
            report.claimed += len(claimed)
            for message in claimed:
                await self.deliver(message, report)

    def wake(self) -> None:
        """New messages were queued: look now instead of at the next poll."""
        self._wake.set()

    async def run(self, poll: timedelta = timedelta(seconds=5)) -> None:
        while True:
            try:
                await self.drain_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox sender: drain failed; trying again at the next poll")
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=poll.total_seconds())
            except TimeoutError:
                pass

    def start(self, poll: timedelta = timedelta(seconds=5)) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(poll), name="outbox-sender")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

