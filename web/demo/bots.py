"""Bot agents: websocket clients that work a shift like people do (``cobra demo --bots``, ``cobra bots``).

A bot logs in over HTTP (the login form and its CSRF token), opens ``/ws/agente``, goes
"Disponível", takes the calls the dialer connects (dialling previews itself), confirms the
identity, talks a while (or until the customer hangs up), and disposes with a realistic mix
of outcomes. A dropped socket is reopened with the last ``seq`` (resume). Asked to stop, a
bot finishes the call in hand, pauses, sends ``logout`` and closes its socket.

Dates a bot sends (promise dates, callback times) come from the server's clock as its
frames show it, never from this machine's: the demo runs its dialer on a clock moved into
business hours (see :mod:`dialer.clocks`), and a date that is "tomorrow" here may already
be in the past there.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from websockets.exceptions import WebSocketException

from dialer.clocks import BRASILIA
from web.demo.client import DeskClient, DeskError, Received, log_in

log = logging.getLogger(__name__)

T = TypeVar("T")

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
STEP_TIMEOUT_S = 30.0
LEAVE_TIMEOUT_S = 30.0
# the pause a stopping bot takes so that the dialer reserves it for no new call before logout
STOP_PAUSE_REASON = "outros"
# A bot with no one to ask (``cobra bots`` against another service) releases each call with
# this reason, which supervisors see as an override
DEMO_OVERRIDE_REASON = "Operador automático da demonstração (sem cliente real)"
# In the demo the simulated person on the line answers (see ``Bot.answers``): bots verify the
# identity the normal way, get it wrong first now and then, and release without a match
# rarely, each time with a reason an agent would write
OVERRIDE_SHARE = 0.04
WRONG_FIRST_SHARE = 0.08
OVERRIDE_REASONS: tuple[str, ...] = (
    "Cliente não lembra a data de nascimento; confirmou nome completo e endereço.",
    "Cliente recusou informar dados pessoais, pediu apenas o valor para pagamento.",
    "Data de nascimento divergente no cadastro; cliente confirmou CPF completo por telefone.",
)
NO_BIRTH_DATE_REASON = "Cadastro sem data de nascimento; cliente confirmou nome completo e endereço."
# The person's birth date for a call id (None: the record has none): what the simulated customer answers
Answers = Callable[[str], Awaitable[date | None]]
BUSY_STATES = ("reserved", "on_call", "wrap_up")


@dataclass(frozen=True)
class BotTiming:
    """Seconds a bot waits at each step (scaled down for tests and benchmarks)."""

    confirm_s: tuple[float, float] = (1.0, 3.0)
    talk_s: tuple[float, float] = (20.0, 90.0)
    wrap_s: tuple[float, float] = (3.0, 10.0)

    def faster(self, speed: float) -> BotTiming:
        """Every wait divided by ``speed`` (2 = twice as fast)."""
        if speed <= 0:
            raise ValueError("speed must be above zero")

        def scale(span: tuple[float, float]) -> tuple[float, float]:
            return span[0] / speed, span[1] / speed

        return replace(self, confirm_s=scale(self.confirm_s), talk_s=scale(self.talk_s), wrap_s=scale(self.wrap_s))


class ServerClock:
    """The server's "now", as read from the frames it sends (``hello.server_time``, ``screen_pop.created_at``).

    The desk and the dialer may each run on their own clock (the demo moves the dialer's
    forward); a date the bot sends must be "not in the past" for both, so the later of the
    two wins. Until a frame says otherwise, this machine's clock stands in.
    """

    def __init__(self) -> None:
        self._offset: timedelta | None = None

    def note(self, server_at: datetime, read_at: datetime | None = None) -> None:
        offset = server_at - (read_at or datetime.now(UTC))
        if self._offset is None or offset > self._offset:
            self._offset = offset

    def note_frame(self, frame: dict[str, Any]) -> None:
        stamp = frame.get("server_time") if frame.get("type") == "hello" else None
        if frame.get("type") == "screen_pop":
            stamp = frame.get("created_at")
        if isinstance(stamp, str):
            try:
                at = datetime.fromisoformat(stamp)
            except ValueError:
                return
            if at.tzinfo is not None:
                self.note(at)

    def now(self) -> datetime:
        return datetime.now(UTC) + (self._offset or timedelta())


def choose_offer(quote: dict[str, Any] | None, rng: random.Random) -> dict[str, Any] | None:
    """An ``agreement`` for ``dispose`` from one of the calculator's offers (None: nothing to close)."""
    offers = (quote or {}).get("offers") or []
    if not offers:
        return None
    offer = rng.choice(offers)
    terms: dict[str, Any] = {"kind": offer["kind"], "discount_pct": offer["discount_pct"]}
    if offer["kind"] == "parcelado":
        terms["installments"] = offer["installments_count"]
    return terms


def callback_time(now: datetime, rng: random.Random) -> datetime:
    """A weekday, 10:00–15:59 Brasília, one to three days ahead: inside the usual calling windows
    (the server refuses a callback outside the customer's window)."""
    day = now.astimezone(BRASILIA).date() + timedelta(days=rng.randint(1, 3))
    while day.weekday() >= 5:
        day += timedelta(days=1)
    local = datetime.combine(day, time(rng.randint(10, 15), rng.choice((0, 15, 30, 45))), tzinfo=BRASILIA)
    return local.astimezone(UTC)


def identity_messages(
    call_id: str, birth: date | None, rng: random.Random, override_share: float = OVERRIDE_SHARE
) -> list[dict[str, Any]]:
    """What a bot sends to settle the identity check, given what the person on the line answers.

    Mostly the right date of birth (sometimes a wrong one first, as people misspeak); rarely a
    release without a match, always with a reason; a record without a birth date is released
    saying so."""
    def verify(day: date) -> dict[str, Any]:
        return {"type": "verify_identity", "call_id": call_id, "method": "data_nascimento",
                "answer": day.strftime("%d/%m/%Y")}

    if birth is None:
        return [{"type": "override_identity", "call_id": call_id, "reason": NO_BIRTH_DATE_REASON}]
    draw = rng.random()
    if draw < override_share:
        return [{"type": "override_identity", "call_id": call_id, "reason": rng.choice(OVERRIDE_REASONS)}]
    if draw < override_share + WRONG_FIRST_SHARE:
        return [verify(birth + timedelta(days=rng.choice((-1, 1)))), verify(birth)]
    return [verify(birth)]


def disposition_for(
    code: str, call_id: str, rng: random.Random, now: datetime, quote: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A ``dispose`` message for ``code`` with the fields that outcome needs; ``now`` is the server's.

    ``ACORDO`` closes one of ``quote``'s offers (the calculator frame); without one it
    cannot be closed, so the customer only promises (``PROMESSA``).
    """
    agreement = choose_offer(quote, rng) if code == "ACORDO" else None
    if code == "ACORDO" and agreement is None:
        code = "PROMESSA"
    msg: dict[str, Any] = {"type": "dispose", "call_id": call_id, "code": code, "client_key": uuid.uuid4().hex}
    if code == "ACORDO":
        msg["agreement"] = agreement
        msg["notes"] = "Acordo fechado pela calculadora."
    elif code == "PROMESSA":
        # within what the server accepts: the policy's minimum up to the updated balance, by its last day
        limits = (quote or {}).get("promise") or {}
        low = Decimal(limits.get("minimum", "50.00"))
        high = max(low, min(Decimal(limits.get("maximum", "800.00")), Decimal("800.00")))
        cents = rng.randrange(int(low * 100), int(high * 100) + 1)
        msg["promise_amount"] = str(Decimal(cents) / 100)
        # Brasília's date: the server checks promise dates against its local "today"
        today = now.astimezone(BRASILIA).date()
        last = date.fromisoformat(limits["last_day"]) if "last_day" in limits else today + timedelta(days=10)
        msg["promise_date"] = (today + timedelta(days=rng.randint(1, max(1, min(10, (last - today).days))))).isoformat()
        msg["notes"] = "Cliente prometeu pagar via Pix."
    elif code == "RETORNAR":
        msg["callback_at"] = callback_time(now, rng).isoformat()
        msg["callback_own"] = rng.random() < 0.5
        msg["notes"] = "Pediu retorno em outro horário."
    elif code == "RECUSA":
        msg["notes"] = "Não reconhece a necessidade de pagar agora."
    return msg


@dataclass
class Bot:
    """One bot agent: :meth:`run` works until :meth:`stop` (then logs out) or until cancelled."""

    base_url: str
    login: str
    password: str = field(repr=False)
    seed: int = 0
    timing: BotTiming = field(default_factory=BotTiming)
    calls: int = 0
    disposed: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    state: str = "offline"  # the last agent_state the server sent
    login_error: str | None = None  # why this bot never started working (wrong password, unreachable URL)
    logged_out: bool = False  # the server acknowledged ``logout``
    clock: ServerClock = field(default_factory=ServerClock)
    # the person on the line's birth date by call id (the demo's simulated customers answer);
    # None: no one to ask, so every call is released with DEMO_OVERRIDE_REASON
    answers: Answers | None = field(default=None, repr=False)
    override_share: float = OVERRIDE_SHARE

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.started = asyncio.Event()  # set once the login succeeded or failed
        self._stop = asyncio.Event()

    @property
    def working(self) -> bool:
        return self.started.is_set() and self.login_error is None

    def stop(self) -> None:
        """Finish the call in hand, log out and close (what :meth:`run` does next)."""
        self._stop.set()

    def _pause(self, span: tuple[float, float]) -> float:
        return self.rng.uniform(*span)

    def _on_frame(self, got: Received) -> None:
        frame = got.frame
        if frame.get("type") == "agent_state":
            self.state = str(frame.get("state"))
        self.clock.note_frame(frame)

    async def _until_stop(self, aw: Awaitable[T]) -> T | None:
        """``aw``'s result, or None as soon as the bot is asked to stop."""
        task = asyncio.ensure_future(aw)
        stopper = asyncio.ensure_future(self._stop.wait())
        try:
            await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
        if task.done():
            return task.result()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return None

    async def run(self) -> None:
        try:
            cookie = await log_in(self.base_url, self.login, self.password)
            client = DeskClient(self.base_url, cookie, on_frame=self._on_frame)
            await client.open()
        except (DeskError, OSError, WebSocketException) as exc:
            self.login_error = str(exc) or type(exc).__name__
            self.started.set()
            return
        try:
            await client.wait_for(lambda f: f.get("type") == "hello", STEP_TIMEOUT_S, what="hello")
            self.started.set()
            await self._work(client)
        except DeskError as exc:
            if not self.started.is_set():
                self.login_error = f"websocket: {exc}"
                self.started.set()
            else:
                self.errors.append(str(exc))
                log.warning("bot %s: %s", self.login, exc)
        finally:
            try:
                if self.working:
                    await asyncio.wait_for(self._leave(client), LEAVE_TIMEOUT_S)
            except (DeskError, TimeoutError, OSError, WebSocketException) as exc:
                self.errors.append(f"logout: {exc or 'timed out'}")
            finally:
                await client.close()

    async def _reopen(self, client: DeskClient) -> bool:
        try:
            await client.open(resume=True)
            return True
        except (OSError, WebSocketException) as exc:
            self.errors.append(f"reconnect: {exc}")
            return False

    async def _work(self, client: DeskClient) -> None:
        await client.request({"type": "set_state", "state": "ready"})
        seen = 0
        while not self._stop.is_set():
            if client.closed:
                await self._until_stop(asyncio.sleep(1.0))
                if self._stop.is_set():
                    return
                await self._reopen(client)
                continue
            try:
                pop = await self._until_stop(
                    client.wait_for(lambda f: f.get("type") == "screen_pop", FRAME_TIMEOUT_S, seen, "a call")
                )
            except DeskError:
                if client.closed:
                    continue
                raise
            if pop is None:
                return  # asked to stop; _leave deals with a pop that came in meanwhile
            seen = len(client.frames)
            await self._work_call(client, pop["call_id"], seen)
            seen = len(client.frames)

    async def _work_call(self, client: DeskClient, call_id: str, start: int) -> None:
        self.calls += 1

        def ended(f: dict[str, Any]) -> bool:
            return f.get("type") == "call_ended" and f.get("call_id") == call_id

        def phase_or_ended(f: dict[str, Any]) -> bool:
            # back to ready/paused without a call_ended: the dialer dropped the call before it reached us
            if f.get("type") == "agent_state" and f.get("state") in ("ready", "paused"):
                return True
            return ended(f) or (
                f.get("type") == "call_state" and f.get("call_id") == call_id and f.get("phase") in ("connected", "preview")
            )

        try:
            first = await client.wait_for(phase_or_ended, STEP_TIMEOUT_S, start, "the customer on the line")
            if first["type"] == "call_state" and first["phase"] == "preview":
                # a preview campaign: the agent decides to dial ("Ligar"); a bot always does
                await client.request({"type": "dial", "call_id": call_id})
                first = await client.wait_for(
                    lambda f: ended(f) or (f.get("type") == "call_state" and f.get("call_id") == call_id
                                           and f.get("phase") == "connected"),
                    STEP_TIMEOUT_S * 2, start, "the customer on the line",
                )
        except DeskError as exc:
            if not client.closed:
                self.errors.append(str(exc))
            return  # socket gone or the call vanished: the next pop (or a resume) tells what follows
        if first["type"] in ("call_ended", "agent_state"):
            return  # never reached the agent (hung up while being connected): nothing to dispose
        if not self._stop.is_set():
            await self._until_stop(asyncio.sleep(self._pause(self.timing.confirm_s)))
        await self._settle_identity(client, call_id)
        hung_up = None
        if not self._stop.is_set():
            try:
                talk = self._pause(self.timing.talk_s)
                hung_up = await self._until_stop(client.wait_for(ended, talk, start, "the customer hanging up"))
            except DeskError:
                if client.closed:
                    return
        if hung_up is None:
            refused: DeskError | None = None
            try:  # talked long enough (or asked to stop): "Desligar"
                await client.request({"type": "hangup", "call_id": call_id})
            except DeskError as exc:
                refused = exc  # no error if the customer hung up at the same moment (call_ended follows)
            try:
                await client.wait_for(ended, STEP_TIMEOUT_S, start, "the call to end")
            except DeskError as exc:
                self.errors.append(str(refused or exc))
                return
        if not self._stop.is_set():
            await self._until_stop(asyncio.sleep(self._pause(self.timing.wrap_s)))
        await self._dispose(client, call_id, start)

    async def _settle_identity(self, client: DeskClient, call_id: str) -> None:
        if self.answers is None:
            messages = [{"type": "override_identity", "call_id": call_id, "reason": DEMO_OVERRIDE_REASON}]
        else:
            try:
                birth = await self.answers(call_id)
            except LookupError as exc:  # the call is not in the database (yet): no one to ask
                self.errors.append(f"identity: {exc}")
                birth = None
            messages = identity_messages(call_id, birth, self.rng, self.override_share)
        for msg in messages:
            try:
                await client.request(msg)
            except DeskError as exc:
                self.errors.append(str(exc))
                return

    async def _dispose(self, client: DeskClient, call_id: str, start: int) -> None:
        codes, weights = zip(*OUTCOME_MIX, strict=True)
        quote = None
        for got in client.frames[start:]:
            if got.frame.get("type") == "offers" and got.frame.get("call_id") == call_id:
                quote = got.frame.get("quote")
        msg = disposition_for(self.rng.choices(codes, weights)[0], call_id, self.rng, self.clock.now(), quote)
        if self._stop.is_set():
            msg["pause_after"] = STOP_PAUSE_REASON  # no new call between this one and the logout
        try:
            await client.request(msg)
            self.disposed[msg["code"]] = self.disposed.get(msg["code"], 0) + 1
        except DeskError as exc:
            self.errors.append(str(exc))
            log.warning("bot %s: %s", self.login, exc)

    async def _leave(self, client: DeskClient) -> None:
        """Pause (no new call), finish a call that arrived meanwhile, then ``logout``."""
        if client.closed and not await self._reopen(client):
            raise DeskError("socket closed, cannot log out")
        last: DeskError | None = None
        for _ in range(3):
            if self.state == "ready":
                try:
                    await client.request({"type": "set_state", "state": "pause", "reason": STOP_PAUSE_REASON})
                except DeskError as exc:
                    last = exc  # reserved for a call a moment ago: worked below
            if self.state in BUSY_STATES:
                pops = [i for i, got in enumerate(client.frames) if got.frame.get("type") == "screen_pop"]
                if pops:
                    pop = client.frames[pops[-1]].frame
                    already = any(
                        got.frame.get("type") == "ack" and got.frame.get("of") == "dispose"
                        and (got.frame.get("detail") or {}).get("call_id") == pop["call_id"]
                        for got in client.frames[pops[-1]:]
                    )
                    if not already:
                        await self._work_call(client, pop["call_id"], pops[-1] + 1)
                        continue
            try:
                await client.request({"type": "logout"})
            except DeskError as exc:
                last = exc
                continue
            self.logged_out = True
            return
        raise last or DeskError("could not log out")


@dataclass(frozen=True, slots=True)
class CrewSummary:
    """What a crew has done so far (one line for operators)."""

    bots: int
    working: int
    ready: int
    calls: int
    disposed: dict[str, int]
    errors: int
    logged_out: int

    def line(self) -> str:
        by_code = ", ".join(f"{code} {n}" for code, n in sorted(self.disposed.items(), key=lambda kv: (-kv[1], kv[0])))
        total = sum(self.disposed.values())
        return (
            f"{self.working}/{self.bots} logged in, {self.ready} ready; {self.calls} calls taken, "
            f"{total} disposed ({by_code or 'none'}); {self.errors} errors"
        )


class BotCrew:
    """Bots run as tasks this object owns; :meth:`stop` logs them out together, with a timeout."""

    def __init__(self, bots: list[Bot]) -> None:
        self.bots = bots
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        for bot in self.bots:
            task = asyncio.create_task(bot.run(), name=f"bot-{bot.login}")
            task.add_done_callback(self._report)
            self._tasks.append(task)

    @staticmethod
    def _report(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("%s stopped: %s", task.get_name(), task.exception())

    async def started(self) -> None:
        """Until every bot has logged in or failed to."""
        await asyncio.gather(*(bot.started.wait() for bot in self.bots))

    @property
    def running(self) -> int:
        return sum(1 for task in self._tasks if not task.done())

    def summary(self) -> CrewSummary:
        disposed: dict[str, int] = {}
        for bot in self.bots:
            for code, n in bot.disposed.items():
                disposed[code] = disposed.get(code, 0) + n
        return CrewSummary(
            bots=len(self.bots),
            working=sum(1 for b in self.bots if b.working),
            ready=sum(1 for b in self.bots if b.working and b.state == "ready"),
            calls=sum(b.calls for b in self.bots),
            disposed=disposed,
            errors=sum(len(b.errors) for b in self.bots),
            logged_out=sum(1 for b in self.bots if b.logged_out),
        )

    async def stop(self, timeout: float = LEAVE_TIMEOUT_S + 5.0) -> None:
        """Ask every bot to log out; whoever has not finished within ``timeout`` is cancelled."""
        for bot in self.bots:
            bot.stop()
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=timeout)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        self._tasks = []
