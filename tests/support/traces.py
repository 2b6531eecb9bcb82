"""Loader for the AMI transcripts recorded from a real Asterisk 22 (tests/fixtures/ami-traces)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dialer.ami.wire import Message

TRACES_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "ami-traces"
CLOSED = "(connection closed by server)"


@dataclass(frozen=True)
class TraceBlock:
    direction: str  # "send" or "recv"
    t: float
    lines: tuple[str, ...]

    @property
    def is_banner(self) -> bool:
        return len(self.lines) == 1 and self.lines[0].startswith("Asterisk Call Manager/")

    @property
    def is_close(self) -> bool:
        return self.lines == (CLOSED,)

    def message(self) -> Message:
        pairs = []
        for line in self.lines:
            key, _, value = line.partition(":")
            pairs.append((key, value[1:] if value.startswith(" ") else value))
        return Message(tuple(pairs))


def trace_names() -> list[str]:
    return sorted(p.stem for p in TRACES_DIR.glob("*.ami"))


def load_trace(name: str) -> list[TraceBlock]:
    text = (TRACES_DIR / f"{name}.ami").read_text(encoding="utf-8")
    blocks: list[TraceBlock] = []
    for chunk in text.split("### ")[1:]:
        head, *rest = chunk.split("\n")
        direction, tpart = head.split()
        lines = tuple(line for line in rest if line != "")
        blocks.append(TraceBlock(direction, float(tpart.removeprefix("t=")), lines))
    return blocks


def recv_wire_bytes(name: str) -> bytes:
    """What Asterisk wrote on the socket for this transcript, CR LF restored."""
    out = []
    for b in load_trace(name):
        if b.direction != "recv" or b.is_close:
            continue
        if b.is_banner:
            out.append(b.lines[0] + "\r\n")
        else:
            out.append("".join(line + "\r\n" for line in b.lines) + "\r\n")
    return "".join(out).encode("utf-8")


def recv_messages(name: str) -> list[Message]:
    return [b.message() for b in load_trace(name) if b.direction == "recv" and not b.is_banner and not b.is_close]
