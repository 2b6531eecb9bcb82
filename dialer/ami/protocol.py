"""panoramisk's AMI protocol with the two fixes Cobra needs (SPEC §3.1).

1. Bytes are decoded by :class:`dialer.ami.wire.MessageParser`, whose incremental UTF-8
   decoder keeps a character split across two TCP reads ("José") whole; panoramisk
   decodes each read on its own with errors ignored and drops it.
2. Every event goes to ``sink`` *before* panoramisk correlates it with a pending action,
   so an ``OriginateResponse`` (or a list event) whose ActionID is still pending reaches
   the gateway's stream too, in wire order. panoramisk's own event dispatch (and with it
   its fire-and-forget coroutine callbacks) is not used.

3. A lost connection is always reported, once, to ``on_lost``, even when it closes
   before anyone adopted it (a proxy that accepts and closes at once): panoramisk
   only marks it closed then, and the link waited for a Login reply for ever.
   panoramisk's manager is not used; nothing is queued for re-sending.

Replies to actions still go through panoramisk's correlation (``Action.add_message``
by ActionID), so ``send`` returns panoramisk's future as usual.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Any

from panoramisk.actions import Action
from panoramisk.ami_protocol import AMIProtocol
from panoramisk.message import Message as PanoramiskMessage

from dialer.ami.wire import Message, MessageParser, encode_message

log = logging.getLogger(__name__)

# Called with each event message and the loop time its bytes were read
EventSink = Callable[[Message, float], None]
# Called once when the connection is gone, whoever closed it
LostCallback = Callable[[BaseException | None], None]


class WireAction(Action):
    """A panoramisk action serialised from already validated headers, in their order.

    panoramisk sorts headers alphabetically and writes values unchecked; we keep
    ``Action``/``ActionID`` first (as Asterisk's own examples do) and send exactly the
    pairs :mod:`dialer.ami.actions` produced.
    """

    def __init__(self, headers: Iterable[tuple[str, str]], as_list: bool | None = None) -> None:
        pairs = tuple(headers)
        grouped: dict[str, Any] = {}
        for key, value in pairs:
            if key in grouped:
                previous = grouped[key]
                grouped[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
            else:
                grouped[key] = value
        super().__init__(grouped, as_list=as_list)
        self.wire_headers = pairs

    def __str__(self) -> str:
        return encode_message(self.wire_headers).decode("utf-8")


def to_panoramisk(msg: Message) -> PanoramiskMessage:
    """The panoramisk view of a wire message (repeated keys become lists), with ``.wire`` kept."""
    headers: dict[str, Any] = {}
    content: list[str] = []
    for key, value in msg.headers:
        if key == "":
            content.append(value)
        elif key in headers:
            previous = headers[key]
            headers[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            headers[key] = value
    out = PanoramiskMessage(headers, "\n".join(content))
    out.wire = msg
    return out


class CobraAmiProtocol(AMIProtocol):
    """``AMIProtocol`` with incremental decoding and an event sink (see module doc)."""

    closed: bool  # set by panoramisk's connection_made
    version: str | None  # set by panoramisk; filled here from the banner

    def __init__(self, sink: EventSink | None = None, on_lost: LostCallback | None = None) -> None:
        super().__init__()
        self.sink = sink
        self.on_lost = on_lost
        self._parser = MessageParser(expect_banner=True)
        self.lost: asyncio.Future[None] | None = None
        self._lost_told = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.log = log
        # panoramisk's send encodes with this (its default is ASCII: "José" would not go out)
        self.encoding = "utf8"
        self._parser = MessageParser(expect_banner=True)
        self.lost = asyncio.get_running_loop().create_future()

    def send(self, data: Any, as_list: bool | None = None) -> asyncio.Future[Any]:
        """panoramisk's send, but ``as_list`` defaults to None (detect the reply's shape).

        ``AMIProtocol.send`` defaults to False, which forces a single-message reply and
        resolves an async Originate with "successfully queued" instead of its outcome.
        """
        return super().send(data, as_list=as_list)

    def data_received(self, data: bytes) -> None:
        at = asyncio.get_running_loop().time()
        for msg in self._parser.feed(data):
            self.handle_wire_message(msg, at)
        if self.version is None and self._parser.banner is not None:
            self.version = self._parser.banner.partition("/")[2].strip()

    def handle_wire_message(self, msg: Message, at: float) -> None:
        """Give an event to the sink, then let panoramisk correlate it with its action."""
        if msg.event is not None and self.sink is not None:
            self.sink(msg, at)
        event = msg.event
        if event is None and msg.response is None:
            return  # neither reply nor event (panoramisk drops these too)
        if event is not None and not self._awaited(msg) and event.lower() != "shutdown":
            return  # no action waits for it: the panoramisk view (a dict per event) is not built
        self.handle_message(to_panoramisk(msg))

    def _awaited(self, msg: Message) -> bool:
        """Whether a pending action's reply collects ``msg`` (panoramisk keys them by ActionID or CommandID)."""
        action_id = msg.action_id
        if action_id is not None and action_id in self.responses:
            return True
        command_id = msg.get("CommandID")
        return command_id is not None and command_id in self.responses

    def handle_message(self, message: PanoramiskMessage) -> None:
        """panoramisk's correlation, without its event dispatch (the sink already has the event)."""
        response = self.responses.get(message.id)
        if response is None and message.action_id:
            response = self.responses.get(message.action_id)
        if response is not None:
            if response.add_message(message):
                self.responses.pop(response.id, None)
                if response.action_id:
                    self.responses.pop(response.action_id, None)
        elif message.get("event", "").lower() == "shutdown":
            # Asterisk is going away: treat the link as lost now so reconnecting starts
            self.connection_lost(ConnectionError("Asterisk sent Shutdown"))

    def connection_lost(self, exc: BaseException | None) -> None:
        """Report the loss once, whoever noticed it first (the socket, or a ``Shutdown``)."""
        if self.lost is not None and not self.lost.done():
            self.lost.set_result(None)
        if not self.closed:
            self.closed = True
            if self.transport is not None:
                self.transport.close()  # nothing more to read: Asterisk is going away
        # every action Cobra sends is forgetable (SPEC §3.1): drop the correlation, the
        # gateway fails whoever waits for a reply
        self.responses.clear()
        if self.on_lost is not None and not self._lost_told:
            self._lost_told = True
            self.on_lost(exc)
