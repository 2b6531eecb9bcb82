"""What the gateway's event stream carries, and the link's status (pure values)."""

from __future__ import annotations

from dataclasses import dataclass

from dialer.ami import events as ev
from dialer.ami.link import LinkState


@dataclass(frozen=True, slots=True)
class Received:
    """One typed event and the loop time (``loop.time()``) its bytes were read."""

    event: ev.AmiEvent
    at: float


@dataclass(frozen=True, slots=True)
class LinkChanged:
    """The link changed state; in the stream, in order with the events around it."""

    state: LinkState
    at: float
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class EventsLost:
    """``count`` items were dropped because the queue was full: the consumer's picture
    is incomplete and it should reconcile (``CoreShowChannels``)."""

    count: int
    at: float


GatewayItem = Received | LinkChanged | EventsLost


@dataclass(frozen=True, slots=True)
class LinkStatus:
    """A snapshot of the link for supervisors, ``/readyz`` and metrics.

    ``since`` and ``retry_at`` are loop times (``loop.time()``), the clock of
    :class:`LinkChanged` ``.at``: "down for N s" is ``loop.time() - since``.
    """

    state: LinkState
    since: float
    failed_attempts: int  # attempts failed since the link was last up
    last_error: str | None  # why the last attempt failed or the link went down
    retry_at: float | None  # when the next attempt starts (RECONNECTING only)
    logins: int  # successful logins since the gateway was created

    @property
    def up(self) -> bool:
        return self.state is LinkState.UP
