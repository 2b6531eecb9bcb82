"""Bot agents for the demo: websocket clients that work a shift like people do.

A bot logs in over HTTP, goes "Disponível", takes the calls the dialer connects, confirms
the identity, talks a while (or until the customer hangs up), and disposes with a
realistic mix of outcomes. A dropped socket is reopened with the last ``seq`` (resume).
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from dialer.clocks import Clock, system_clock
from web.demo.client import DeskClient, DeskError, log_in

log = logging.getLogger(__name__)

# (outcome, weight): what a collections floor typically records on answered calls
OUTCOME_MIX: tuple[tuple[str, int], ...] = (
    ("PROMESSA", 30),
    ("RECUSA", 18),
    ("RETORNAR", 15),
    ("SEM_CONDICOES", 14),
    ("RECADO", 10),
    ("ACORDO", 5),
    ("JA_PAGO", 4),
    ("CONTESTA", 2),
    ("TELEFONE_ERRADO", 2),
)
FRAME_TIMEOUT_S = 600.0


@dataclass
class BotTiming:
    """Seconds a bot waits at each step (scaled down for tests)."""

    confirm_s: tuple[float, float] = (1.0, 3.0)
    talk_s: tuple[float, float] = (20.0, 90.0)
    wrap_s: tuple[float, float] = (3.0, 10.0)


def disposition_for(code: str, call_id: str, rng: random.Random, now: datetime) -> dict[str, Any]:
    """A ``dispose`` message for ``code`` with the fields that outcome needs."""
    msg: dict[str, Any] = {"type": "dispose", "call_id": call_id, "code": code, "client_key": uuid.uuid4().hex}
    if code == "PROMESSA":
        msg["promise_amount"] = str(Decimal(rng.randrange(5_000, 80_000)) / 100)
        msg["promise_date"] = (now + timedelta(days=rng.randint(1, 10))).date().isoformat()
        msg["notes"] = "Cliente prometeu pagar via Pix."
    elif code == "RETORNAR":
        msg["callback_at"] = (now + timedelta(hours=rng.randint(2, 48))).isoformat()
        msg["callback_own"] = rng.random() < 0.5
        msg["notes"] = "Pediu retorno em outro horário."
    elif code == "RECUSA":
        msg["notes"] = "Não reconhece a necessidade de pagar agora."
    return msg


class Bot:
    """One bot agent; :meth:`run` works until cancelled."""

    def __init__(
        self,
        base_url: str,
        login: str,
        password: str,
        *,
        seed: int,
        timing: BotTiming | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self.base_url = base_url
        # promise and callback dates must be on the server's calendar (the demo's may be moved)
        self.clock = clock
        self.login = login
        self.password = password
        self.rng = random.Random(seed)
        self.timing = timing or BotTiming()
        self.calls = 0
        self.disposed: dict[str, int] = {}
        self.errors: list[str] = []

    def _pause(self, span: tuple[float, float]) -> float:
        return self.rng.uniform(*span)

    async def run(self) -> None:
        cookie = await log_in(self.base_url, self.login, self.password)
        client = DeskClient(self.base_url, cookie)
        await client.open()
        try:
            await client.request({"type": "set_state", "state": "ready"})
            seen = 0
            while True:
                if client.closed:
                    await asyncio.sleep(1.0)
                    await client.open(resume=True)
                try:
                    pop = await client.wait_for(lambda f: f.get("type") == "screen_pop", FRAME_TIMEOUT_S, seen, "a call")
                except DeskError:
                    if client.closed:
                        continue
                    raise
                seen = len(client.frames)
                await self._work_call(client, pop["call_id"], seen)
                seen = len(client.frames)
        finally:
            await client.close()

    async def _work_call(self, client: DeskClient, call_id: str, start: int) -> None:
        self.calls += 1
        ended = lambda f: f.get("type") == "call_ended" and f.get("call_id") == call_id  # noqa: E731

        def connected_or_ended(f: dict[str, Any]) -> bool:
            return ended(f) or (f.get("type") == "call_state" and f.get("call_id") == call_id and f.get("phase") == "connected")

        try:
            first = await client.wait_for(connected_or_ended, 30.0, start, "the customer on the line")
        except DeskError:
            return  # socket gone or the call vanished: the next pop (or a resume) tells what follows
        if first["type"] == "call_ended":
            return  # never reached the agent (hung up while being connected): nothing to dispose
        await asyncio.sleep(self._pause(self.timing.confirm_s))
        try:
            await client.request({"type": "confirm_identity", "call_id": call_id})
        except DeskError as exc:
            self.errors.append(str(exc))
        try:
            await client.wait_for(ended, self._pause(self.timing.talk_s), start, "the customer hanging up")
        except DeskError:
            if client.closed:
                return
            try:  # talked long enough: "Desligar"
                await client.request({"type": "hangup", "call_id": call_id})
            except DeskError as exc:
                self.errors.append(str(exc))
            await client.wait_for(ended, 30.0, start, "the call to end")
        await asyncio.sleep(self._pause(self.timing.wrap_s))
        codes, weights = zip(*OUTCOME_MIX, strict=True)
        code = self.rng.choices(codes, weights)[0]
        try:
            await client.request(disposition_for(code, call_id, self.rng, self.clock()))
            self.disposed[code] = self.disposed.get(code, 0) + 1
        except DeskError as exc:
            self.errors.append(str(exc))
            log.warning("bot %s: %s", self.login, exc)


class BotCrew:
    """The demo's bots, as tasks this object owns (stopped together, with a timeout)."""

    def __init__(self, bots: list[Bot]) -> None:
        self.bots = bots
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        for bot in self.bots:
            task = asyncio.create_task(bot.run(), name=f"demo-bot-{bot.login}")
            task.add_done_callback(self._report)
            self._tasks.append(task)

    @staticmethod
    def _report(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("%s stopped: %s", task.get_name(), task.exception())

    async def stop(self, timeout: float = 5.0) -> None:
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=timeout)
        self._tasks = []
