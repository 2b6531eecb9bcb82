"""What the simulated PBX records: MixMonitor on a channel, its mutes, and the WAV it leaves.

The PBX model stays pure: it keeps a :class:`SimRecording` on the recorded channel (start
and every mute/unmute on the simulated clock) and, when the channel goes, hands a
:class:`FinishedRecording` to its sink. :func:`write_wav` (called by the TCP server, the I/O
edge) writes it as a real 8 kHz 16-bit mono WAV: a soft tone pattern standing for the
conversation, and silence where the recording was muted, so players and tests have
something to play and the gap is audible.
"""

from __future__ import annotations

import math
import struct
import wave
from dataclasses import dataclass, field
from pathlib import Path

RATE = 8000  # Asterisk's narrow-band rate: what MixMonitor writes for a .wav of a phone call
MAX_SECONDS = 600.0  # a simulated call that lasts longer is cut here (the demo's calls last seconds)
_TONE_HZ = 400  # 20 samples per period at 8 kHz: one period repeated exactly
_AMPLITUDE = 6000
_PERIOD = b"".join(
    struct.pack("<h", round(_AMPLITUDE * math.sin(2 * math.pi * _TONE_HZ * i / RATE))) for i in range(RATE // _TONE_HZ)
)


@dataclass
class SimRecording:
    """MixMonitor running on a channel: its file and its mute changes (simulated seconds)."""

    file: str
    started_at: float
    changes: list[tuple[float, bool]] = field(default_factory=list)  # (at, muted)

    @property
    def muted(self) -> bool:
        return bool(self.changes) and self.changes[-1][1]

    def mute(self, at: float, muted: bool) -> None:
        if muted != self.muted:
            self.changes.append((at, muted))

    def finish(self, at: float) -> FinishedRecording:
        """The recording as the file will hold it: length and muted stretches from its start."""
        gaps: list[tuple[float, float]] = []
        since: float | None = None
        for when, muted in self.changes:
            if muted:
                since = when
            elif since is not None:
                gaps.append((since - self.started_at, when - self.started_at))
                since = None
        length = max(0.0, at - self.started_at)
        if since is not None:
            gaps.append((since - self.started_at, length))
        return FinishedRecording(self.file, length, tuple(gaps))


@dataclass(frozen=True)
class FinishedRecording:
    file: str
    length_s: float
    gaps: tuple[tuple[float, float], ...]  # muted (start, end) in seconds from the start


# The "conversation": 0.4 s of tone, 0.2 s of pause, in turn (0.4 s is a whole number of periods)
_CYCLE = _PERIOD * int(0.4 * _TONE_HZ) + b"\x00\x00" * int(0.2 * RATE)


def render(rec: FinishedRecording) -> bytes:
    """The recording's PCM frames: the conversation sound, silent in the muted stretches."""
    total = int(min(rec.length_s, MAX_SECONDS) * RATE)
    frames = bytearray((_CYCLE * (total * 2 // len(_CYCLE) + 1))[: total * 2])
    for start_s, end_s in rec.gaps:
        a = max(0, min(total, int(start_s * RATE)))
        b = max(a, min(total, int(end_s * RATE)))
        frames[a * 2 : b * 2] = b"\x00\x00" * (b - a)
    return bytes(frames)


def write_wav(rec: FinishedRecording, base: Path | None = None) -> Path:
    """Write ``rec`` as a WAV file (directories created, as MixMonitor does); the path written.

    A relative file name is taken from ``base`` (default: the current directory), where
    Asterisk would use its monitor spool directory.
    """
    path = Path(rec.file)
    if not path.is_absolute() and base is not None:
        path = base / path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    with wave.open(str(tmp), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(render(rec))
    tmp.replace(path)  # a reader never sees a half-written file
    return path
