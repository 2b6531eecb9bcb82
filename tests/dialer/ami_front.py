"""A TCP "front" for link-loss tests: a proxy between the gateway and the PBX simulator.

It stands for the load balancer or proxy in front of an Asterisk that restarts. Each
accepted connection gets the front's mode at that moment:

- ``PASS``: relay both ways;
- ``CLOSE``: accept and close at once (or after ``close_after_s``), never reaching the PBX;
- ``SILENT``: accept and never answer (optionally close after ``close_after_s``);

and ``cut_on_originate`` cuts a relayed connection when an Originate goes through it,
either before the PBX sees it or once the PBX has it (``cut_after_pbx_has_it``).

The front runs its own event loop in a thread, as a real proxy is another process: its
close then races the gateway's loop for real. On the test's loop, accepting and closing
happen a fixed number of loop turns apart and the "closed before adopted" order the
issue saw (2 of 6 trials) never occurs.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import threading
from collections.abc import Callable, Coroutine
from typing import Any


class Mode(enum.Enum):
    PASS = "pass"
    CLOSE = "close"
    SILENT = "silent"


class Front:
    def __init__(self, target_port: int, host: str = "127.0.0.1") -> None:
        self.target_port = target_port
        self.host = host
        self.mode = Mode.PASS
        # CLOSE/SILENT: close after this long (None: CLOSE at once, SILENT never)
        self.close_after_s: float | None = None
        self.abort_close = False  # close with a reset instead of a FIN
        self.cut_on_originate = False
        self.cut_after_pbx_has_it = False
        # called (on the front's thread) with the Originate's bytes; True once the PBX has read it
        self.pbx_has: Callable[[bytes], bool] = lambda data: True
        self.accepted = 0
        self.cuts = 0
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="ami-front", daemon=True)

    async def _in_front(self, coro: Coroutine[Any, Any, None]) -> None:
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self._loop))

    async def start(self) -> None:
        self._thread.start()
        await self._in_front(self._start())

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._on_accept, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        await self._in_front(self._stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        await asyncio.to_thread(self._thread.join, 5.0)
        self._loop.close()

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
        self._drop_all()
        tasks = list(self._tasks)
        if tasks:
            await asyncio.wait(tasks, timeout=1.0)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=1.0)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    def drop_all(self) -> None:
        """Reset every open connection, both sides (the PBX behind restarts)."""
        self._loop.call_soon_threadsafe(self._drop_all)

    def _drop_all(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    def _close(self, writer: asyncio.StreamWriter) -> None:
        self._writers.discard(writer)
        if self.abort_close:
            writer.transport.abort()
        else:
            writer.close()

    async def _on_accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.accepted += 1
        self._writers.add(writer)
        try:
            mode, close_after = self.mode, self.close_after_s
            if mode is Mode.CLOSE:
                if close_after:
                    await asyncio.sleep(close_after)
                self._close(writer)
            elif mode is Mode.SILENT:
                if close_after is None:
                    await _drain_until_eof(reader)
                else:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(_drain_until_eof(reader), close_after)
                self._close(writer)
            else:
                await self._relay(reader, writer)
        except (ConnectionError, OSError):
            pass
        finally:
            self._tasks.discard(task)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(self.host, self.target_port)
        self._writers.add(up_writer)
        pair = (writer, up_writer)

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter, watch: bool) -> None:
            while data := await src.read(65536):
                if watch and self.cut_on_originate and b"Action: Originate" in data:
                    self.cut_on_originate = False
                    if self.cut_after_pbx_has_it:
                        dst.write(data)
                        await dst.drain()
                        await _until(lambda: self.pbx_has(data))
                    self.cuts += 1
                    for w in pair:
                        self._writers.discard(w)
                        w.transport.abort()
                    return
                dst.write(data)
                await dst.drain()
            dst.close()

        try:
            await asyncio.gather(pump(reader, up_writer, True), pump(up_reader, writer, False))
        except (ConnectionError, OSError):
            for w in pair:
                w.transport.abort()
        finally:
            for w in pair:
                self._writers.discard(w)


async def _drain_until_eof(reader: asyncio.StreamReader) -> None:
    while await reader.read(65536):
        pass


async def _until(condition: Callable[[], bool], guard_s: float = 5.0) -> None:
    """Wait for ``condition`` (a guard, not a measurement: reaching it is a failure)."""
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.001)

    await asyncio.wait_for(poll(), guard_s)
