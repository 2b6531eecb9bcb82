"""The agents' websocket hub: the web side of :class:`~dialer.agents.desktop.AgentNotifier`.

Each agent has one :class:`AgentChannel` (numbered :class:`~web.agent.outbox.Outbox`, an
``epoch`` naming this run of the server, the last state and pop) and any number of open
sockets, each a :class:`SocketLink` with its own bounded queue. The dialer's calls only
number a frame, serialise it once and ``put_nowait`` it on each link: they never wait.
A link whose queue is full (a browser that stopped reading) is cut; its page reconnects
with the last ``seq`` it saw and gets the rest replayed (SPEC §6, §13).

Frames of ``seq`` 0 (``hello``) are session control: sent first on every connection, never
kept for replay.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from dialer.agents.desktop import CallPhase, ScreenPop
from dialer.agents.state import AgentState, AgentStatus
from dialer.clocks import Clock, system_clock
from web.agent.messages import (
    AckFrame,
    CallEndedFrame,
    CallStateFrame,
    ErrorFrame,
    HelloFrame,
)
from web.agent.outbox import Frame, Outbox
from web.agent.views import (
    PHASE_LABEL,
    RESULT_LABEL,
    agent_state_frame,
    screen_pop_frame,
)

log = logging.getLogger(__name__)

OUTBOX_CAPACITY = 256
# Room for a full replay plus what arrives while it is being written
LINK_QUEUE_SIZE = OUTBOX_CAPACITY + 64
SEND_TIMEOUT_S = 5.0
CLOSE_TIMEOUT_S = 2.0
CLOSE_SLOW = 4000
IDLE_STATES = frozenset({AgentState.OFFLINE, AgentState.CONNECTING, AgentState.READY, AgentState.PAUSED})  # websocket close code (application range): too slow, reconnect and resume


class PushedBody(Protocol):
    """A server-to-client body the hub numbers and sends: a frame ``type`` and its JSON body."""

    @property
    def type(self) -> str: ...

    def body(self) -> dict[str, Any]: ...


class Socket(Protocol):
    """What the hub needs of a websocket (aiohttp's ``WebSocketResponse`` fits)."""

    async def send_str(self, data: str) -> None: ...

    async def close(self, *, code: int = ..., message: bytes = ...) -> bool: ...


def _text(frame: Frame) -> str:
    if frame.text is not None:
        return frame.text
    return json.dumps(frame.as_json_obj(), ensure_ascii=False, separators=(",", ":"))


class SocketLink:
    """One open socket's outbound side: a bounded queue drained by :meth:`run` (the handler owns that task)."""

    def __init__(self, user_id: int, socket: Socket, queue_size: int = LINK_QUEUE_SIZE) -> None:
        self.user_id = user_id
        self.socket = socket
        self._queue: asyncio.Queue[str | None] = asyncio.Queue(queue_size)
        self.dead: str | None = None  # why the hub cut it
        self.close_code = CLOSE_SLOW  # what the close frame says: reconnect (slow) or not (revoked session)

    def offer(self, text: str) -> bool:
        """Queue ``text``; False (and the link is cut) when the queue is full."""
        if self.dead is not None:
            return False
        try:
            self._queue.put_nowait(text)
            return True
        except asyncio.QueueFull:
            self.cut("fila de envio cheia")
            return False

    def cut(self, reason: str, code: int = CLOSE_SLOW) -> None:
        """Stop sending: drop what is queued and let :meth:`run` close the socket with ``code``."""
        if self.dead is not None:
            return
        self.dead = reason
        self.close_code = code
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(None)

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    async def run(self) -> None:
        """Send queued frames in order until cut; a send that stalls past ``SEND_TIMEOUT_S`` cuts the link."""
        while True:
            text = await self._queue.get()
            if text is None:
                break
            try:
                # asyncio.timeout, not wait_for: no extra task (and loop turn) per frame
                async with asyncio.timeout(SEND_TIMEOUT_S):
                    await self.socket.send_str(text)
            except TimeoutError:
                self.dead = self.dead or "envio parado"
                break
            except (ConnectionError, RuntimeError):
                self.dead = self.dead or "conexão fechada"
                return
        try:
            await asyncio.wait_for(
                self.socket.close(code=self.close_code, message=(self.dead or "").encode()[:123]), CLOSE_TIMEOUT_S
            )
        except (TimeoutError, ConnectionError, RuntimeError):
            pass


@dataclass
class AgentChannel:
    """Everything the hub keeps for one agent across their sockets."""

    user_id: int
    since: datetime  # when the status began (the hub's clock at creation: no status seen yet)
    epoch: str = field(default_factory=lambda: secrets.token_hex(8))
    outbox: Outbox = field(default_factory=lambda: Outbox(OUTBOX_CAPACITY))
    links: set[SocketLink] = field(default_factory=set)
    status: AgentStatus = field(default_factory=AgentStatus)
    pop: ScreenPop | None = None
    phase: tuple[str, CallPhase, datetime] | None = None
    name: str = ""


# Where a snapshot gets the dialer's view of an agent (the runtime, or nothing when it is down)
StatusSource = Callable[[int], AgentStatus]
PopSource = Callable[[int], ScreenPop | None]
ConfirmedSource = Callable[[int, str], datetime | None]  # (agent, call) → identity confirmed at


class AgentHub:
    """Implements ``AgentNotifier``: every method numbers, serialises and enqueues; none waits."""

    def __init__(self, clock: Clock = system_clock) -> None:
        self._channels: dict[int, AgentChannel] = {}
        self._clock = clock
        self.dropped_links = 0
        # Called with (user_id, frame) after a frame is numbered; the benchmark hooks in here
        self.on_frame: Callable[[int, Frame], None] | None = None
        # Called with (user_id, agent name, pop) after a pop is sent (the desk starts the call's script)
        self.on_pop: Callable[[int, str, ScreenPop], None] | None = None
        # Called with the seconds from a new call's pop being made to its frame being queued, on
        # the hub's clock (the ops metrics hook in: pops sent and the pop-latency histogram)
        self.on_pop_sent: Callable[[float], None] | None = None

    def channel(self, user_id: int) -> AgentChannel:
        ch = self._channels.get(user_id)
        if ch is None:
            ch = self._channels[user_id] = AgentChannel(user_id, since=self._clock())
        return ch

    def link_count(self, user_id: int | None = None) -> int:
        if user_id is not None:
            ch = self._channels.get(user_id)
            return 0 if ch is None else len(ch.links)
        return sum(len(ch.links) for ch in self._channels.values())

    # ------------------------------------------------------------------ sending

    def push(self, user_id: int, body: PushedBody) -> Frame:
        """Number ``body`` in the agent's outbox and send it to every open socket of theirs."""
        ch = self.channel(user_id)
        data = body.body()
        frame = ch.outbox.push_encoded(str(body.type), data, _text)
        text = _text(frame)
        for link in list(ch.links):
            if not link.offer(text):
                ch.links.discard(link)
                self.dropped_links += 1
                log.warning(
                    "agent %s: socket cut (%s); the page will reconnect and resume", user_id, link.dead,
                    extra={"agent_id": user_id},
                )
        if self.on_frame is not None:
            self.on_frame(user_id, frame)
        return frame

    # ------------------------------------------------------------------ AgentNotifier

    def agent_state(self, user_id: int, status: AgentStatus, at: datetime) -> None:
        ch = self.channel(user_id)
        ch.status, ch.since = status, at
        if status.state in IDLE_STATES:
            ch.pop, ch.phase = None, None  # back to no call: the page clears the pop too
        self.push(user_id, agent_state_frame(status, at))

    def screen_pop(self, user_id: int, pop: ScreenPop) -> None:
        ch = self.channel(user_id)
        ch.pop = pop
        # a new call: nobody has confirmed who answered it yet
        self.push(user_id, screen_pop_frame(pop, self._clock(), None))
        if self.on_pop_sent is not None:
            self.on_pop_sent((self._clock() - pop.created_at).total_seconds())
        self._popped(ch, pop)

    def _popped(self, ch: AgentChannel, pop: ScreenPop) -> None:
        if self.on_pop is not None:
            try:
                self.on_pop(ch.user_id, ch.name, pop)
            except Exception:  # the pop itself is out; a script problem must not stop the dialer
                log.exception(
                    "agent %s: starting the script of call %s failed", ch.user_id, pop.call_id,
                    extra={"agent_id": ch.user_id, "call_id": pop.call_id},
                )

    def call_state(self, user_id: int, call_id: str, phase: CallPhase, at: datetime) -> None:
        self.channel(user_id).phase = (call_id, phase, at)
        self.push(user_id, CallStateFrame(call_id=call_id, phase=phase.value, label=PHASE_LABEL[phase], at=at))

    def call_ended(self, user_id: int, call_id: str, result: str, cause: int | None, at: datetime) -> None:
        self.channel(user_id).phase = (call_id, CallPhase.ENDED, at)
        label = RESULT_LABEL.get(result, result)
        self.push(user_id, CallEndedFrame(call_id=call_id, result=result, label=label, cause=cause, at=at))

    def error(self, user_id: int, code: str, message: str) -> None:
        self.push(user_id, ErrorFrame(code=code, message=message))

    # ------------------------------------------------------------------ requests from the page

    def show_identity_confirmed(self, user_id: int, pop: ScreenPop, at: datetime) -> None:
        """The identity for ``pop`` was confirmed at ``at`` (the call session's time): send the full pop."""
        self.push(user_id, screen_pop_frame(pop, self._clock(), at))

    def ack(self, user_id: int, ref: str | None, of: str, detail: dict[str, Any] | None = None) -> None:
        self.push(user_id, AckFrame(ref=ref, of=of, detail=detail or {}))

    def reject(self, user_id: int, code: str, message: str, *, field: str | None = None, ref: str | None = None) -> None:
        self.push(user_id, ErrorFrame(code=code, message=message, field=field, ref=ref))

    # ------------------------------------------------------------------ connections

    def connect(
        self,
        user_id: int,
        socket: Socket,
        *,
        name: str,
        extension: str | None,
        last_seq: int | None,
        epoch: str | None,
        status_of: StatusSource | None,
        pop_of: PopSource | None,
        confirmed_of: ConfirmedSource | None = None,
    ) -> SocketLink:
        """Open a link: ``hello``, then either the frames after ``last_seq`` or a fresh snapshot.

        Runs without awaiting, so no frame can slip between the replay and the live stream.
        """
        ch = self.channel(user_id)
        ch.name = name
        link = SocketLink(user_id, socket)
        missed = ch.outbox.since(last_seq) if last_seq is not None and epoch == ch.epoch else None
        hello = HelloFrame(
            epoch=ch.epoch,
            user_id=user_id,
            name=name,
            extension=extension,
            resumed=missed is not None,
            server_time=self._clock(),
        )
        link.offer(_text(Frame(0, "hello", hello.body())))
        for frame in missed or ():
            link.offer(_text(frame))
        ch.links.add(link)
        if missed is None:
            self.snapshot(user_id, status_of, pop_of, confirmed_of)
        return link

    def snapshot(
        self,
        user_id: int,
        status_of: StatusSource | None,
        pop_of: PopSource | None,
        confirmed_of: ConfirmedSource | None = None,
    ) -> None:
        """Where the agent stands now: state, and the pop and call phase if on a call."""
        ch = self.channel(user_id)
        status = status_of(user_id) if status_of is not None else ch.status
        since = ch.since if status == ch.status else self._clock()
        ch.status, ch.since = status, since
        self.push(user_id, agent_state_frame(status, since))
        pop = pop_of(user_id) if pop_of is not None else ch.pop
        if pop is None:
            return
        ch.pop = pop
        confirmed = confirmed_of(user_id, pop.call_id) if confirmed_of is not None else None
        self.push(user_id, screen_pop_frame(pop, self._clock(), confirmed))
        self._popped(ch, pop)
        if ch.phase is not None and ch.phase[0] == pop.call_id:
            call_id, phase, at = ch.phase
            self.push(user_id, CallStateFrame(call_id=call_id, phase=phase.value, label=PHASE_LABEL[phase], at=at))

    def disconnect(self, link: SocketLink) -> None:
        ch = self._channels.get(link.user_id)
        if ch is not None:
            ch.links.discard(link)
