from __future__ import annotations

import asyncio
import socket
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from dialer.ami.actions import Originate
from dialer.ami.protocol import CobraAmiProtocol, WireAction, to_panoramisk
from dialer.ami.wire import Message, MessageParser, encode_message
from tests.support.traces import recv_messages, recv_wire_bytes


@dataclass
class Peer:
    """The far end of a real socket pair, and what the protocol handed to its sink."""

    protocol: CobraAmiProtocol
    sock: socket.socket
    seen: list[tuple[Message, float]] = field(default_factory=list)

    async def read_messages(self) -> list[Message]:
        loop = asyncio.get_running_loop()
        parser = MessageParser()
        out: list[Message] = []
        while not out:
            out.extend(parser.feed(await loop.sock_recv(self.sock, 65536)))
        return out


@dataclass
class _Factory:
    """The two attributes ``AMIProtocol.close`` reads from its manager, plus a record of losses."""

    forgetable_actions: tuple[str, ...] = ("originate", "ping", "login")
    awaiting_actions: deque[object] = field(default_factory=deque)
    lost: list[BaseException | None] = field(default_factory=list)

    def connection_lost(self, exc: BaseException | None) -> None:
        self.lost.append(exc)


@pytest.fixture
async def peer() -> AsyncIterator[Peer]:
    loop = asyncio.get_running_loop()
    ours, theirs = socket.socketpair()
    theirs.setblocking(False)
    seen: list[tuple[Message, float]] = []
    _, protocol = await loop.create_connection(
        lambda: CobraAmiProtocol(sink=lambda m, at: seen.append((m, at))), sock=ours
    )
    protocol.factory = _Factory()
    protocol.encoding = "utf8"
    yield Peer(protocol, theirs, seen)
    protocol.transport.close()
    assert protocol.lost is not None
    await protocol.lost
    theirs.close()


def _event(**headers: str) -> bytes:
    return encode_message(headers.items())


async def test_a_name_split_inside_a_character_survives(peer: Peer) -> None:
    wire = b"Asterisk Call Manager/11.0.0\r\n" + _event(
        Event="Newchannel", Channel="PJSIP/7001-00000001", Uniqueid="1.1", CallerIDName="José"
    )
    cut = wire.index("é".encode()) + 1  # between the two bytes of "é"
    peer.protocol.data_received(wire[:cut])
    assert peer.seen == []
    peer.protocol.data_received(wire[cut:])
    assert [m.get("CallerIDName") for m, _ in peer.seen] == ["José"]
    assert peer.protocol.version == "11.0.0"


@pytest.mark.parametrize("size", [1, 7, 1500])
async def test_every_event_reaches_the_sink_in_wire_order(peer: Peer, size: int) -> None:
    wire = recv_wire_bytes("concurrent_mixed")
    for i in range(0, len(wire), size):
        peer.protocol.data_received(wire[i : i + size])
    expected = [m for m in recv_messages("concurrent_mixed") if m.event is not None]
    assert [m for m, _ in peer.seen] == expected
    times = [at for _, at in peer.seen]
    assert times == sorted(times)


async def test_an_originate_response_for_a_pending_action_reaches_the_sink_first(peer: Peer) -> None:
    action = Originate("Local/5511999990001@cust-sim", context="cobra-outbound", exten="s", action_id="orig-1")
    wire_action = WireAction(action.headers())
    future = peer.protocol.send(wire_action)
    sent = await peer.read_messages()
    assert sent == [Message(tuple(action.headers()))]

    replies = [m for m in recv_messages("answered_abandoned") if m.get("ActionID") == "orig-1"]
    order: list[str] = []
    future.add_done_callback(lambda _: order.append("future"))
    peer.protocol.sink = lambda m, at: (peer.seen.append((m, at)), order.append(m.event or ""))
    peer.protocol.data_received(encode_message(replies[0].headers))
    assert not future.done()  # "successfully queued" is not the outcome
    peer.protocol.data_received(encode_message(replies[1].headers))
    await asyncio.sleep(0)  # done callbacks run on the next loop turn
    assert [m.event for m, _ in peer.seen] == ["OriginateResponse"]
    assert order == ["OriginateResponse", "future"]
    result = future.result()
    assert [r.wire for r in result] == replies
    assert "orig-1" not in peer.protocol.responses


async def test_events_no_action_waits_for_skip_the_panoramisk_view_but_reach_the_sink(
    peer: Peer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dialer.ami.protocol as protocol_module

    viewed: list[Message] = []
    real = protocol_module.to_panoramisk

    def counted(m: Message) -> Any:
        viewed.append(m)
        return real(m)

    monkeypatch.setattr(protocol_module, "to_panoramisk", counted)
    events = [m for m in recv_messages("answered_abandoned") if m.event is not None]
    stray = [m for m in events if m.get("ActionID") is None][:20]
    for m in stray:
        peer.protocol.data_received(encode_message(m.headers))
    assert [m for m, _ in peer.seen] == stray  # every event still reaches the sink, in order
    assert viewed == []  # no pending action: no dict built per event (issue 10's profile)

    future = peer.protocol.send(WireAction(Originate("Local/5511999990001@cust-sim", context="c", exten="s",
                                                     action_id="orig-1").headers()))
    await peer.read_messages()
    replies = [m for m in recv_messages("answered_abandoned") if m.get("ActionID") == "orig-1"]
    for m in replies:
        peer.protocol.data_received(encode_message(m.headers))
    assert viewed == replies  # the action's own reply and event are correlated as before
    assert [r.wire for r in future.result()] == replies


async def test_wire_action_keeps_header_order_and_repeats() -> None:
    headers = [("Action", "Originate"), ("ActionID", "a-1"), ("Variable", "A=1"), ("Variable", "B=2")]
    action = WireAction(headers)
    assert str(action) == "Action: Originate\r\nActionID: a-1\r\nVariable: A=1\r\nVariable: B=2\r\n\r\n"
    assert action["variable"] == ["A=1", "B=2"]
    assert action.action_id == "a-1"


def test_to_panoramisk_keeps_repeats_body_and_the_wire_message() -> None:
    msg = Message.of(("Response", "Follows"), ("ActionID", "c-1"), ("", "line one"), ("", "line two"))
    converted = to_panoramisk(msg)
    assert converted.response == "Follows"
    assert converted.action_id == "c-1"
    assert converted.content == "line one\nline two"
    assert converted.wire is msg
    repeated = to_panoramisk(Message.of(("Event", "X"), ("Variable", "A=1"), ("Variable", "B=2")))
    assert repeated["variable"] == ["A=1", "B=2"]


async def test_shutdown_is_a_lost_link_reported_once(peer: Peer) -> None:
    lost: list[BaseException | None] = []
    peer.protocol.on_lost = lost.append
    peer.protocol.data_received(_event(Event="Shutdown", Shutdown="Uncleanly", Restart="True"))
    assert len(lost) == 1
    assert "Shutdown" in str(lost[0])
    assert peer.protocol.closed
    assert peer.protocol.lost is not None
    await peer.protocol.lost
    peer.protocol.connection_lost(None)  # the socket's own report, after ours
    assert len(lost) == 1


async def test_a_connection_closed_before_anyone_adopted_it_is_reported() -> None:
    """A proxy in front of a stopped Asterisk accepts and closes at once: the loss is told."""
    loop = asyncio.get_running_loop()
    lost: list[BaseException | None] = []
    ours, theirs = socket.socketpair()
    _, protocol = await loop.create_connection(lambda: CobraAmiProtocol(on_lost=lost.append), sock=ours)
    theirs.close()
    assert protocol.lost is not None
    await protocol.lost
    assert lost == [None]
    assert protocol.closed


async def test_a_lost_link_forgets_the_actions_in_flight_so_none_is_resent(peer: Peer) -> None:
    action = Originate("Local/5511999990001@cust-sim", context="cobra-outbound", exten="s", action_id="orig-2")
    future = peer.protocol.send(WireAction(action.headers()))
    assert "orig-2" in peer.protocol.responses
    peer.protocol.connection_lost(ConnectionResetError("reset"))
    assert peer.protocol.responses == {}
    assert not future.done()  # the gateway fails it (AmiLinkLost); nothing keeps it to re-send
