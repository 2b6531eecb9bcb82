from __future__ import annotations

import pytest

from dialer.ami.events import EVENT_NAMES, parse_event
from dialer.ami.wire import Message, MessageParser, encode_message
from tests.support.traces import recv_messages, recv_wire_bytes, trace_names


def test_every_recorded_transcript_is_shipped() -> None:
    # the 13 scenarios of the first issue, injection_attempt, then no_answer_far_end and
    # agent_leg_drops_mid_call (recorded later)
    assert len(trace_names()) == 16
    assert {"concurrent_mixed", "no_answer_far_end", "agent_leg_drops_mid_call"} <= set(trace_names())


@pytest.mark.parametrize("name", trace_names())
def test_parser_reads_every_transcript_whole(name: str) -> None:
    parser = MessageParser(expect_banner=True)
    got = parser.feed(recv_wire_bytes(name))
    assert parser.banner == "Asterisk Call Manager/11.0.0"
    assert got == recv_messages(name)


@pytest.mark.parametrize("name", trace_names())
@pytest.mark.parametrize("size", [1, 7, 113])
def test_parser_is_indifferent_to_read_boundaries(name: str, size: int) -> None:
    wire = recv_wire_bytes(name)
    parser = MessageParser(expect_banner=True)
    got = [m for i in range(0, len(wire), size) for m in parser.feed(wire[i : i + size])]
    assert got == recv_messages(name)


@pytest.mark.parametrize("name", trace_names())
def test_every_event_cobra_reads_parses(name: str) -> None:
    for msg in recv_messages(name):
        event = parse_event(msg)
        if msg.event in EVENT_NAMES:
            assert event is not None
        else:
            assert event is None


def test_multibyte_character_split_across_reads_survives() -> None:
    wire = encode_message([("Event", "VarSet"), ("Variable", "NOME"), ("Value", "José Conceição")])
    cut = wire.index("é".encode()) + 1  # in the middle of the two bytes of "é"
    parser = MessageParser()
    assert parser.feed(wire[:cut]) == []
    (msg,) = parser.feed(wire[cut:])
    assert msg["Value"] == "José Conceição"


def test_message_keys_are_case_insensitive_and_repeatable() -> None:
    msg = Message.of(("Variable", "A=1"), ("Variable", "B=2"), Action="Originate")
    assert msg.get("variable") == "A=1"
    assert msg.get_all("VARIABLE") == ["A=1", "B=2"]
    assert msg["action"] == "Originate"
    assert "Channel" not in msg
