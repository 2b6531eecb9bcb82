"""A tiny raw-socket AMI client for tests: bytes in, :class:`Message` out.

Deliberately NOT Cobra's gateway: it sends exactly what it is given (even CR LF inside a
value, to reproduce ``injection_attempt``) and records everything it reads, so tests can
compare the simulator's stream with the recorded transcripts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from dialer.ami.wire import Message, MessageParser

Predicate = Callable[[Message], bool]


def ev(name: str, **kv: str) -> Predicate:
    """Matches event ``name`` whose headers equal ``kv`` (like scenarios.py.txt's ``ev``)."""
    return lambda m: m.get("Event") == name and all(m.get(k) == v for k, v in kv.items())


def reply_to(action_id: str) -> Predicate:
    return lambda m: m.get("ActionID") == action_id


@dataclass
class RawAmiClient:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    banner: str | None = None
    received: list[Message] = field(default_factory=list)
    closed: bool = False
    _parser: MessageParser = field(default_factory=lambda: MessageParser(expect_banner=True))
    _cursor: int = 0

    @classmethod
    async def connect(cls, host: str, port: int) -> RawAmiClient:
        reader, writer = await asyncio.open_connection(host, port)
        client = cls(reader, writer)
        line = await asyncio.wait_for(reader.readline(), 5)
        client._parser.feed(line)
        client.banner = client._parser.banner
        return client

    async def send(self, **headers: str) -> None:
        """Send one action; header order is the keyword order (values are NOT sanitised)."""
        await self.send_pairs(list(headers.items()))

    async def send_pairs(self, pairs: list[tuple[str, str]]) -> None:
        self.writer.write(("".join(f"{k}: {v}\r\n" for k, v in pairs) + "\r\n").encode("utf-8"))
        await self.writer.drain()

    async def send_raw(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def login(self, username: str = "cobra", secret: str = "cobra", **extra: str) -> Message:
        await self.send(Action="Login", ActionID="login-1", Username=username, Secret=secret, **extra)
        return await self.wait_for(reply_to("login-1"))

    async def _read_more(self, timeout: float) -> None:
        data = await asyncio.wait_for(self.reader.read(65536), timeout)
        if not data:
            self.closed = True
            raise ConnectionError("connection closed by server")
        self.received.extend(self._parser.feed(data))

    async def wait_for(self, predicate: Predicate, timeout: float = 10.0) -> Message:
        """The next message (after the last one matched) that satisfies ``predicate``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            while self._cursor < len(self.received):
                msg = self.received[self._cursor]
                self._cursor += 1
                if predicate(msg):
                    return msg
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError("no matching AMI message in time")
            await self._read_more(remaining)

    async def read_until_closed(self, timeout: float = 10.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.closed:
            try:
                await self._read_more(max(0.0, deadline - loop.time()))
            except ConnectionError:
                return

    async def drain_for(self, seconds: float) -> None:
        """Keep reading for ``seconds`` (collecting whatever arrives)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not self.closed:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            try:
                await self._read_more(remaining)
            except TimeoutError:
                return
            except ConnectionError:
                return

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except (ConnectionError, OSError):
            pass
