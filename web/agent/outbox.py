"""Per-agent numbered outbox: every server message gets the next ``seq`` and is kept for replay.

A browser that reconnects sends the last ``seq`` it saw; if everything after it is still
retained the server replays exactly that, otherwise it must send a fresh snapshot (SPEC §6).
Pure: no sockets, no event loop.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

# The body of a frame kept only as its encoded text (see Outbox.push_encoded)
ENCODED: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Frame:
    seq: int
    type: str
    body: Mapping[str, Any]
    text: str | None = None  # the frame as sent, when it was encoded once for every socket and replay

    def as_json_obj(self) -> dict[str, Any]:
        return {"type": self.type, "seq": self.seq, **self.body}


class Outbox:
    """Numbers outgoing frames and remembers the last ``capacity`` of them."""

    __slots__ = ("_frames", "_next_seq")

    def __init__(self, capacity: int = 256) -> None:
        self._frames: deque[Frame] = deque(maxlen=capacity)
        self._next_seq = 1

    @property
    def last_seq(self) -> int:
        return self._next_seq - 1

    def push(self, type_: str, body: Mapping[str, Any]) -> Frame:
        frame = Frame(self._next_seq, type_, body)
        self._next_seq += 1
        self._frames.append(frame)
        return frame

    def push_encoded(self, type_: str, body: Mapping[str, Any], encode: Callable[[Frame], str]) -> Frame:
        """Number and encode a frame; only its text is kept for replay (the returned frame has both).

        A kept body is a tree of dicts and lists the garbage collector walks on every full
        collection: 200 agents' outboxes made them tens of milliseconds long (issue 10). Text is not
        walked, and a replay sends it as it was first sent."""
        frame = Frame(self._next_seq, type_, body)
        text = encode(frame)
        self._next_seq += 1
        self._frames.append(Frame(frame.seq, type_, ENCODED, text))
        return Frame(frame.seq, type_, body, text)

    def since(self, last_seen: int) -> list[Frame] | None:
        """Frames after ``last_seen``, or ``None`` when some of them are no longer kept
        (or ``last_seen`` is from another session): the caller then sends a snapshot."""
        if last_seen > self.last_seq or last_seen < 0:
            return None
        if last_seen == self.last_seq:
            return []
        oldest = self._frames[0].seq if self._frames else self._next_seq
        if last_seen + 1 < oldest:
            return None
        return [f for f in self._frames if f.seq > last_seen]
