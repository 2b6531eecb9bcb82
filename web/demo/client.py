"""An agent's desktop without the browser: logs in over HTTP, then speaks the websocket protocol.

Used by the demo's bots, ``cobra demo --check`` and the screen-pop benchmark. The socket is
a client of the ``websockets`` package (SPEC §13); the login form is posted with aiohttp's
HTTP client, whose cookie jar holds the session cookie the socket then presents.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from web.auth.settings import SESSION_COOKIE

LOGIN_TIMEOUT_S = 15.0
_CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


class DeskError(Exception):
    """The server refused the login, or answered a request with an ``error`` frame."""


@dataclass(frozen=True, slots=True)
class Received:
    """A frame and the ``time.monotonic()`` at which the client read it."""

    frame: dict[str, Any]
    at: float


async def log_in(base_url: str, login: str, password: str, attempts: int = 3) -> str:
    """Post the login form; the session cookie's value. A server error (5xx) is tried again."""
    for attempt in range(1, attempts + 1):
        try:
            return await _log_in_once(base_url, login, password)
        except _ServerError as exc:
            if attempt == attempts:
                raise DeskError(str(exc)) from None
            await asyncio.sleep(0.25 * attempt)
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            # no server there (or not answering): the operator needs the URL and the reason, not a traceback
            raise DeskError(f"login {login!r}: cannot reach {base_url}: {exc or type(exc).__name__}") from None
    raise DeskError(f"login {login!r}: no attempt made")


class _ServerError(DeskError):
    pass


async def _log_in_once(base_url: str, login: str, password: str) -> str:
    jar = aiohttp.CookieJar(unsafe=True)  # cookies for 127.0.0.1 too
    timeout = aiohttp.ClientTimeout(total=LOGIN_TIMEOUT_S)
    async with aiohttp.ClientSession(base_url=base_url, cookie_jar=jar, timeout=timeout) as http:
        async with http.get("/login") as page:
            found = _CSRF.search(await page.text())
            if page.status != 200 or found is None:
                raise DeskError(f"login page: HTTP {page.status} without a form")
        form = {"login": login, "password": password, "csrf_token": found.group(1)}
        async with http.post("/login", data=form, allow_redirects=False) as resp:
            if resp.status >= 500:
                raise _ServerError(f"login {login!r}: HTTP {resp.status} from the server")
            if resp.status != 303:
                raise DeskError(f"login {login!r}: HTTP {resp.status} (wrong password or locked out?)")
        for cookie in jar:
            if cookie.key == SESSION_COOKIE:
                return cookie.value
    raise DeskError(f"login {login!r}: no session cookie in the answer")


@dataclass
class DeskClient:
    """One agent's websocket: ``frames`` keeps everything read, in order."""

    base_url: str
    session_cookie: str
    frames: list[Received] = field(default_factory=list)
    last_seq: int | None = None
    epoch: str | None = None
    _ws: ClientConnection | None = None
    _reader: asyncio.Task[None] | None = None
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _refs: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    on_frame: Callable[[Received], None] | None = None
    closed: bool = False

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://", 1).replace("https://", "wss://", 1) + "/ws/agente"

    async def open(self, *, resume: bool = False, open_timeout: float = 10.0) -> None:
        """Connect and say hello (with the last seq seen when ``resume``)."""
        self._ws = await connect(
            self.ws_url,
            origin=self.base_url,  # type: ignore[arg-type]
            additional_headers={"Cookie": f"{SESSION_COOKIE}={self.session_cookie}"},
            open_timeout=open_timeout,
            max_size=2**20,
        )
        self.closed = False
        hello: dict[str, Any] = {"type": "hello"}
        if resume:
            hello.update(last_seq=self.last_seq, epoch=self.epoch)
        await self._ws.send(json.dumps(hello))
        self._reader = asyncio.create_task(self._read(), name="desk-client-reader")

    async def _read(self) -> None:
        assert self._ws is not None
        try:
            async for raw in self._ws:
                frame = json.loads(raw)
                got = Received(frame, time.monotonic())
                if frame.get("type") == "hello":
                    self.epoch = frame["epoch"]
                seq = frame.get("seq", 0)
                if seq:
                    self.last_seq = seq
                self.frames.append(got)
                if self.on_frame is not None:
                    self.on_frame(got)
                self._arrived.set()
        except ConnectionClosed:
            pass
        finally:
            self.closed = True
            self._arrived.set()

    async def send(self, message: dict[str, Any]) -> str:
        """Send ``message`` with a fresh ``ref``; the ref."""
        if self._ws is None:
            raise DeskError("not connected")
        ref = f"c{next(self._refs)}"
        await self._ws.send(json.dumps({**message, "ref": ref}, default=str))
        return ref

    async def wait_for(
        self, match: Callable[[dict[str, Any]], bool], timeout: float, start: int = 0, what: str = "frame"
    ) -> dict[str, Any]:
        """The first frame from index ``start`` on that ``match``es; DeskError past ``timeout``."""
        deadline = asyncio.get_running_loop().time() + timeout
        i = start
        while True:
            while i < len(self.frames):
                frame = self.frames[i].frame
                i += 1
                if match(frame):
                    return frame
            if self.closed:
                raise DeskError(f"socket closed while waiting for {what}")
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise DeskError(f"no {what} within {timeout:g} s")
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), left)
            except TimeoutError:
                pass

    async def request(self, message: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
        """Send and wait for its ``ack``; DeskError with the server's message on an ``error``."""
        start = len(self.frames)
        ref = await self.send(message)
        answer = await self.wait_for(
            lambda f: f.get("ref") == ref and f.get("type") in ("ack", "error"), timeout, start, f"answer to {message['type']}"
        )
        if answer["type"] == "error":
            raise DeskError(f"{message['type']}: {answer.get('field') or ''} {answer['message']}".strip())
        return answer

    async def close(self, timeout: float = 5.0) -> None:
        if self._ws is not None:
            try:
                await asyncio.wait_for(self._ws.close(), timeout)
            except TimeoutError:
                pass
        if self._reader is not None:
            try:
                await asyncio.wait_for(self._reader, timeout)
            except TimeoutError:
                self._reader.cancel()
        self._ws = None
        self._reader = None
