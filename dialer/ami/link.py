"""The AMI link state machine: states and events in, the next state and actions out.

Pure (no I/O, no clock of its own, no asyncio): :class:`dialer.ami.gateway.AmiGateway`
feeds it what the sockets and timers report and carries out the actions it returns.

Why a machine of its own: with a proxy or load balancer in front of an Asterisk that is
down, a connection is accepted and closed at once, and "connected", "closed" and "login
timed out" arrive in any order. The old callbacks adopted a connection that had already
closed and waited in ``logging_in`` for ever. Here every connection attempt has a number;
an event about any other attempt is stale and ignored (a stale *connected* is closed so no
socket leaks), and every state but ``up`` and ``stopped`` has exactly one thing pending
that moves it on (a connect with its own timeout, a login timer, a retry timer). So,
whatever order the events come in, the link ends "up" or "reconnecting with backoff"
(property-tested in ``tests/dialer/test_ami_link_properties.py``).

A failure while connecting or logging in does not wait for the socket's "closed": the
machine drops the connection and schedules the retry at once, so a connection that is
already closed (whose abort does nothing) cannot hold it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any


class LinkState(enum.Enum):
    STOPPED = "stopped"
    CONNECTING = "connecting"  # a TCP connect is under way
    LOGGING_IN = "logging_in"  # TCP up, Login sent, its timer running
    UP = "up"  # logged in: actions may be sent
    RECONNECTING = "reconnecting"  # no connection; the next attempt is scheduled (backoff)


@dataclass(frozen=True, slots=True)
class LinkPolicy:
    """Timings the machine decides with (from ``AmiSettings``)."""

    login_timeout_s: float
    reconnect_initial_s: float
    reconnect_max_s: float


# -- events (what happened) ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Start:
    pass


@dataclass(frozen=True, slots=True)
class Stop:
    pass


@dataclass(frozen=True, slots=True)
class Connected:
    """The TCP connect of ``attempt`` succeeded (the socket may have closed since)."""

    attempt: int


@dataclass(frozen=True, slots=True)
class ConnectFailed:
    attempt: int
    reason: str


@dataclass(frozen=True, slots=True)
class Closed:
    """The socket of ``attempt`` closed; may come before :class:`Connected` for it."""

    attempt: int
    reason: str


@dataclass(frozen=True, slots=True)
class LoginAccepted:
    attempt: int


@dataclass(frozen=True, slots=True)
class LoginRefused:
    attempt: int
    reason: str


@dataclass(frozen=True, slots=True)
class LoginTimedOut:
    attempt: int


@dataclass(frozen=True, slots=True)
class PingMissed:
    attempt: int
    reason: str


@dataclass(frozen=True, slots=True)
class RetryDue:
    """The backoff timer scheduled after ``attempt`` failed has run out."""

    attempt: int


LinkEvent = (
    Start
    | Stop
    | Connected
    | ConnectFailed
    | Closed
    | LoginAccepted
    | LoginRefused
    | LoginTimedOut
    | PingMissed
    | RetryDue
)


# -- actions (what the gateway must do) ------------------------------------------------


@dataclass(frozen=True, slots=True)
class OpenConnection:
    """Start a TCP connect for ``attempt``; report Connected/ConnectFailed/Closed with that number."""

    attempt: int


@dataclass(frozen=True, slots=True)
class CancelConnect:
    attempt: int


@dataclass(frozen=True, slots=True)
class SendLogin:
    attempt: int


@dataclass(frozen=True, slots=True)
class StartLoginTimer:
    attempt: int
    delay_s: float


@dataclass(frozen=True, slots=True)
class CancelLoginTimer:
    pass


@dataclass(frozen=True, slots=True)
class DropConnection:
    """Abort the socket of ``attempt`` now if it is still open (nothing to do if closed)."""

    attempt: int
    reason: str


@dataclass(frozen=True, slots=True)
class CloseConnection:
    """Close the socket of ``attempt`` politely (the gateway is stopping)."""

    attempt: int


@dataclass(frozen=True, slots=True)
class ScheduleRetry:
    attempt: int
    delay_s: float


@dataclass(frozen=True, slots=True)
class CancelRetry:
    pass


@dataclass(frozen=True, slots=True)
class FailInflight:
    """Fail every action waiting for a reply: the link was lost, or the gateway stopped."""

    reason: str
    stopped: bool = False


class Notice(enum.Enum):
    """What an operator is told; each outage is reported once (see :func:`step`)."""

    UP = "up"  # INFO
    DOWN = "down"  # WARNING: the link was up and is lost
    CANNOT_CONNECT = "cannot_connect"  # WARNING: first failure without having been up
    RETRY_FAILED = "retry_failed"  # DEBUG: a later failure of the same outage
    REFUSED = "refused"  # ERROR: the login was refused (once per outage)
    STOPPED = "stopped"  # INFO


@dataclass(frozen=True, slots=True)
class Report:
    notice: Notice
    reason: str | None = None
    delay_s: float | None = None  # the retry that follows, for DOWN / CANNOT_CONNECT / RETRY_FAILED
    failed_attempts: int = 0


LinkAction = (
    OpenConnection
    | CancelConnect
    | SendLogin
    | StartLoginTimer
    | CancelLoginTimer
    | DropConnection
    | CloseConnection
    | ScheduleRetry
    | CancelRetry
    | FailInflight
    | Report
)


# -- the state -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Link:
    """Where the link is; ``since`` is the caller's time of the last state change."""

    state: LinkState = LinkState.STOPPED
    attempt: int = 0  # number of the current (or last) connection attempt
    since: float = 0.0
    failed_attempts: int = 0  # attempts failed since the link was last up
    last_error: str | None = None
    backoff_s: float = 0.0  # delay of the next retry
    retry_at: float | None = None  # when the scheduled retry runs (RECONNECTING only)
    was_up: bool = False  # up since the outage was last reported
    outage_reported: bool = False
    refusal_reported: bool = False


Result = tuple[Link, list[LinkAction]]


def step(link: Link, event: LinkEvent, now: float, policy: LinkPolicy) -> Result:  # noqa: PLR0911 - a dispatch
    """The next state and the actions to carry out, in order."""
    if isinstance(event, Start):
        if link.state is not LinkState.STOPPED:
            return link, []
        return _open(replace(link, backoff_s=policy.reconnect_initial_s, failed_attempts=0), now)
    if isinstance(event, Stop):
        return _stop(link, now)
    if isinstance(event, Connected):
        return _on_connected(link, event, now, policy)
    if event.attempt != link.attempt:
        return link, []  # about an attempt the machine has already moved past
    if isinstance(event, Closed):
        return _on_closed(link, event, now, policy)
    handler, wanted = _BY_STATE[type(event)]
    if link.state is not wanted:
        return link, []  # late: the link has moved on (a retry after a stop, a reply after a drop)
    return handler(link, event, now, policy)


def _on_connected(link: Link, event: Connected, now: float, policy: LinkPolicy) -> Result:
    if event.attempt == link.attempt and link.state is LinkState.CONNECTING:
        nxt = _moved(link, LinkState.LOGGING_IN, now)
        return nxt, [SendLogin(link.attempt), StartLoginTimer(link.attempt, policy.login_timeout_s)]
    # A connect that finished after the machine gave up on it (closed first, stopped, or
    # an old attempt): never adopt it, and leave no socket open
    return link, [DropConnection(event.attempt, "stale connection")]


def _on_closed(link: Link, event: Closed, now: float, policy: LinkPolicy) -> Result:
    if link.state is LinkState.CONNECTING:
        # closed before the connect's callback adopted it: the Connected that follows is stale
        return _failed(link, event.reason, now, policy, drop=True)
    if link.state is LinkState.LOGGING_IN:
        return _failed(link, event.reason, now, policy, drop=False)
    if link.state is LinkState.UP:
        return _lost(link, event.reason, now, policy, drop=False)
    return link, []


def _on_retry_due(link: Link, event: RetryDue, now: float, policy: LinkPolicy) -> Result:
    return _open(link, now)


def _on_connect_failed(link: Link, event: ConnectFailed, now: float, policy: LinkPolicy) -> Result:
    return _failed(link, event.reason, now, policy, drop=False)


def _on_login_accepted(link: Link, event: LoginAccepted, now: float, policy: LinkPolicy) -> Result:
    nxt = replace(
        _moved(link, LinkState.UP, now),
        failed_attempts=0,
        last_error=None,
        backoff_s=policy.reconnect_initial_s,
        was_up=True,
        outage_reported=False,
        refusal_reported=False,
    )
    return nxt, [CancelLoginTimer(), Report(Notice.UP, failed_attempts=link.failed_attempts)]


def _on_login_refused(link: Link, event: LoginRefused, now: float, policy: LinkPolicy) -> Result:
    return _failed(link, event.reason, now, policy, drop=True, refused=True)


def _on_login_timed_out(link: Link, event: LoginTimedOut, now: float, policy: LinkPolicy) -> Result:
    # whether or not the socket is still open: the abort may find it closed already
    return _failed(link, f"no reply to Login within {policy.login_timeout_s:g} s", now, policy, drop=True)


def _on_ping_missed(link: Link, event: PingMissed, now: float, policy: LinkPolicy) -> Result:
    return _lost(link, event.reason, now, policy, drop=True)


# The attempt-bound events other than Connected/Closed count only in one state
_BY_STATE: dict[type, tuple[Callable[[Link, Any, float, LinkPolicy], Result], LinkState]] = {
    RetryDue: (_on_retry_due, LinkState.RECONNECTING),
    ConnectFailed: (_on_connect_failed, LinkState.CONNECTING),
    LoginAccepted: (_on_login_accepted, LinkState.LOGGING_IN),
    LoginRefused: (_on_login_refused, LinkState.LOGGING_IN),
    LoginTimedOut: (_on_login_timed_out, LinkState.LOGGING_IN),
    PingMissed: (_on_ping_missed, LinkState.UP),
}


def _moved(link: Link, state: LinkState, now: float) -> Link:
    if state is link.state:
        return link
    return replace(link, state=state, since=now, retry_at=None)


def _open(link: Link, now: float) -> Result:
    attempt = link.attempt + 1
    return replace(_moved(link, LinkState.CONNECTING, now), attempt=attempt), [OpenConnection(attempt)]


def _retry(link: Link, reason: str, now: float, policy: LinkPolicy) -> tuple[Link, ScheduleRetry]:
    """RECONNECTING with the next retry scheduled; the backoff doubles up to the cap."""
    delay = link.backoff_s or policy.reconnect_initial_s
    nxt = replace(
        _moved(link, LinkState.RECONNECTING, now),
        last_error=reason,
        backoff_s=min(delay * 2, policy.reconnect_max_s),
        retry_at=now + delay,
    )
    return nxt, ScheduleRetry(link.attempt, delay)


def _failed(  # noqa: PLR0913 - the two flags name what kind of failure it is
    link: Link, reason: str, now: float, policy: LinkPolicy, *, drop: bool, refused: bool = False
) -> Result:
    """An attempt failed before the link was up: count it, report once per outage, retry."""
    failed = replace(link, failed_attempts=link.failed_attempts + 1)
    nxt, retry = _retry(failed, reason, now, policy)
    actions: list[LinkAction] = [CancelLoginTimer()]
    if drop:
        actions.append(DropConnection(link.attempt, reason))
    # nothing but a Login can be in flight before the link is up; fail it all the same
    actions.append(FailInflight(reason))
    if refused:
        if link.refusal_reported:
            actions.append(Report(Notice.RETRY_FAILED, reason, retry.delay_s, nxt.failed_attempts))
        else:
            # a wrong secret is refused on every retry: say it once per outage, and let
            # it stand for the outage's warning too
            actions.append(Report(Notice.REFUSED, reason, retry.delay_s, nxt.failed_attempts))
            nxt = replace(nxt, refusal_reported=True, outage_reported=True, was_up=False)
    elif link.was_up:
        actions.append(Report(Notice.DOWN, reason, retry.delay_s, nxt.failed_attempts))
        nxt = replace(nxt, was_up=False, outage_reported=True)
    elif not link.outage_reported:
        actions.append(Report(Notice.CANNOT_CONNECT, reason, retry.delay_s, nxt.failed_attempts))
        nxt = replace(nxt, outage_reported=True)
    else:
        actions.append(Report(Notice.RETRY_FAILED, reason, retry.delay_s, nxt.failed_attempts))
    actions.append(retry)
    return nxt, actions


def _lost(link: Link, reason: str, now: float, policy: LinkPolicy, *, drop: bool) -> Result:
    """The link was up and is lost: one DOWN report, retry after the initial backoff."""
    nxt, retry = _retry(replace(link, backoff_s=policy.reconnect_initial_s), reason, now, policy)
    nxt = replace(nxt, was_up=False, outage_reported=True)
    actions: list[LinkAction] = []
    if drop:
        actions.append(DropConnection(link.attempt, reason))
    actions += [FailInflight(reason), Report(Notice.DOWN, reason, retry.delay_s, nxt.failed_attempts), retry]
    return nxt, actions


def _stop(link: Link, now: float) -> Result:
    state = link.state
    if state is LinkState.STOPPED:
        return link, []
    actions: list[LinkAction] = [CancelLoginTimer(), CancelRetry()]
    if state is LinkState.CONNECTING:
        actions.append(CancelConnect(link.attempt))
    if state in (LinkState.LOGGING_IN, LinkState.UP):
        actions.append(CloseConnection(link.attempt))
    actions += [FailInflight("gateway stopped", stopped=True), Report(Notice.STOPPED)]
    nxt = replace(
        _moved(link, LinkState.STOPPED, now),
        was_up=False,
        outage_reported=False,
        refusal_reported=False,
        last_error=link.last_error,
    )
    return nxt, actions
