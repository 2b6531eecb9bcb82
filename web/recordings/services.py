"""Finding and serving a call's recording: the path from the database, never from the request.

The stored path (``call_attempts.recording_path``, written by the dialer) must lie inside the
configured ``[recording] dir``: checked on the normalised path, and again on the real path
(symlinks followed) before a local file is opened, so neither a ``..`` nor a link leads out.
Byte ranges follow RFC 9110 §14 for one range (``bytes=a-b``, ``bytes=a-``, ``bytes=-n``);
anything else in ``Range`` is ignored and the whole file is sent, as the RFC allows.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.repositories.audit import record
from storage.repositories.recordings import (
    Gap,
    StoredRecording,
    recording_gaps,
    stored_recording,
)
from web.config import Config

CHUNK_BYTES = 64 * 1024
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


@dataclass(frozen=True, slots=True)
class RecordingSettings:
    """``[recording]``: the directory recordings live in, and the other host's URL template (if any)."""

    directory: str | None
    url_template: str | None = None

    @classmethod
    def from_config(cls, config: Config) -> RecordingSettings:
        return cls(config.recording.directory(config.dialer), config.recording.url_template)


@dataclass(frozen=True, slots=True)
class ByteRange:
    """Bytes ``start`` to ``end`` inclusive of a file of ``size`` bytes."""

    start: int
    end: int
    size: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self) -> str:
        return f"bytes {self.start}-{self.end}/{self.size}"


class RangeNotSatisfiable(Exception):
    """The request's one range starts past the end of the file (answered 416)."""

    def __init__(self, size: int) -> None:
        super().__init__(f"range not satisfiable for {size} bytes")
        self.size = size


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The one byte range asked for; None to send the whole file; RangeNotSatisfiable for 416."""
    if header is None:
        return None
    m = _RANGE.fullmatch(header.strip().replace(" ", ""))
    if m is None or (not m.group(1) and not m.group(2)):
        return None  # other units, several ranges, garbage: ignored (RFC 9110 §14.2)
    first, last = m.group(1), m.group(2)
    if not first:  # suffix: the last n bytes
        n = int(last)
        if n == 0 or size == 0:
            raise RangeNotSatisfiable(size)
        return ByteRange(max(0, size - n), size - 1, size)
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None  # an invalid range-spec: the header is ignored
    if start >= size:
        raise RangeNotSatisfiable(size)
    return ByteRange(start, min(end, size - 1), size)


def relative_inside(directory: str, stored: str) -> PurePosixPath | None:
    """``stored`` as a path under ``directory`` (both normalised, relative ones from the working
    directory); None when it is not strictly inside it."""
    root = os.path.normpath(os.path.abspath(directory))
    path = os.path.normpath(os.path.abspath(stored))
    if os.path.commonpath([root, path]) != root or path == root:
        return None
    return PurePosixPath(Path(path).relative_to(root).as_posix())


def local_file(directory: str, stored: str) -> Path | None:
    """The recording's file when it is inside ``directory`` once symlinks are followed; None otherwise."""
    if relative_inside(directory, stored) is None:
        return None
    root = Path(directory).resolve()
    real = Path(stored).resolve()
    return real if real.is_relative_to(root) and real != root else None


def redirect_url(template: str, relative: PurePosixPath) -> str:
    """The other host's URL of a recording: ``{path}`` is its path under the directory, URL-quoted."""
    return template.replace("{path}", quote(relative.as_posix(), safe="/"))


async def find_recording(read: async_sessionmaker[AsyncSession], call_id: str) -> StoredRecording | None:
    async with read() as db:
        return await stored_recording(db, call_id)


async def gaps_of(read: async_sessionmaker[AsyncSession], call_id: str) -> list[Gap]:
    async with read() as db:
        return await recording_gaps(db, call_id)


async def audit_access(
    write: async_sessionmaker[AsyncSession], *, user_id: int, call_id: str, at: datetime, detail: dict[str, Any]
) -> None:
    """``recording.access``: who opened which call's recording, when, how (SPEC §11: every access)."""
    async with write() as db:
        await record(db, user_id=user_id, action="recording.access", entity="call", entity_id=call_id, after=detail, at=at)
        await db.commit()


async def read_chunks(path: Path, start: int, length: int) -> AsyncIterator[bytes]:
    """``length`` bytes of ``path`` from ``start``, in chunks read off the event loop."""
    handle = await asyncio.to_thread(path.open, "rb")
    try:
        await asyncio.to_thread(handle.seek, start)
        left = length
        while left > 0:
            chunk = await asyncio.to_thread(handle.read, min(CHUNK_BYTES, left))
            if not chunk:
                return  # the file shrank meanwhile: the client sees a short body
            left -= len(chunk)
            yield chunk
    finally:
        await asyncio.to_thread(handle.close)
