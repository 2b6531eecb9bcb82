"""Fuzzing the AMI wire parser (``dialer/ami/wire.py``) with hypothesis.

The parser reads whatever a PBX (or something pretending to be one) sends: arbitrary bytes
must never raise (it has no error type: bad UTF-8 becomes U+FFFD, a line without a colon is
kept under an empty key), and whatever it is fed, however the reads are cut, it yields the
same messages. Valid messages survive an encode → parse round trip exactly.
"""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.ami.wire import (
    BANNER_PREFIX,
    Message,
    MessageParser,
    encode_banner,
    encode_message,
)

FUZZ = settings(max_examples=200, deadline=None)

# what Cobra and Asterisk put in keys: no colon, no line break, no surrounding blanks
keys = st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,30}", fullmatch=True)
# values: any text without a line break (a leading blank is kept: only the one after the colon goes)
values = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=60
)
messages = st.lists(st.tuples(keys, values), min_size=1, max_size=8).map(lambda h: Message(tuple(h)))


def _cuts(data: bytes, points: list[int]) -> list[bytes]:
    edges = sorted({0, len(data), *(p % (len(data) + 1) for p in points)})
    return [data[a:b] for a, b in itertools.pairwise(edges)]


@FUZZ
@given(st.binary(max_size=2000), st.booleans())
def test_arbitrary_bytes_never_raise_and_give_whole_messages(data: bytes, banner: bool) -> None:
    parser = MessageParser(expect_banner=banner)
    out = parser.feed(data)
    for message in out:
        assert message.headers  # an empty block is never a message
        for key, value in message.headers:
            assert "\n" not in key and "\n" not in value


@FUZZ
@given(st.binary(max_size=2000), st.lists(st.integers(0, 4000), max_size=10), st.booleans())
def test_the_messages_do_not_depend_on_where_the_reads_are_cut(data: bytes, points: list[int], banner: bool) -> None:
    whole = MessageParser(expect_banner=banner)
    expected = whole.feed(data)
    pieces = MessageParser(expect_banner=banner)
    got = [m for chunk in _cuts(data, points) for m in pieces.feed(chunk)]
    assert got == expected
    assert pieces.banner == whole.banner


@FUZZ
@given(st.lists(messages, min_size=1, max_size=5), st.lists(st.integers(0, 4000), max_size=10), st.booleans())
def test_valid_messages_round_trip_exactly_whatever_the_reads(
    sent: list[Message], points: list[int], banner: bool
) -> None:
    data = (encode_banner() if banner else b"") + b"".join(encode_message(m.headers) for m in sent)
    parser = MessageParser(expect_banner=True)
    got = [m for chunk in _cuts(data, points) for m in parser.feed(chunk)]
    assert got == sent
    assert (parser.banner or "").startswith(BANNER_PREFIX) is banner


@FUZZ
@given(st.lists(messages, min_size=1, max_size=3), st.binary(max_size=200))
def test_garbage_before_a_blank_line_does_not_swallow_the_messages_after_it(sent: list[Message], junk: bytes) -> None:
    parser = MessageParser()
    parser.feed(junk + b"\r\n\r\n")  # whatever the junk was, the blank line ends it
    got = [m for message in sent for m in parser.feed(encode_message(message.headers))]
    assert got == sent
