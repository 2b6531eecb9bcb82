"""The AMI wire format, as pure functions over bytes: no sockets, no event loop.

An AMI message is a block of ``Key: Value`` lines ended by an empty line; lines end
with CR LF (a bare LF is accepted on input). A server starts the stream with a
banner line (``Asterisk Call Manager/11.0.0``) that has no blank line after it.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

BANNER_PREFIX = "Asterisk Call Manager/"


@dataclass(frozen=True, slots=True)
class Message:
    """One AMI message: its headers in wire order (a key may repeat, e.g. ``Variable``)."""

    headers: tuple[tuple[str, str], ...]
    # lower-cased key → first value, built on the first lookup: the tracker reads a dozen headers
    # of each of the ~1,000 events a second a busy floor brings, and a scan per read showed in the profile
    _index: dict[str, str] | None = field(default=None, init=False, repr=False, compare=False, hash=False)

    @classmethod
    def of(cls, *pairs: tuple[str, str], **kv: str) -> Message:
        """Build a message from pairs and/or keyword headers (in that order)."""
        return cls(tuple(pairs) + tuple(kv.items()))

    def get(self, key: str, default: str | None = None) -> str | None:
        """The first value of ``key`` (keys compare case-insensitively, as Asterisk does)."""
        index = self._index
        if index is None:
            index = {}
            for k, v in self.headers:
                index.setdefault(k.lower(), v)
            object.__setattr__(self, "_index", index)
        return index.get(key.lower(), default)

    def __getitem__(self, key: str) -> str:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def get_all(self, key: str) -> list[str]:
        lower = key.lower()
        return [v for k, v in self.headers if k.lower() == lower]

    def keys(self) -> list[str]:
        return [k for k, _ in self.headers]

    def as_dict(self) -> dict[str, str]:
        """Headers as a dict; for a repeated key the first value wins."""
        out: dict[str, str] = {}
        for k, v in self.headers:
            out.setdefault(k, v)
        return out

    @property
    def event(self) -> str | None:
        return self.get("Event")

    @property
    def response(self) -> str | None:
        return self.get("Response")

    @property
    def action_id(self) -> str | None:
        return self.get("ActionID")


class MessageParser:
    """Incremental parser: feed it bytes as they arrive, get whole messages back.

    Decoding is incremental UTF-8, so a multi-byte character split across two reads
    is kept whole (panoramisk decodes each read on its own and drops such bytes).
    Invalid bytes become U+FFFD rather than disappearing. ``feed`` never raises, whatever
    the bytes (``tests/dialer/test_ami_wire_fuzz.py`` checks it); note that a line with no
    end is buffered whole, so bounding a runaway peer is the connection's job.
    """

    __slots__ = ("_decoder", "_expect_banner", "_headers", "_pending", "banner")

    def __init__(self, expect_banner: bool = False) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""
        self._headers: list[tuple[str, str]] = []
        self._expect_banner = expect_banner
        self.banner: str | None = None

    def feed(self, data: bytes) -> list[Message]:
        """Consume ``data``; return the messages it completed, in order."""
        text = self._pending + self._decoder.decode(data)
        lines = text.split("\n")
        self._pending = lines.pop()
        out: list[Message] = []
        headers = self._headers
        for raw in lines:
            line = raw.removesuffix("\r")
            if self._expect_banner:
                self._expect_banner = False
                if line.startswith(BANNER_PREFIX):
                    self.banner = line
                    continue
            if not line:
                if headers:
                    out.append(Message(tuple(headers)))
                    headers = []
                continue
            key, sep, value = line.partition(":")
            if not sep:
                # A line without a colon (command output, stray text): kept under an empty key
                headers.append(("", line))
                continue
            headers.append((key.strip(), value.removeprefix(" ")))
        self._headers = headers
        return out

    def feed_iter(self, chunks: Iterable[bytes]) -> Iterator[Message]:
        for chunk in chunks:
            yield from self.feed(chunk)


def encode_message(headers: Iterable[tuple[str, str]]) -> bytes:
    """Serialise headers as one AMI message. Callers must have validated the values
    (see :mod:`dialer.ami.sanitize`); this function only joins them."""
    return ("".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n").encode("utf-8")


def encode_banner(version: str = "11.0.0") -> bytes:
    return f"{BANNER_PREFIX}{version}\r\n".encode("ascii")
