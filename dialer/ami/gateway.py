"""``AmiGateway``: the one door between Cobra and an Asterisk AMI link.

It keeps panoramisk 1.4 (connection handling, ActionID correlation) behind a typed API
and fixes what SPEC §3.1 lists:

- link state comes from our own connect / disconnect / login callbacks, not from
  panoramisk's ``authenticated`` flag (which stays true after a disconnect);
- login subscribes to the event classes the dialer reads only;
- reconnects back off exponentially up to a cap;
- a ping watchdog checks the replies and, when one is missing, *aborts* the transport
  (``close()`` would stop panoramisk from reconnecting);
- every action waits at most a timeout (:class:`AmiTimeout`);
- nothing is ever re-sent after a reconnect: every action name is in panoramisk's
  ``forgetable_actions``, and whatever was in flight when the link dropped fails with
  :class:`AmiLinkLost`. An Originate re-sent by a library could ring a debtor twice;
  the dialer decides re-dials after reconciling with ``CoreShowChannels``;
- events arrive typed (:func:`dialer.ami.events.parse_event`) with the loop time their
  bytes were read, on a bounded queue the gateway owns.
"""

from __future__ import annotations

import asyncio
import enum
import functools
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from typing import Protocol, Self

from panoramisk.manager import Manager

from dialer.ami import events as ev
from dialer.ami.actions import (
    DEFAULT_EVENT_CLASSES,
    ActionResult,
    AmiAction,
    ConfbridgeList,
    CoreShowChannels,
    Hangup,
    Login,
    Logoff,
    MixMonitor,
    Originate,
    OriginateResult,
    Ping,
    Redirect,
)
from dialer.ami.protocol import CobraAmiProtocol, WireAction
from dialer.ami.wire import Message
from dialer.errors import (
    AmiActionFailed,
    AmiAuthError,
    AmiError,
    AmiLinkLost,
    AmiNotConnected,
    AmiProtocolError,
    AmiTimeout,
    AmiValueError,
)

log = logging.getLogger(__name__)

# Every action we send is "forgetable": panoramisk must never re-send one after a
# reconnect (see the module docstring).
FORGETABLE_ACTIONS: tuple[str, ...] = tuple(
    a.name.lower()
    for a in (Login, Logoff, Ping, Originate, Redirect, Hangup, MixMonitor, CoreShowChannels, ConfbridgeList)
)


class LinkState(enum.Enum):
    STOPPED = "stopped"
    CONNECTING = "connecting"  # no TCP connection: connecting or waiting to reconnect
    LOGGING_IN = "logging_in"  # TCP up, Login sent
    UP = "up"  # logged in: actions may be sent


class _PbxFields(Protocol):
    """The fields of ``web.config.PbxConfig`` the gateway reads (no import of ``web``)."""

    host: str
    port: int
    username: str
    secret: str
    ping_interval_s: float
    action_timeout_s: float


@dataclass(frozen=True, slots=True)
class AmiSettings:
    """How to reach and watch one Asterisk."""

    host: str = "127.0.0.1"
    port: int = 5038
    username: str = "cobra"
    secret: str = field(default="cobra", repr=False)
    ping_interval_s: float = 5.0
    action_timeout_s: float = 10.0
    # Wait this long for a Pong before declaring the link dead; None: the smaller of
    # action_timeout_s and ping_interval_s
    ping_timeout_s: float | None = None
    connect_timeout_s: float = 5.0
    reconnect_initial_s: float = 0.5
    reconnect_max_s: float = 30.0
    events: tuple[str, ...] = DEFAULT_EVENT_CLASSES
    queue_size: int = 10_000

    @classmethod
    def from_pbx(cls, pbx: _PbxFields, **overrides: object) -> AmiSettings:
        """Settings from a ``PbxConfig`` (or anything with its fields)."""
        base = cls(
            host=pbx.host,
            port=pbx.port,
            username=pbx.username,
            secret=pbx.secret,
            ping_interval_s=pbx.ping_interval_s,
            action_timeout_s=pbx.action_timeout_s,
        )
        return replace(base, **overrides)  # type: ignore[arg-type]

    @property
    def effective_ping_timeout_s(self) -> float:
        if self.ping_timeout_s is not None:
            return self.ping_timeout_s
        return min(self.action_timeout_s, self.ping_interval_s)

    def validate(self) -> None:
        """Refuse unusable settings, naming the field."""
        for name in (
            "ping_interval_s",
            "action_timeout_s",
            "connect_timeout_s",
            "reconnect_initial_s",
            "reconnect_max_s",
        ):
            if not getattr(self, name) > 0:
                raise AmiValueError(f"{name}: must be greater than 0")
        if self.ping_timeout_s is not None and not self.ping_timeout_s > 0:
            raise AmiValueError("ping_timeout_s: must be greater than 0")
        if self.reconnect_max_s < self.reconnect_initial_s:
            raise AmiValueError("reconnect_max_s: must not be smaller than reconnect_initial_s")
        if not 0 < self.port <= 65535:
            raise AmiValueError(f"port: {self.port} is not a TCP port")
        if self.queue_size < 2:
            raise AmiValueError("queue_size: must be at least 2")
        Login(self.username, self.secret, self.events).headers()


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


class _Manager(Manager):
    """panoramisk's Manager with our reconnect policy and hooks into the gateway.

    Overridden: ``connect`` (a connect timeout), ``connection_made`` (tell the gateway;
    a failed connect goes through our backoff), ``connection_lost`` (tell the gateway;
    our backoff; no reconnect once stopping) and ``ping`` (disabled: panoramisk never
    checks the reply; the gateway's watchdog does).
    """

    def __init__(self, gateway: AmiGateway, **config: object) -> None:
        super().__init__(**config)
        self._gateway = gateway
        self._reconnect_handle: asyncio.TimerHandle | None = None
        self._connect_task: asyncio.Task[object] | None = None
        self.stopping = False

    def connect(self) -> asyncio.Task[object]:  # type: ignore[override]
        settings = self._gateway.settings
        create = self.loop.create_connection(
            self.config["protocol_factory"], self.config["host"], self.config["port"]
        )
        task = self.loop.create_task(
            asyncio.wait_for(create, settings.connect_timeout_s), name=f"ami-connect-{settings.host}:{settings.port}"
        )
        self._connect_task = task
        task.add_done_callback(self.connection_made)
        return task

    def connection_made(self, f: asyncio.Future[tuple[asyncio.Transport, CobraAmiProtocol]]) -> None:  # type: ignore[override]
        if self._connect_task is f:
            self._connect_task = None
        if f.cancelled():
            return
        exc = f.exception()
        if exc is not None:
            self._gateway._on_connect_failed(exc)
            if not self.stopping:
                self._schedule_reconnect()
            return
        if self.stopping:
            f.result()[0].close()
            return
        super().connection_made(f)
        if self.pinger is not None:
            self.pinger.cancel()
            self.pinger = None
        self._gateway._on_connected(self.protocol)

    def connection_lost(self, exc: BaseException | None) -> None:
        self._connected = False
        if self.pinger is not None:
            self.pinger.cancel()
            self.pinger = None
        self._gateway._on_disconnected(exc)
        if not self.stopping:
            self._schedule_reconnect()

    def ping(self) -> None:
        """Disabled: see the class docstring."""

    def _schedule_reconnect(self) -> None:
        delay = self._gateway._next_reconnect_delay()
        self._reconnect_handle = self.loop.call_later(delay, self._reconnect)

    def _reconnect(self) -> None:
        self._reconnect_handle = None
        if not self.stopping:
            self.connect()

    def stop(self) -> None:
        """Close the link and make sure nothing reconnects it."""
        self.stopping = True
        if self._reconnect_handle is not None:
            self._reconnect_handle.cancel()
            self._reconnect_handle = None
        if self._connect_task is not None:
            self._connect_task.cancel()
            self._connect_task = None
        self.close()


class AmiGateway:
    """Typed facade over one AMI link (see the module docstring)."""

    def __init__(self, settings: AmiSettings) -> None:
        settings.validate()
        self.settings = settings
        self._state = LinkState.STOPPED
        self.up = asyncio.Event()
        self._queue: asyncio.Queue[GatewayItem] = asyncio.Queue(maxsize=settings.queue_size)
        self._manager: _Manager | None = None
        self._protocol: CobraAmiProtocol | None = None
        self._inflight: dict[str, WireAction] = {}
        self._inflight_names: dict[str, str] = {}
        self._pending_originates: dict[str, Originate] = {}
        self._listeners: list[Callable[[LinkState, str | None], None]] = []
        self._watchdog: asyncio.Task[None] | None = None
        self._first_login: asyncio.Future[None] | None = None
        self._login_future: asyncio.Future[object] | None = None
        self._login_timer: asyncio.TimerHandle | None = None
        self._abort_reason: str | None = None
        self._backoff = settings.reconnect_initial_s
        self._lost_pending = 0
        self.last_error: str | None = None
        # Logging once per change, not per retry: was the link up since the last "down"
        # line, has this outage been reported, and how many attempts failed in it
        self._was_up = False
        self._outage_logged = False
        self._refusal_logged = False
        self.failed_attempts = 0
        # Counters for metrics and tests
        self.dropped_events = 0
        self.malformed_events = 0
        self.missed_pings = 0
        self.logins = 0

    # -- state -------------------------------------------------------------------

    @property
    def state(self) -> LinkState:
        return self._state

    @property
    def connected(self) -> bool:
        """True while logged in (actions can be sent)."""
        return self._state is LinkState.UP

    @property
    def pending_originates(self) -> dict[str, Originate]:
        """Originates awaiting their outcome, by the ChannelId we gave them (a copy)."""
        return dict(self._pending_originates)

    def on_link_change(self, listener: Callable[[LinkState, str | None], None]) -> None:
        """Call ``listener(state, reason)`` (a plain function) on every link state change."""
        self._listeners.append(listener)

    async def wait_up(self, timeout: float | None = None) -> None:
        """Wait until the link is up; :class:`AmiTimeout` if not within ``timeout``."""
        try:
            await asyncio.wait_for(self.up.wait(), timeout)
        except TimeoutError:
            raise AmiTimeout(f"AMI {self._where}: not up within {timeout} s ({self.last_error})") from None

    @property
    def _where(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    def _set_state(self, state: LinkState, reason: str | None = None) -> None:
        if state is self._state:
            return
        self._state = state
        if state is LinkState.UP:
            self.up.set()
        else:
            self.up.clear()
        # Every transition at DEBUG; the ones an operator acts on (up, down, stopped) are
        # logged where their cause is known, once per change
        log.debug("AMI %s: %s%s", self._where, state.value, f" ({reason})" if reason else "")
        self._offer(LinkChanged(state, self._now(), reason))
        for listener in list(self._listeners):
            try:
                listener(state, reason)
            except Exception:  # a listener's bug must not break the link
                log.exception("AMI link listener %r failed", listener)

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    # -- lifecycle ---------------------------------------------------------------

    async def start(self, wait: bool = True, timeout: float | None = None) -> None:
        """Connect and log in.

        With ``wait`` (the default) return once logged in; raise :class:`AmiAuthError`
        if the login is refused, :class:`AmiNotConnected` if the link is not up within
        ``timeout`` (default: connect timeout + action timeout); in both cases the
        gateway is stopped again. Without ``wait``, return at once and keep trying in
        the background.
        """
        if self._state is not LinkState.STOPPED:
            raise AmiError(f"AMI {self._where}: gateway already started")
        loop = asyncio.get_running_loop()
        self._manager = _Manager(
            self,
            loop=loop,
            host=self.settings.host,
            port=self.settings.port,
            encoding="utf8",
            protocol_factory=functools.partial(CobraAmiProtocol, sink=self._on_message),
            forgetable_actions=FORGETABLE_ACTIONS,
        )
        self._backoff = self.settings.reconnect_initial_s
        self._first_login = loop.create_future() if wait else None
        self._set_state(LinkState.CONNECTING)
        self._manager.connect()
        self._watchdog = loop.create_task(self._ping_watchdog(), name=f"ami-watchdog-{self._where}")
        self._watchdog.add_done_callback(self._on_watchdog_done)
        if self._first_login is None:
            return
        limit = timeout if timeout is not None else self.settings.connect_timeout_s + self.settings.action_timeout_s
        try:
            await asyncio.wait_for(asyncio.shield(self._first_login), limit)
        except TimeoutError:
            reason = self.last_error
            await self.stop()
            raise AmiNotConnected(f"AMI {self._where}: not up within {limit} s ({reason or 'no reply'})") from None
        except AmiAuthError:
            await self.stop()
            raise
        finally:
            self._first_login = None

    async def stop(self) -> None:
        """Log off, close the link, stop reconnecting; in-flight actions fail with :class:`AmiNotConnected`."""
        manager = self._manager
        if self._state is LinkState.STOPPED or manager is None or manager.stopping:
            return
        # From here a dropped link is expected: no reconnect, no CONNECTING state
        manager.stopping = True
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is not None:
            watchdog.cancel()
            await asyncio.wait([watchdog])
        if self._state is LinkState.UP:
            try:
                await self._send(Logoff(), timeout=min(1.0, self.settings.action_timeout_s))
            except AmiError as exc:
                log.info("AMI %s: logoff: %s", self._where, exc)
        protocol = manager.protocol
        manager.stop()
        if self._first_login is not None and not self._first_login.done():
            self._first_login.cancel()
        self._cancel_login()
        for action_id, action in list(self._inflight.items()):
            if not action.future.done():
                name = self._inflight_names.get(action_id, "action")
                action.future.set_exception(AmiNotConnected(f"{name} {action_id}: gateway stopped"))
        self._protocol = None
        if isinstance(protocol, CobraAmiProtocol) and protocol.lost is not None:
            # Let the transport finish closing so no socket outlives the gateway
            try:
                await asyncio.wait_for(asyncio.shield(protocol.lost), 1.0)
            except TimeoutError:
                log.warning("AMI %s: transport did not report closing within 1 s", self._where)
        self._set_state(LinkState.STOPPED, "stopped")
        log.info("AMI %s: link stopped", self._where)
        self._was_up = False
        self._outage_logged = self._refusal_logged = False
        self._manager = None

    def _on_watchdog_done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            # Only a bug gets here; without the watchdog a half-open link would go unnoticed
            log.error("AMI %s: ping watchdog died", self._where, exc_info=task.exception())
            self.last_error = f"ping watchdog died: {task.exception()!r}"

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # -- callbacks from _Manager (plain functions, run by the loop) --------------

    def _on_connect_failed(self, exc: BaseException) -> None:
        reason = "connect timeout" if isinstance(exc, TimeoutError) else f"connect failed: {exc}"
        self.last_error = reason
        self.failed_attempts += 1

    def _on_connected(self, protocol: CobraAmiProtocol) -> None:
        self._protocol = protocol
        self._set_state(LinkState.LOGGING_IN)
        login = Login(self.settings.username, self.settings.secret, self.settings.events)
        action = WireAction(login.headers())
        self._login_future = protocol.send(action)
        self._login_future.add_done_callback(functools.partial(self._on_login_reply, protocol))
        self._login_timer = asyncio.get_running_loop().call_later(
            self.settings.action_timeout_s, self._on_login_timeout, protocol
        )

    def _on_login_timeout(self, protocol: CobraAmiProtocol) -> None:
        self._login_timer = None
        if protocol is self._protocol and self._state is LinkState.LOGGING_IN:
            self._abort(protocol, f"no reply to Login within {self.settings.action_timeout_s} s")

    def _on_login_reply(self, protocol: CobraAmiProtocol, fut: asyncio.Future[object]) -> None:
        if self._login_timer is not None:
            self._login_timer.cancel()
            self._login_timer = None
        if fut.cancelled() or fut.exception() is not None or protocol is not self._protocol:
            return
        reply = fut.result()
        response = getattr(reply, "response", "")
        if response == "Success":
            self._backoff = self.settings.reconnect_initial_s
            self.logins += 1
            self.last_error = None
            after = f" after {self.failed_attempts} failed attempt(s)" if self.failed_attempts else ""
            # never the secret: only who we are and what we listen to
            log.info(
                "AMI %s: link up, logged in as %r (events %s)%s",
                self._where,
                self.settings.username,
                ",".join(self.settings.events),
                after,
            )
            self._was_up = True
            self._outage_logged = self._refusal_logged = False
            self.failed_attempts = 0
            self._set_state(LinkState.UP)
            if self._first_login is not None and not self._first_login.done():
                self._first_login.set_result(None)
            return
        message = getattr(reply, "message", "") or response or "no reason given"
        error = AmiAuthError(f"AMI {self._where}: login as {self.settings.username!r} refused: {message}")
        self.failed_attempts += 1
        # A wrong secret is refused on every retry: say it once per outage, even after
        # the "link down" line, and let the retries that follow log at DEBUG
        if self._refusal_logged:
            log.debug("%s (attempt %d)", error, self.failed_attempts)
        else:
            self._refusal_logged = self._outage_logged = True
            self._was_up = False
            log.error("%s", error)
        if self._first_login is not None and not self._first_login.done():
            self._first_login.set_exception(error)
        self._abort(protocol, str(error))

    def _on_disconnected(self, exc: BaseException | None) -> None:
        reason = self._abort_reason or (f"connection lost: {exc}" if exc else "connection closed")
        self._abort_reason = None
        self.last_error = reason
        self._protocol = None
        self._cancel_login()
        for action_id, action in list(self._inflight.items()):
            if not action.future.done():
                name = self._inflight_names.get(action_id, "action")
                channel_id = next(
                    (cid for cid, o in self._pending_originates.items() if o.action_id == action_id), None
                )
                action.future.set_exception(AmiLinkLost(name, action_id, channel_id))
        if self._manager is not None and not self._manager.stopping:
            self._set_state(LinkState.CONNECTING, reason)

    def _cancel_login(self) -> None:
        if self._login_timer is not None:
            self._login_timer.cancel()
            self._login_timer = None
        if self._login_future is not None and not self._login_future.done():
            self._login_future.cancel()
        self._login_future = None

    def _next_reconnect_delay(self) -> float:
        delay = self._backoff
        self._backoff = min(self._backoff * 2, self.settings.reconnect_max_s)
        self._log_reconnect(delay)
        return delay

    def _log_reconnect(self, delay: float) -> None:
        """One WARNING when the link goes down (or the first connect fails), DEBUG per later retry."""
        reason = self.last_error or "no reason given"
        if self._was_up:
            self._was_up = False
            self._outage_logged = True
            log.warning(
                "AMI %s: link down (%s); reconnecting in %g s, backing off up to %g s",
                self._where, reason, delay, self.settings.reconnect_max_s,
            )
        elif not self._outage_logged:
            self._outage_logged = True
            log.warning(
                "AMI %s: cannot connect (%s); retrying in %g s, backing off up to %g s",
                self._where, reason, delay, self.settings.reconnect_max_s,
            )
        else:
            log.debug(
                "AMI %s: attempt %d failed (%s); retrying in %g s", self._where, self.failed_attempts, reason, delay
            )

    def _abort(self, protocol: CobraAmiProtocol, reason: str) -> None:
        """Drop the link at once; panoramisk's reconnect logic then runs as for any loss."""
        if protocol.transport is None or protocol.closed:
            return
        self._abort_reason = reason
        # the reason is in the "link down" warning that follows
        log.debug("AMI %s: aborting link: %s", self._where, reason)
        protocol.transport.abort()

    # -- events ------------------------------------------------------------------

    def _on_message(self, msg: Message, at: float) -> None:
        """The protocol's sink: parse at the edge, queue what Cobra reads."""
        try:
            event = ev.parse_event(msg)
        except AmiProtocolError as exc:
            self.malformed_events += 1
            log.warning("AMI %s: malformed event skipped: %s", self._where, exc)
            return
        if event is not None:
            self._offer(Received(event, at))

    def _offer(self, item: GatewayItem) -> None:
        """Queue ``item``; when full, drop it and say so with an ``EventsLost`` once there is room.

        Dropping (rather than blocking the protocol, which would stall reads and the ping
        replies with them) keeps the link alive; the consumer learns of the gap in order.
        """
        queue = self._queue
        if self._lost_pending:
            if queue.maxsize - queue.qsize() >= 2:
                queue.put_nowait(EventsLost(self._lost_pending, item.at))
                self._lost_pending = 0
            else:
                self._count_drop()
                return
        try:
            queue.put_nowait(item)
        except asyncio.QueueFull:
            self._count_drop()

    def _count_drop(self) -> None:
        if not self._lost_pending:
            log.error("AMI %s: event queue full (%d); dropping events", self._where, self._queue.maxsize)
        self._lost_pending += 1
        self.dropped_events += 1

    @property
    def queue(self) -> asyncio.Queue[GatewayItem]:
        """The gateway's bounded queue of :data:`GatewayItem` (consume from one task)."""
        return self._queue

    async def events(self) -> AsyncIterator[GatewayItem]:
        """Items as they come; ends after the ``LinkChanged(STOPPED)`` that ``stop()`` queues."""
        while True:
            item = await self._queue.get()
            yield item
            if isinstance(item, LinkChanged) and item.state is LinkState.STOPPED:
                return

    # -- actions -----------------------------------------------------------------

    async def _send(self, action: AmiAction, timeout: float | None = None) -> list[Message]:
        """Validate, send, wait for the complete reply; the messages in order."""
        headers = action.headers()  # refuses unsafe values before any I/O
        protocol = self._protocol
        if self._state is not LinkState.UP or protocol is None:
            raise AmiNotConnected(f"{action.name}: AMI link to {self._where} is {self._state.value}")
        action_id = action.action_id
        if action_id in self._inflight:
            raise AmiValueError(f"action_id: {action_id!r} is already in flight")
        wire = WireAction(headers)
        self._inflight[action_id] = wire
        self._inflight_names[action_id] = action.name
        limit = self.settings.action_timeout_s if timeout is None else timeout
        try:
            protocol.send(wire)
            reply = await asyncio.wait_for(wire.future, limit)
        except TimeoutError:
            raise AmiTimeout(f"{action.name} {action_id}: no complete reply within {limit:g} s") from None
        finally:
            self._inflight.pop(action_id, None)
            self._inflight_names.pop(action_id, None)
            protocol.responses.pop(action_id, None)
        replies = reply if isinstance(reply, list) else [reply]
        return [r.wire for r in replies]

    async def _send_checked(self, action: AmiAction, timeout: float | None = None) -> ActionResult:
        result = ActionResult.from_messages(action.action_id, await self._send(action, timeout))
        if not result.ok:
            raise AmiActionFailed(action.name, result.message or result.response)
        return result

    async def originate(self, action: Originate) -> OriginateResult:
        """Place a call; the result once Asterisk knows the outcome (answered, busy...).

        Without a ``channel_id`` one is chosen (``<action_id>-c``) so every event of the
        call can be matched by Uniqueid. The wait is the action timeout plus the ring
        timeout, since Asterisk answers only when the call is answered or has failed.
        """
        if action.channel_id is None:
            action = replace(action, channel_id=f"{action.action_id}-c")
        assert action.channel_id is not None
        if action.channel_id in self._pending_originates:
            raise AmiValueError(f"channel_id: {action.channel_id!r} is already in flight")
        timeout = self.settings.action_timeout_s + action.timeout_ms / 1000
        action.headers()  # validate before registering anything
        self._pending_originates[action.channel_id] = action
        try:
            messages = await self._send(action, timeout)
        finally:
            self._pending_originates.pop(action.channel_id, None)
        return OriginateResult.from_messages(action, messages)

    async def redirect(self, action: Redirect) -> ActionResult:
        return await self._send_checked(action)

    async def hangup(self, action: Hangup) -> ActionResult:
        return await self._send_checked(action)

    async def mix_monitor(self, action: MixMonitor) -> ActionResult:
        return await self._send_checked(action)

    async def core_show_channels(self) -> list[ev.CoreShowChannel]:
        """Every channel Asterisk has now (to reconcile after a reconnect)."""
        result = await self._send_checked(CoreShowChannels())
        return [e for e in (ev.parse_event(m) for m in result.events) if isinstance(e, ev.CoreShowChannel)]

    async def confbridge_list(self, conference: str) -> list[ev.ConfbridgeList]:
        """The members of ``conference``; empty when it does not exist."""
        action = ConfbridgeList(conference)
        result = ActionResult.from_messages(action.action_id, await self._send(action))
        if not result.ok:
            # Asterisk answers an error, not an empty list, for a conference nobody is in
            # (app_confbridge: "No active conferences." / "No Conference by that name found.")
            text = result.message.lower()
            if "no active conferences" in text or "no conference by that name" in text:
                return []
            raise AmiActionFailed(action.name, result.message or result.response)
        return [e for e in (ev.parse_event(m) for m in result.events) if isinstance(e, ev.ConfbridgeList)]

    async def ping(self, timeout: float | None = None) -> float:
        """Round-trip time of one Ping, in seconds."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        await self._send_checked(Ping(), timeout)
        return loop.time() - started

    async def _ping_watchdog(self) -> None:
        """Ping every ``ping_interval_s``; abort the link when a Pong is late."""
        interval = self.settings.ping_interval_s
        timeout = self.settings.effective_ping_timeout_s
        while True:
            await self.up.wait()
            await asyncio.sleep(interval)
            protocol = self._protocol
            if self._state is not LinkState.UP or protocol is None:
                continue
            try:
                await self.ping(timeout)
            except AmiTimeout:
                self.missed_pings += 1
                self._abort(protocol, f"no reply to Ping within {timeout:g} s")
            except (AmiNotConnected, AmiLinkLost):
                continue  # the link went down on its own; reconnect is already under way
            except AmiError as exc:
                log.warning("AMI %s: ping: %s", self._where, exc)
