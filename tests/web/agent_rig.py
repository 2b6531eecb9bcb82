"""The agent desktop's end-to-end world: simulator over TCP + real SQLite + the real app with the dialer.

``desk_rig`` serves ``create_app`` + ``attach_dialer`` on 127.0.0.1 with the simulator as the
PBX; ``WsAgent`` is a websocket client on aiohttp's client that logs in through the form.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialer.ami.gateway import AmiSettings
from dialer.clocks import business_clock
from dialer.floor.identity import DEFAULT_OTHER_QUESTION, OtherQuestion
from dialer.runtime import DialerSettings
from dialer.simulator.server import SimulatorServer
from storage.engine import create_engine, session_factory
from storage.models import Role, User
from tests.web.conftest import FAST_HASHER, PASSWORD, UserSpec, add_users
from web.agent.dialer import attach_dialer
from web.agent.http import AGENT_DESK
from web.app import create_app
from web.auth.settings import Auth, AuthSettings
from web.config import Config, DatabaseConfig, WebConfig

TIME_SCALE = 0.1
SIM_WINDOW_S = 10.0  # the simulator's connect window (simulated seconds): 1 s of wall time, so a loaded CI
# machine (chromium beside the tests) stalling the loop a few hundred ms does not abandon the call
GUARD_S = 10.0  # a wait that reaches this fails the test: it is a guard, not a measurement

AGENTS = [
    UserSpec("ana", Role.AGENT, "Ana Souza", "7001", "Local/7001@agent-sim"),
    UserSpec("bia", Role.AGENT, "Beatriz Lima", "7002", "Local/7002@agent-sim"),
    UserSpec("sofia", Role.SUPERVISOR, "Sofia Lima"),
]


def scenario(ring_s: float = 1.0, talk_s: float = 1000.0) -> dict[str, Any]:
    """Every customer answers after ``ring_s`` and talks ``talk_s`` (simulated seconds) once connected."""
    fixed = lambda mean: {"dist": "lognormal", "mean": mean, "sd": 0.0}
    return {
        "name": "desk-tests",
        "seed": 1,
        "outcomes": {"live": 1.0},
        "ring_to_answer_s": fixed(ring_s),
        "ring_to_fail_s": fixed(1.0),
        "no_answer_timeout_s": 20,
        "amd_detect_s": fixed(1.0),
        "talk_s": fixed(talk_s),
        "connect_window_s": SIM_WINDOW_S,
    }


@dataclass
class DeskRig:
    url: str
    sim: SimulatorServer
    app: web.Application
    db: async_sessionmaker[AsyncSession]
    users: dict[str, int]


@asynccontextmanager
async def desk_rig(
    db_url: str, sim_scenario: dict[str, Any] | None = None, time_scale: float = TIME_SCALE,
    recordings_dir: Path | None = None, identity_question: OtherQuestion = DEFAULT_OTHER_QUESTION,
) -> AsyncIterator[DeskRig]:
    """The served app with its dialer on the simulator; ``recordings_dir``: calls are recorded there;
    ``identity_question``: the identity check's third question (``[identity]``)."""
    await add_users(db_url, AGENTS)
    sim = SimulatorServer(port=0, scenario=sim_scenario or scenario(), time_scale=time_scale)
    await sim.start()
    engine = create_engine(db_url)
    try:
        config = Config(database=DatabaseConfig(url=db_url), web=WebConfig(host="127.0.0.1", port=0))
        # one clock for the pages and the dialer (business hours, so the hopper dials at any hour)
        app = create_app(config, auth=Auth(settings=AuthSettings(), hasher=FAST_HASHER), clock=business_clock())
        ami = AmiSettings(
            host="127.0.0.1", port=sim.port, ping_interval_s=60.0, action_timeout_s=3.0, reconnect_initial_s=0.02,
            reconnect_max_s=0.2,
        )
        # a little under the simulator's window: the tracker times it from when it reads the answer
        settings = DialerSettings(
            connect_window_s=0.8 * SIM_WINDOW_S * time_scale, tick_s=0.02, recording=recordings_dir is not None,
            recordings_dir=recordings_dir, identity_question=identity_question,
        )
        attach_dialer(app, ami, settings)
        runner = web.AppRunner(app, shutdown_timeout=2.0)
        try:
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            host, port = runner.addresses[0][:2]
            db = session_factory(engine)
            async with db() as s:
                users = {u.login: u.id for u in (await s.execute(select(User))).scalars()}
            yield DeskRig(f"http://{host}:{port}", sim, app, db, users)
        finally:
            await runner.cleanup()
    finally:
        await engine.dispose()
        await sim.stop()


_CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


@dataclass
class WsAgent:
    """An agent's websocket on aiohttp's client, keeping every frame read."""

    url: str
    http: aiohttp.ClientSession
    ws: aiohttp.ClientWebSocketResponse | None = None
    frames: list[dict[str, Any]] = field(default_factory=list)
    last_seq: int | None = None
    epoch: str | None = None
    _reader: asyncio.Task[None] | None = None
    _refs: int = 0

    @classmethod
    async def log_in(cls, url: str, login: str) -> WsAgent:
        http = aiohttp.ClientSession(base_url=url, cookie_jar=aiohttp.CookieJar(unsafe=True))
        page = await http.get("/login")
        found = _CSRF.search(await page.text())
        assert found is not None
        resp = await http.post(
            "/login", data={"login": login, "password": PASSWORD, "csrf_token": found.group(1)}, allow_redirects=False
        )
        assert resp.status == 303, f"login {login}: HTTP {resp.status}"
        return cls(url, http)

    async def connect(self, hello: dict[str, Any] | None = None, *, resume: bool = False) -> None:
        self.ws = await self.http.ws_connect("/ws/agente", origin=self.url)
        if resume:
            hello = {"type": "hello", "last_seq": self.last_seq, "epoch": self.epoch}
        await self.ws.send_str(json.dumps(hello or {"type": "hello"}))
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.ws is not None
        async for msg in self.ws:
            if msg.type is aiohttp.WSMsgType.TEXT:
                frame = json.loads(msg.data)
                if frame["type"] == "hello":
                    self.epoch = frame["epoch"]
                if frame["seq"]:
                    self.last_seq = frame["seq"]
                self.frames.append(frame)

    async def send(self, message: dict[str, Any]) -> str:
        assert self.ws is not None
        self._refs += 1
        ref = f"t{self._refs}"
        await self.ws.send_str(json.dumps({**message, "ref": ref}))
        return ref

    async def send_raw(self, raw: str) -> None:
        assert self.ws is not None
        await self.ws.send_str(raw)

    async def wait_for(self, match: Callable[[dict[str, Any]], bool], what: str, start: int = 0) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + GUARD_S
        while True:
            for frame in self.frames[start:]:
                if match(frame):
                    return frame
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"never received: {what}; got {[f['type'] for f in self.frames]}")
            await asyncio.sleep(0.01)

    async def request(self, message: dict[str, Any]) -> dict[str, Any]:
        """Send and wait for the ack; fails the test on an error frame."""
        ref = await self.send(message)
        answer = await self.wait_for(lambda f: f.get("ref") == ref, f"answer to {message['type']}")
        assert answer["type"] == "ack", answer
        return answer

    async def drop(self) -> None:
        """Close the socket from the client side (a network blip)."""
        assert self.ws is not None and self._reader is not None
        await self.ws.close()
        await asyncio.wait_for(self._reader, GUARD_S)

    async def close(self) -> None:
        if self.ws is not None and not self.ws.closed:
            await self.drop()
        await self.http.close()

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [f for f in self.frames if f["type"] == kind]


def desk_of(app: web.Application) -> Any:
    return app[AGENT_DESK]
