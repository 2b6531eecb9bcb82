"""``cobra demo --check``: the whole loop, headless, judged by what ends up in the database.

A websocket agent logs in over HTTP, goes ready, receives the screen-pop of a call the
simulator answered, confirms the identity, hangs up, disposes ``PROMESSA``; the outcome is
then read back from the database. Any step that does not happen in time fails the check
with the step's name.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from argon2 import PasswordHasher
from sqlalchemy import select

from dialer.clocks import BRASILIA
from scripting.money import format_brl
from storage.engine import create_engine, session_factory
from storage.models import AuditLog, CallAttempt, Customer, Outcome, OutcomeCode
from web.demo.bots import ServerClock
from web.demo.client import DeskClient, DeskError, log_in
from web.demo.seed import DEMO_PASSWORD, DEMO_USERS
from web.demo.service import DemoOptions, running_demo

CHECK_TIMEOUT_S = 45.0
STEP_TIMEOUT_S = 20.0
PROMISE_AMOUNT = Decimal("150.00")
# The check runs the simulator ten times faster than life: a customer rings ~0.6 s, not 6 s
CHECK_TIME_SCALE = 0.1


@dataclass(frozen=True, slots=True)
class CheckResult:
    ok: bool
    summary: str


async def _birth_date_of(db_url: str, call_id: str) -> str:
    """What the person on the check's call would say when asked their date of birth (dd/mm/aaaa)."""
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as db:
            attempt = await db.get(CallAttempt, call_id)
            customer = await db.get(Customer, attempt.customer_id) if attempt is not None and attempt.customer_id else None
    finally:
        await engine.dispose()
    if customer is None or customer.birth_date is None:
        raise DeskError(f"database: no birth date for the customer of call {call_id}")
    return customer.birth_date.strftime("%d/%m/%Y")


async def _agent_loop(url: str, login: str, db_url: str) -> tuple[str, float, str]:
    """Drive one agent through a call; (call id, seconds from ready to pop, customer greeting)."""
    step = "login"
    try:
        cookie = await log_in(url, login, DEMO_PASSWORD)
        step = "websocket"
        client = DeskClient(url, cookie)
        await client.open()
        try:
            await client.wait_for(lambda f: f["type"] == "hello", STEP_TIMEOUT_S, what="hello")
            step = "go ready"
            ready_at = time.monotonic()
            await client.request({"type": "set_state", "state": "ready"})
            await client.wait_for(
                lambda f: f["type"] == "agent_state" and f["state"] == "ready", STEP_TIMEOUT_S, what="state ready"
            )
            step = "screen-pop"
            pop = await client.wait_for(lambda f: f["type"] == "screen_pop", STEP_TIMEOUT_S, what="a screen-pop")
            call_id = pop["call_id"]
            waited = time.monotonic() - ready_at
            step = "connection to the agent"
            await client.wait_for(
                lambda f: f["type"] == "call_state" and f["call_id"] == call_id and f["phase"] == "connected",
                STEP_TIMEOUT_S, what="call connected",
            )
            step = "identity confirmation"  # asked of the person on the line, so once connected
            await client.request({"type": "verify_identity", "call_id": call_id, "method": "data_nascimento",
                                  "answer": await _birth_date_of(db_url, call_id)})
            await client.wait_for(
                lambda f: f["type"] == "screen_pop" and f.get("details") is not None, STEP_TIMEOUT_S, what="full pop"
            )
            step = "hang-up"
            await client.request({"type": "hangup", "call_id": call_id})
            await client.wait_for(
                lambda f: f["type"] == "call_ended" and f["call_id"] == call_id, STEP_TIMEOUT_S, what="call ended"
            )
            step = "disposition"
            server = ServerClock()
            for got in client.frames:
                server.note_frame(got.frame)
            await client.request(
                {
                    "type": "dispose",
                    "call_id": call_id,
                    "code": "PROMESSA",
                    "client_key": uuid.uuid4().hex,
                    "promise_amount": str(PROMISE_AMOUNT),
                    # the server's date, not this machine's: the demo's dialer may run days ahead
                    "promise_date": (server.now().astimezone(BRASILIA).date() + timedelta(days=3)).isoformat(),
                    "notes": "cobra demo --check",
                    # paused as it leaves wrap-up: no new call reaches it while the check stops the service
                    # (a call still live at the stop would be back on its screen at the next run)
                    "pause_after": "outros",
                }
            )
            return call_id, waited, pop["summary"]["greeting_name"]
        finally:
            await client.close()
    except DeskError as exc:
        raise DeskError(f"{step}: {exc}") from None


async def _stored(db_url: str, call_id: str) -> tuple[Outcome, CallAttempt, bool]:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as db:
            outcome = (await db.execute(select(Outcome).where(Outcome.attempt_id == call_id))).scalar_one_or_none()
            attempt = await db.get(CallAttempt, call_id)
            confirmed = (
                await db.execute(
                    select(AuditLog.id).where(AuditLog.action == "identity_confirmed", AuditLog.entity_id == call_id)
                )
            ).first() is not None
    finally:
        await engine.dispose()
    if outcome is None or attempt is None:
        raise DeskError(f"database: no outcome stored for call {call_id}")
    return outcome, attempt, confirmed


async def run_check(directory: Path | None = None, *, hasher: PasswordHasher | None = None) -> CheckResult:
    """Run the loop (in a temporary directory, removed afterwards, unless ``directory`` is given)."""
    started = time.monotonic()
    temp = Path(tempfile.mkdtemp(prefix="cobra-demo-check-")) if directory is None else None
    where = temp if temp is not None else directory
    assert where is not None
    options = DemoOptions(
        directory=where, port=0, customers=1000, time_scale=CHECK_TIME_SCALE, tick_s=0.1, hasher=hasher
    )
    login = next(u.login for u in DEMO_USERS if u.extension == "7001")
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S):
            async with running_demo(options) as demo:
                call_id, waited, greeting = await _agent_loop(demo.url, login, demo.config.database.url)
                outcome, attempt, confirmed = await _stored(demo.config.database.url, call_id)
    except DeskError as exc:
        return CheckResult(False, f"cobra demo --check: FAILED at {exc}")
    except TimeoutError:
        return CheckResult(False, f"cobra demo --check: FAILED: the loop did not finish within {CHECK_TIMEOUT_S:g} s")
    except Exception as exc:  # whatever broke (database, ports, simulator): the check reports it, in one line
        return CheckResult(False, f"cobra demo --check: FAILED: {type(exc).__name__}: {exc}")
    finally:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)
    problems = []
    if outcome.code is not OutcomeCode.PROMESSA or outcome.promise_amount != PROMISE_AMOUNT:
        problems.append(f"stored outcome is {outcome.code} {outcome.promise_amount}, not PROMESSA {PROMISE_AMOUNT}")
    if attempt.connected_at is None or attempt.ended_at is None:
        problems.append("the attempt has no connected/ended time")
    if not confirmed:
        problems.append("the identity confirmation was not stored")
    if problems:
        return CheckResult(False, "cobra demo --check: FAILED: " + "; ".join(problems))
    total = time.monotonic() - started
    return CheckResult(
        True,
        f"cobra demo --check: ok: {login} ready, pop after {waited:.1f} s for call {call_id} ({greeting}), "
        f"identity confirmed, PROMESSA {format_brl(PROMISE_AMOUNT)} stored as outcome #{outcome.id} "
        f"in {total:.1f} s",
    )
