"""``AmiGateway``: the one door between Cobra and an Asterisk AMI link.

It keeps panoramisk 1.4 (connection handling, ActionID correlation) behind a typed API
and fixes what SPEC §3.1 lists:

- link state comes from our own connect / disconnect / login callbacks, not from
  panoramisk's ``authenticated`` flag (which stays true after a disconnect), run through
  the pure state machine :mod:`dialer.ami.link`, which ends "up" or "reconnecting with
  backoff" whatever order connect, close and login timeout arrive in;
  :attr:`AmiGateway.status` shows it to supervisors and metrics;
- login subscribes to the event classes the dialer reads only;
- reconnects back off exponentially up to a cap; panoramisk's ``Manager`` (whose
  reconnect adopted connections that had already closed) is not used, only its
  protocol and action correlation;
- a ping watchdog checks the replies and, when one is missing, *aborts* the transport
  (a polite ``close()`` would wait on a peer that no longer reads);
- every action waits at most a timeout (:class:`AmiTimeout`);
- nothing is ever re-sent after a reconnect: panoramisk's manager (which queues
  unanswered actions to re-send) is not used, the protocol forgets its pending actions
  when the link is lost, and whatever was in flight fails with :class:`AmiLinkLost`.
  An Originate re-sent by a library could ring a debtor twice; the dialer decides
  re-dials after reconciling with ``CoreShowChannels``;
- events arrive typed (:func:`dialer.ami.events.parse_event`) with the loop time their
  bytes were read, on a bounded queue the gateway owns.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Self

from dialer.ami import events as ev
from dialer.ami import link
from dialer.ami.actions import (
    ActionResult,
    AmiAction,
    ConfbridgeList,
    CoreShowChannels,
    Hangup,
    Login,
    Logoff,
    MixMonitor,
    MixMonitorMute,
    Originate,
    OriginateResult,
    Ping,
    Redirect,
)
from dialer.ami.link import LinkState as LinkState  # noqa: PLC0414 - re-exported: the runtime imports it here
from dialer.ami.protocol import CobraAmiProtocol, WireAction
from dialer.ami.settings import AmiSettings as AmiSettings  # noqa: PLC0414 - re-exported: callers import it here
from dialer.ami.stream import EventsLost as EventsLost  # noqa: PLC0414
from dialer.ami.stream import GatewayItem as GatewayItem  # noqa: PLC0414
from dialer.ami.stream import LinkChanged as LinkChanged  # noqa: PLC0414
from dialer.ami.stream import LinkStatus as LinkStatus  # noqa: PLC0414
from dialer.ami.stream import Received as Received  # noqa: PLC0414
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

class AmiGateway:
    """Typed facade over one AMI link (see the module docstring).

    The link's state has one owner, the pure machine in :mod:`dialer.ami.link`; this
    class feeds it what sockets and timers report (``_feed``) and carries out what it
    answers (``_carry_out``). Nothing here decides a state on its own.
    """

    def __init__(self, settings: AmiSettings) -> None:
        settings.validate()
        self.settings = settings
        self._policy = link.LinkPolicy(
            login_timeout_s=settings.effective_login_timeout_s,
            reconnect_initial_s=settings.reconnect_initial_s,
            reconnect_max_s=settings.reconnect_max_s,
        )
        self._link = link.Link()
        self._announced = LinkState.STOPPED
        self._pending_events: list[link.LinkEvent] = []
        self._feeding = False
        self._stopping = False
        self.up = asyncio.Event()
        self._queue: asyncio.Queue[GatewayItem] = asyncio.Queue(maxsize=settings.queue_size)
        # open sockets by connection attempt, from the protocol factory until they are lost
        self._sockets: dict[int, CobraAmiProtocol] = {}
        self._connects: dict[int, asyncio.Task[tuple[asyncio.BaseTransport, CobraAmiProtocol]]] = {}
        self._protocol: CobraAmiProtocol | None = None  # the adopted one (logging in or up)
        self._inflight: dict[str, WireAction] = {}
        self._inflight_names: dict[str, str] = {}
        self._pending_originates: dict[str, Originate] = {}
        self._listeners: list[Callable[[LinkState, str | None], None]] = []
        self._watchdog: asyncio.Task[None] | None = None
        self._first_login: asyncio.Future[None] | None = None
        self._login_future: asyncio.Future[object] | None = None
        self._login_timer: asyncio.TimerHandle | None = None
        self._retry_timer: asyncio.TimerHandle | None = None
        self._lost_pending = 0
        # Counters for metrics and tests
        self.dropped_events = 0
        self.malformed_events = 0
        self.missed_pings = 0
        self.logins = 0

    # -- state -------------------------------------------------------------------

    @property
    def state(self) -> LinkState:
        return self._link.state

    @property
    def since(self) -> float:
        """Loop time of the last state change."""
        return self._link.since

    @property
    def failed_attempts(self) -> int:
        """Connection attempts failed since the link was last up."""
        return self._link.failed_attempts

    @property
    def last_error(self) -> str | None:
        """Why the last attempt failed or the link went down; None once up again."""
        return self._link.last_error

    @property
    def status(self) -> LinkStatus:
        """The link at a glance (read-only snapshot)."""
        lk = self._link
        return LinkStatus(lk.state, lk.since, lk.failed_attempts, lk.last_error, lk.retry_at, self.logins)

    @property
    def connected(self) -> bool:
        """True while logged in (actions can be sent)."""
        return self._link.state is LinkState.UP

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

    def _announce(self, state: LinkState, reason: str | None = None) -> None:
        """Tell the stream and the listeners about a new state, once per change."""
        if state is self._announced:
            return
        self._announced = state
        if state is LinkState.UP:
            self.up.set()
        else:
            self.up.clear()
        # Every transition at DEBUG; the ones an operator acts on are reported by the
        # machine's Report actions, once per change
        log.debug("AMI %s: %s%s", self._where, state.value, f" ({reason})" if reason else "")
        self._offer(LinkChanged(state, self._now(), reason))
        for listener in list(self._listeners):
            try:
                listener(state, reason)
            except Exception:  # a listener's bug must not break the link
                log.exception("AMI link listener %r failed", listener)

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    # -- the machine -------------------------------------------------------------

    def _feed(self, event: link.LinkEvent) -> None:
        """Run ``event`` through the link machine and carry out its actions.

        Events raised while carrying out actions wait their turn, so each step sees the
        state the previous one left.
        """
        if self._stopping and not isinstance(event, link.Stop | link.Connected):
            return  # stop() is closing the link on purpose: no reconnect, no "down"
        self._pending_events.append(event)
        if self._feeding:
            return
        self._feeding = True
        try:
            while self._pending_events:
                self._step(self._pending_events.pop(0))
        finally:
            self._feeding = False

    def _step(self, event: link.LinkEvent) -> None:
        before = self._link
        after, actions = link.step(before, event, self._now(), self._policy)
        self._link = after
        adopted = after.state in (LinkState.LOGGING_IN, LinkState.UP)
        self._protocol = self._sockets.get(after.attempt) if adopted else None
        if after.state is not before.state:
            reason = after.last_error if after.state is LinkState.RECONNECTING else None
            self._announce(after.state, "stopped" if after.state is LinkState.STOPPED else reason)
        for action in actions:
            self._carry_out(action)
        if self._first_login is not None and not self._first_login.done():
            if after.state is LinkState.UP:
                self._first_login.set_result(None)
            elif isinstance(event, link.LoginRefused) and after is not before:
                self._first_login.set_exception(AmiAuthError(f"AMI {self._where}: {event.reason}"))

    def _carry_out(self, action: link.LinkAction) -> None:
        loop = asyncio.get_running_loop()
        if isinstance(action, link.OpenConnection):
            self._open(action.attempt)
        elif isinstance(action, link.CancelConnect):
            task = self._connects.pop(action.attempt, None)
            if task is not None:
                task.cancel()
        elif isinstance(action, link.SendLogin):
            self._send_login(action.attempt)
        elif isinstance(action, link.StartLoginTimer):
            self._cancel_login_timer()
            self._login_timer = loop.call_later(action.delay_s, self._feed, link.LoginTimedOut(action.attempt))
        elif isinstance(action, link.CancelLoginTimer):
            self._cancel_login_timer()
            if self._login_future is not None and not self._login_future.done():
                self._login_future.cancel()
            self._login_future = None
        elif isinstance(action, link.DropConnection):
            protocol = self._sockets.get(action.attempt)
            log.debug("AMI %s: dropping connection %d: %s", self._where, action.attempt, action.reason)
            if protocol is not None and protocol.transport is not None:
                protocol.transport.abort()  # not close(): a frozen peer would keep it half open
        elif isinstance(action, link.CloseConnection):
            protocol = self._sockets.get(action.attempt)
            if protocol is not None and protocol.transport is not None:
                protocol.transport.close()
        elif isinstance(action, link.ScheduleRetry):
            if self._retry_timer is not None:
                self._retry_timer.cancel()
            self._retry_timer = loop.call_later(action.delay_s, self._feed, link.RetryDue(action.attempt))
        elif isinstance(action, link.CancelRetry):
            if self._retry_timer is not None:
                self._retry_timer.cancel()
                self._retry_timer = None
        elif isinstance(action, link.FailInflight):
            self._fail_inflight(action)
        elif isinstance(action, link.Report):
            self._report(action)

    def _cancel_login_timer(self) -> None:
        if self._login_timer is not None:
            self._login_timer.cancel()
            self._login_timer = None

    def _open(self, attempt: int) -> None:
        """Start the TCP connect of ``attempt``; its outcome comes back as a link event."""

        def factory() -> CobraAmiProtocol:
            on_lost = functools.partial(self._on_socket_lost, attempt)
            protocol = CobraAmiProtocol(sink=self._on_message, on_lost=on_lost)
            self._sockets[attempt] = protocol
            return protocol

        loop = asyncio.get_running_loop()
        create = loop.create_connection(factory, self.settings.host, self.settings.port)
        task = loop.create_task(
            asyncio.wait_for(create, self.settings.connect_timeout_s), name=f"ami-connect-{self._where}-{attempt}"
        )
        self._connects[attempt] = task
        task.add_done_callback(functools.partial(self._on_connect_done, attempt))

    def _on_connect_done(
        self, attempt: int, task: asyncio.Task[tuple[asyncio.BaseTransport, CobraAmiProtocol]]
    ) -> None:
        if self._connects.get(attempt) is task:
            del self._connects[attempt]
        if task.cancelled():
            return
        exc = task.exception()
        if exc is None:
            self._feed(link.Connected(attempt))
            return
        reason = "connect timeout" if isinstance(exc, TimeoutError) else f"connect failed: {exc}"
        self._feed(link.ConnectFailed(attempt, reason))

    def _on_socket_lost(self, attempt: int, exc: BaseException | None) -> None:
        """The protocol's ``on_lost``: may come before the connect's own callback."""
        self._sockets.pop(attempt, None)
        self._feed(link.Closed(attempt, f"connection lost: {exc}" if exc else "connection closed"))

    def _send_login(self, attempt: int) -> None:
        protocol = self._sockets.get(attempt)
        if protocol is None or protocol.closed:
            # lost between the connect and now; its Closed event is queued or done
            self._feed(link.Closed(attempt, "connection closed before Login"))
            return
        login = Login(self.settings.username, self.settings.secret, self.settings.events)
        future: asyncio.Future[object] = protocol.send(WireAction(login.headers()))
        self._login_future = future
        future.add_done_callback(functools.partial(self._on_login_reply, attempt))

    def _on_login_reply(self, attempt: int, fut: asyncio.Future[object]) -> None:
        if fut.cancelled() or fut.exception() is not None:
            return  # the connection went: its Closed (or the login timer) moves the link on
        reply = fut.result()
        response = getattr(reply, "response", "")
        if response == "Success":
            self._feed(link.LoginAccepted(attempt))
            return
        message = getattr(reply, "message", "") or response or "no reason given"
        self._feed(link.LoginRefused(attempt, f"login as {self.settings.username!r} refused: {message}"))

    def _fail_inflight(self, action: link.FailInflight) -> None:
        for action_id, wire in list(self._inflight.items()):
            if wire.future.done():
                continue
            name = self._inflight_names.get(action_id, "action")
            if action.stopped:
                wire.future.set_exception(AmiNotConnected(f"{name} {action_id}: gateway stopped"))
                continue
            channel_id = next((cid for cid, o in self._pending_originates.items() if o.action_id == action_id), None)
            wire.future.set_exception(AmiLinkLost(name, action_id, channel_id))

    def _report(self, report: link.Report) -> None:
        """Say what changed, once per change (the machine decides which notice)."""
        where, reason, delay = self._where, report.reason or "no reason given", report.delay_s
        cap = self.settings.reconnect_max_s
        notice = report.notice
        if notice is link.Notice.UP:
            self.logins += 1
            after = f" after {report.failed_attempts} failed attempt(s)" if report.failed_attempts else ""
            # never the secret: only who we are and what we listen to
            log.info(
                "AMI %s: link up, logged in as %r (events %s)%s",
                where, self.settings.username, ",".join(self.settings.events), after,
            )  # fmt: skip
        elif notice is link.Notice.DOWN:
            log.warning(
                "AMI %s: link down (%s); reconnecting in %g s, backing off up to %g s", where, reason, delay, cap
            )
        elif notice is link.Notice.CANNOT_CONNECT:
            log.warning(
                "AMI %s: cannot connect (%s); retrying in %g s, backing off up to %g s", where, reason, delay, cap
            )
        elif notice is link.Notice.REFUSED:
            log.error("AMI %s: %s", where, reason)
        elif notice is link.Notice.RETRY_FAILED:
            log.debug("AMI %s: attempt %d failed (%s); retrying in %g s", where, report.failed_attempts, reason, delay)
        elif notice is link.Notice.STOPPED:
            log.info("AMI %s: link stopped", where)

    # -- lifecycle ---------------------------------------------------------------

    async def start(self, wait: bool = True, timeout: float | None = None) -> None:
        """Connect and log in.

        With ``wait`` (the default) return once logged in; raise :class:`AmiAuthError`
        if the login is refused, :class:`AmiNotConnected` if the link is not up within
        ``timeout`` (default: connect timeout + login timeout); in both cases the
        gateway is stopped again. Without ``wait``, return at once and keep trying in
        the background.
        """
        if self._link.state is not LinkState.STOPPED or self._stopping:
            raise AmiError(f"AMI {self._where}: gateway already started")
        loop = asyncio.get_running_loop()
        self._first_login = loop.create_future() if wait else None
        self._feed(link.Start())
        self._watchdog = loop.create_task(self._ping_watchdog(), name=f"ami-watchdog-{self._where}")
        self._watchdog.add_done_callback(self._on_watchdog_done)
        if self._first_login is None:
            return
        first_try = self.settings.connect_timeout_s + self.settings.effective_login_timeout_s
        limit = timeout if timeout is not None else first_try
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
        if self._link.state is LinkState.STOPPED or self._stopping:
            return
        # From here a dropped link is expected: no reconnect, no "down" (see _feed)
        self._stopping = True
        try:
            watchdog, self._watchdog = self._watchdog, None
            if watchdog is not None:
                watchdog.cancel()
                await asyncio.wait([watchdog])
            if self._link.state is LinkState.UP:
                try:
                    await self._send(Logoff(), timeout=min(1.0, self.settings.action_timeout_s))
                except AmiError as exc:
                    log.info("AMI %s: logoff: %s", self._where, exc)
            protocol = self._protocol
            for open_socket in self._sockets.values():
                open_socket.sink = None  # LinkChanged(STOPPED) is the stream's last item
            if self._first_login is not None and not self._first_login.done():
                self._first_login.cancel()
            self._feed(link.Stop())
            if protocol is not None and protocol.lost is not None:
                # Let the transport finish closing so no socket outlives the gateway
                try:
                    await asyncio.wait_for(asyncio.shield(protocol.lost), 1.0)
                except TimeoutError:
                    log.warning("AMI %s: transport did not report closing within 1 s", self._where)
        finally:
            self._stopping = False

    def _on_watchdog_done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            # Only a bug gets here; without the watchdog a half-open link would go unnoticed
            log.error("AMI %s: ping watchdog died", self._where, exc_info=task.exception())

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

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
        if self._link.state is not LinkState.UP or protocol is None:
            raise AmiNotConnected(f"{action.name}: AMI link to {self._where} is {self._link.state.value}")
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

    async def mix_monitor_mute(self, action: MixMonitorMute) -> ActionResult:
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
            attempt = self._link.attempt
            if self._link.state is not LinkState.UP or self._protocol is None:
                continue
            try:
                await self.ping(timeout)
            except AmiTimeout:
                self.missed_pings += 1
                self._feed(link.PingMissed(attempt, f"no reply to Ping within {timeout:g} s"))
            except (AmiNotConnected, AmiLinkLost):
                continue  # the link went down on its own; reconnect is already under way
            except AmiError as exc:
                log.warning("AMI %s: ping: %s", self._where, exc)
