"""The simulator's AMI server: a real TCP listener speaking Asterisk's manager protocol.

One :class:`~dialer.simulator.pbx.Pbx` serves every connection; one asyncio timer drives
its timer queue (no task per call). Each event is encoded once and written to every
session whose ``Events`` filter allows its class. Writes never wait: a client that does not
read while more than ``max_write_buffer`` bytes pile up is disconnected (Asterisk also
drops a manager session whose writes time out), so one slow client cannot stall others.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from pathlib import Path
from typing import Any, Self, TextIO

from dialer.ami.wire import Message, MessageParser, encode_banner, encode_message
from dialer.simulator.customers import (
    CustomerModel,
    LastDigitCustomers,
    ScenarioCustomers,
)
from dialer.simulator.pbx import Pbx, error, response
from dialer.simulator.recordings import FinishedRecording, write_wav
from dialer.simulator.timers import TimerQueue

log = logging.getLogger(__name__)

ALL_CLASSES = None  # an Events filter of None lets every class through


def parse_events_header(value: str | None) -> frozenset[str] | None:
    """Login's ``Events``: absent/``on`` = all classes, ``off`` = none, else a class list."""
    if value is None:
        return ALL_CLASSES
    v = value.strip().lower()
    if v in ("on", "yes", "true", "1", "all", ""):
        return ALL_CLASSES
    if v in ("off", "no", "false", "0"):
        return frozenset()
    classes = frozenset(c.strip() for c in v.split(",") if c.strip())
    return ALL_CLASSES if "all" in classes else classes


def event_allowed(privilege: str | None, mask: frozenset[str] | None) -> bool:
    if mask is None:
        return True
    if privilege is None:
        return False
    return any(c in mask for c in privilege.lower().split(",") if c != "all")


def _event_tv(wall: float) -> str:
    stamp = dt.datetime.fromtimestamp(wall, dt.UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}+0000"


class _Session:
    """One manager connection."""

    def __init__(self, server: SimulatorServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.server = server
        self.reader = reader
        self.writer = writer
        self.authenticated = False
        self.username = ""
        self.mask: frozenset[str] | None = ALL_CLASSES
        self.closed = False
        self.started = time.time()
        self.session_id = f"0x{id(self):012x}"
        sock = writer.get_extra_info("sockname") or ("127.0.0.1", 0)
        peer = writer.get_extra_info("peername") or ("127.0.0.1", 0)
        self.local_address = f"IPV4/TCP/{sock[0]}/{sock[1]}"
        self.remote_address = f"IPV4/TCP/{peer[0]}/{peer[1]}"

    def write(self, data: bytes) -> None:
        if self.closed:
            return
        transport = self.writer.transport
        if transport.is_closing():
            self.closed = True
            return
        transport.write(data)
        if transport.get_write_buffer_size() > self.server.max_write_buffer:
            log.warning("pbx-sim: dropping %s: it is not reading its events", self.remote_address)
            self.abort()

    def send(self, msg: Message) -> None:
        self.write(encode_message(msg.headers))

    def abort(self) -> None:
        self.closed = True
        self.writer.transport.abort()

    def security_event(self, name: str, severity: str, extra: list[tuple[str, str]]) -> Message:
        now = time.time()
        return Message((
            ("Event", name), ("Privilege", "security,all"), ("EventTV", _event_tv(now)),
            ("Severity", severity), ("Service", "AMI"), ("EventVersion", "1"),
            *extra,
        ))


class SimulatorServer:
    """A simulated Asterisk speaking AMI over TCP (see the package README for what it models).

    ``time_scale`` multiplies every simulated delay (0.1 = ten times faster).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        username: str = "cobra",
        secret: str = "cobra",
        scenario: dict[str, Any] | str | Path | None = None,
        time_scale: float = 1.0,
        *,
        max_write_buffer: int = 4 * 1024 * 1024,
        originate_log: Path | None = None,
    ) -> None:
        """``originate_log``: a file to which one line ``<ActionID> <time.monotonic()>`` is appended
        as each successful ``OriginateResponse`` is written to the sockets (the screen-pop benchmark
        measures from there; ``time.monotonic()`` is one clock for every process of a machine)."""
        if time_scale <= 0:
            raise ValueError(f"time_scale must be > 0, got {time_scale!r}")
        self.host = host
        self._requested_port = port
        self.username = username
        self.secret = secret
        self.time_scale = float(time_scale)
        self.max_write_buffer = max_write_buffer
        self.received_actions: list[Message] = []
        self.freeze_pings = False
        customers: CustomerModel
        if scenario is None:
            customers = LastDigitCustomers()
        elif isinstance(scenario, dict):
            customers = ScenarioCustomers(scenario)
        else:
            customers = ScenarioCustomers.from_file(scenario)
        self.timers = TimerQueue()
        self.pbx = Pbx(customers, timers=self.timers)
        self.pbx.add_listener(self._broadcast)
        self.pbx.on_recording = self._write_recording
        self.recordings: list[Path] = []  # WAV files written for MixMonitor recordings, in order
        self._server: asyncio.base_events.Server | None = None
        self._sessions: set[_Session] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._t0 = 0.0
        self._wakeup: asyncio.TimerHandle | None = None
        self._wakeup_at: float | None = None
        self._started_wall = time.time()
        self.port = 0
        self._originate_log_path = originate_log
        self._originate_log: TextIO | None = None

    # ---- lifecycle ----------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        if self._originate_log_path is not None and self._originate_log is None:
            # line-buffered: a reader sees each call as soon as it is answered
            self._originate_log = open(self._originate_log_path, "a", encoding="ascii", buffering=1)  # noqa: SIM115, ASYNC230
        self._t0 = self._loop.time()
        self._started_wall = time.time()
        self.timers.on_schedule = self._arm
        self._server = await asyncio.start_server(self._on_connect, self.host, self._requested_port)
        self.port = self._server.sockets[0].getsockname()[1]
        self._arm_next()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for session in list(self._sessions):
            session.abort()
        tasks = list(self._tasks)
        if tasks:
            # aborted sockets end the sessions' reads; anything still busy is cancelled
            _, pending = await asyncio.wait(tasks, timeout=1.0)
            for task in pending:
                task.cancel()
            for task in pending:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
        if self._wakeup is not None:
            self._wakeup.cancel()
            self._wakeup = None
        self.timers.on_schedule = None
        if self._originate_log is not None:
            self._originate_log.close()
            self._originate_log = None

    async def drop_connections(self) -> None:
        """Close every client socket at once (a link failure); the server keeps listening."""
        sessions = list(self._sessions)
        for session in sessions:
            session.abort()
        await asyncio.sleep(0)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def session_count(self) -> int:
        return len(self._sessions)

    # ---- clock --------------------------------------------------------------------

    def sim_now(self) -> float:
        assert self._loop is not None
        return (self._loop.time() - self._t0) / self.time_scale

    def _arm(self, when: float) -> None:
        if self._loop is None:
            return
        if self._wakeup_at is not None and self._wakeup_at <= when:
            return
        if self._wakeup is not None:
            self._wakeup.cancel()
        self._wakeup_at = when
        self._wakeup = self._loop.call_at(self._t0 + when * self.time_scale, self._tick)

    def _arm_next(self) -> None:
        deadline = self.timers.next_deadline()
        if deadline is not None:
            self._arm(deadline)

    def _tick(self) -> None:
        self._wakeup = None
        self._wakeup_at = None
        try:
            self.timers.advance_to(self.sim_now())
        except Exception:  # a bug in the model must not stop the clock for every other call
            log.exception("pbx-sim: timer callback failed")
        self._arm_next()

    def _sync_clock(self) -> None:
        """Bring the model's clock to now before it acts on a new action."""
        self.timers.advance_to(self.sim_now())

    # ---- recordings -----------------------------------------------------------------

    def _write_recording(self, rec: FinishedRecording) -> None:
        """A recorded channel went: write its WAV (small: seconds of 8 kHz audio) before its Hangup is sent."""
        try:
            self.recordings.append(write_wav(rec))
        except OSError as exc:  # Asterisk logs a file it cannot open and the call goes on
            log.warning("pbx-sim: cannot write recording %s: %s", rec.file, exc)

    # ---- events -------------------------------------------------------------------

    def _broadcast(self, msg: Message) -> None:
        privilege = msg.get("Privilege")
        data: bytes | None = None
        for session in list(self._sessions):
            if session.authenticated and event_allowed(privilege, session.mask):
                if data is None:
                    data = encode_message(msg.headers)
                session.write(data)
        if (
            self._originate_log is not None
            and msg.get("Event") == "OriginateResponse"
            and msg.get("Response") == "Success"
            and msg.get("ActionID")
        ):
            self._originate_log.write(f"{msg.get('ActionID')} {time.monotonic():.6f}\n")

    # ---- connections ----------------------------------------------------------------

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        session = _Session(self, reader, writer)
        self._sessions.add(session)
        try:
            session.write(encode_banner())
            parser = MessageParser()
            while not session.closed:
                data = await reader.read(65536)
                if not data:
                    break
                for action in parser.feed(data):
                    await self._dispatch(session, action)
                    if session.closed:
                        break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            # stop() cancels a session stuck mid-action; end quietly, as asyncio's
            # start_server callback would otherwise log the cancellation as an error
            pass
        finally:
            self._sessions.discard(session)
            session.closed = True
            writer.close()
            self._tasks.discard(task)

    async def _dispatch(self, session: _Session, action: Message) -> None:
        self.received_actions.append(action)
        name = action.get("Action")
        if not name:
            session.send(error(action, "Missing action in request"))
            return
        lname = name.lower()
        if lname == "login":
            await self._login(session, action)
            return
        if lname == "logoff":
            session.send(response(action, "Goodbye", message="Thanks for all the fish."))
            session.closed = True
            session.writer.close()
            return
        if not session.authenticated:
            session.send(error(action, "Permission denied"))
            return
        if lname == "ping":
            if not self.freeze_pings:
                session.send(response(action, "Success", ("Ping", "Pong"), ("Timestamp", f"{time.time():.6f}")))
            return
        if self.pbx.handles(lname):
            self._sync_clock()
            self.pbx.handle(action, session.send)
            self._arm_next()
            return
        session.send(error(action, f"Invalid/unknown command: {name}. Use Action: ListCommands to show available commands."))
        bad = session.security_event("RequestBadFormat", "Error", [
            ("SessionID", session.session_id), ("LocalAddress", session.local_address),
            ("RemoteAddress", session.remote_address), ("RequestType", f"Action: {name}"),
            ("SessionTV", _event_tv(session.started)), ("AccountID", session.username),
        ])
        self._broadcast(bad)

    async def _login(self, session: _Session, action: Message) -> None:
        if action.get("Username") != self.username or action.get("Secret") != self.secret:
            # Asterisk waits a second before refusing, then hangs up on the client
            await asyncio.sleep(1.0 * self.time_scale)
            session.send(error(action, "Authentication failed"))
            session.closed = True
            session.writer.close()
            return
        session.authenticated = True
        session.username = self.username
        session.mask = parse_events_header(action.get("Events"))
        session.send(response(action, "Success", message="Authentication accepted"))
        uptime = str(int(time.time() - self._started_wall))
        booted = Message((("Event", "FullyBooted"), ("Privilege", "system,all"), ("Uptime", uptime),
                          ("LastReload", uptime), ("Status", "Fully Booted")))
        if event_allowed("system,all", session.mask):
            session.send(booted)
        auth = session.security_event("SuccessfulAuth", "Informational", [
            ("AccountID", self.username), ("SessionID", session.session_id),
            ("LocalAddress", session.local_address), ("RemoteAddress", session.remote_address),
            ("UsingPassword", "0"), ("SessionTV", _event_tv(session.started)),
        ])
        if event_allowed("security,all", session.mask):
            session.send(auth)
