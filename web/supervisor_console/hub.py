"""The supervisors' websocket hub: the web side of :class:`~dialer.negotiation.approvals.ApprovalListener`.

Each supervisor has one channel (a numbered :class:`~web.agent.outbox.Outbox`, an ``epoch``
naming this run of the server) and any number of open sockets, each a
:class:`~web.agent.hub.SocketLink` with its own bounded queue. The broker's calls only
number a frame and ``put_nowait`` it: they never wait. A page that reconnects sends the last
``seq`` it saw and gets the missed frames replayed, or a fresh ``approvals`` snapshot.

Server → supervisor frames: ``hello`` and ``floor`` (seq 0, never replayed; see
:mod:`web.supervisor_console.feed`), ``approvals`` (snapshot of
every pending request), ``approval_opened``, ``approval_resolved`` (``{"request": {...}}``,
see ``ApprovalView.as_dict``), ``ack`` and ``error``.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dialer.clocks import Clock, system_clock
from dialer.negotiation.approvals import ApprovalView
from web.agent.hub import Socket, SocketLink
from web.agent.outbox import Frame, Outbox

log = logging.getLogger(__name__)

OUTBOX_CAPACITY = 256
LINK_QUEUE_SIZE = OUTBOX_CAPACITY + 64

PendingSource = Callable[[], list[ApprovalView]]


def _text(frame: Frame) -> str:
    return json.dumps(frame.as_json_obj(), ensure_ascii=False, separators=(",", ":"))


@dataclass
class SupervisorChannel:
    user_id: int
    epoch: str = field(default_factory=lambda: secrets.token_hex(8))
    outbox: Outbox = field(default_factory=lambda: Outbox(OUTBOX_CAPACITY))
    links: set[SocketLink] = field(default_factory=set)


class SupervisorHub:
    """Fans approval requests out to every supervisor's channel; every method only enqueues."""

    def __init__(self, clock: Clock = system_clock) -> None:
        self._channels: dict[int, SupervisorChannel] = {}
        self._clock = clock
        self.dropped_links = 0

    def channel(self, user_id: int) -> SupervisorChannel:
        ch = self._channels.get(user_id)
        if ch is None:
            ch = self._channels[user_id] = SupervisorChannel(user_id)
        return ch

    def link_count(self) -> int:
        return sum(len(ch.links) for ch in self._channels.values())

    def push(self, user_id: int, type_: str, body: Mapping[str, Any]) -> Frame:
        """Number a frame in the supervisor's outbox and send it to each of their sockets."""
        ch = self.channel(user_id)
        frame = ch.outbox.push(type_, body)
        text = _text(frame)
        for link in list(ch.links):
            if not link.offer(text):
                ch.links.discard(link)
                self.dropped_links += 1
                log.warning("supervisor %s: socket cut (%s); the page will reconnect and resume", user_id, link.dead)
        return frame

    def offer_all(self, type_: str, body: Mapping[str, Any]) -> None:
        """An unnumbered frame (seq 0) to every open socket, kept nowhere: a live state such as the
        wallboard's ``floor`` frame, which a reconnecting page gets fresh instead of replayed."""
        text = _text(Frame(0, type_, body))
        for ch in self._channels.values():
            for link in list(ch.links):
                if not link.offer(text):
                    ch.links.discard(link)
                    self.dropped_links += 1
                    log.warning("supervisor %s: socket cut (%s); the page will reconnect", ch.user_id, link.dead)

    def offer(self, link: SocketLink, type_: str, body: Mapping[str, Any]) -> None:
        """An unnumbered frame to one socket (a page's first ``floor`` frame)."""
        link.offer(_text(Frame(0, type_, body)))

    def broadcast(self, type_: str, body: Mapping[str, Any]) -> None:
        for user_id in list(self._channels):
            self.push(user_id, type_, body)

    # ------------------------------------------------------------------ ApprovalListener

    def approval_opened(self, view: ApprovalView) -> None:
        self.broadcast("approval_opened", {"request": view.as_dict()})

    def approval_resolved(self, view: ApprovalView) -> None:
        self.broadcast("approval_resolved", {"request": view.as_dict()})

    # ------------------------------------------------------------------ requests from the page

    def ack(self, user_id: int, ref: str | None, of: str, detail: Mapping[str, Any] | None = None) -> None:
        self.push(user_id, "ack", {"ref": ref, "of": of, "detail": dict(detail or {})})

    def reject(self, user_id: int, code: str, message: str, *, field: str | None = None, ref: str | None = None) -> None:
        self.push(user_id, "error", {"code": code, "message": message, "field": field, "ref": ref})

    # ------------------------------------------------------------------ connections

    def connect(
        self,
        user_id: int,
        socket: Socket,
        *,
        name: str,
        last_seq: int | None,
        epoch: str | None,
        pending: PendingSource,
    ) -> SocketLink:
        """``hello``, then the frames after ``last_seq`` or a snapshot; runs without awaiting."""
        ch = self.channel(user_id)
        link = SocketLink(user_id, socket, LINK_QUEUE_SIZE)
        missed = ch.outbox.since(last_seq) if last_seq is not None and epoch == ch.epoch else None
        hello = {
            "epoch": ch.epoch,
            "user_id": user_id,
            "name": name,
            "resumed": missed is not None,
            "server_time": self._clock().isoformat(),
        }
        link.offer(_text(Frame(0, "hello", hello)))
        for frame in missed or ():
            link.offer(_text(frame))
        ch.links.add(link)
        if missed is None:
            self.snapshot(user_id, pending)
        return link

    def snapshot(self, user_id: int, pending: PendingSource) -> None:
        self.push(user_id, "approvals", {"requests": [v.as_dict() for v in pending()]})

    def disconnect(self, link: SocketLink) -> None:
        ch = self._channels.get(link.user_id)
        if ch is not None:
            ch.links.discard(link)


__all__ = ["SupervisorChannel", "SupervisorHub"]
