"""``cobra demo --bots N``: bot agents log in over HTTP, take calls over the websocket and dispose them."""

from __future__ import annotations

import asyncio
import random
from datetime import date
from pathlib import Path

from sqlalchemy import select

from storage.engine import create_engine, session_factory
from storage.models import AuditLog, Outcome, User
from tests.web.conftest import FAST_HASHER
from web.agent.http import AGENT_DESK
from web.demo.bots import (
    DEMO_OVERRIDE_REASON,
    NO_BIRTH_DATE_REASON,
    OUTCOME_MIX,
    OVERRIDE_REASONS,
    BotTiming,
    identity_messages,
)
from web.demo.service import DemoOptions, running_demo

GUARD_S = 30.0


async def test_bots_work_calls_and_their_outcomes_are_stored(tmp_path: Path) -> None:
    quick = BotTiming(confirm_s=(0.01, 0.05), talk_s=(0.2, 0.4), wrap_s=(0.01, 0.05))
    options = DemoOptions(
        directory=tmp_path, port=0, bots=2, customers=1000, time_scale=0.1, tick_s=0.05, bot_timing=quick,
        hasher=FAST_HASHER,
    )
    async with running_demo(options) as demo:
        # the QA flags judge calls in the simulator's seconds (a short call is short in demo time)
        runtime = demo.app[AGENT_DESK].runtime
        assert runtime is not None and runtime.settings.qa_time_scale == options.time_scale
        loop = asyncio.get_running_loop()
        deadline = loop.time() + GUARD_S
        while sum(sum(b.disposed.values()) for b in demo.crew.bots) < 4:
            assert loop.time() < deadline, f"bots disposed too little: {[b.disposed for b in demo.crew.bots]}"
            await asyncio.sleep(0.1)
        assert all(b.calls >= 1 and not b.errors for b in demo.crew.bots), [b.errors for b in demo.crew.bots]
    engine = create_engine(demo.config.database.url)
    try:
        async with session_factory(engine)() as db:
            rows = (await db.execute(select(Outcome.code, User.login).join(User, User.id == Outcome.agent_id))).all()
            audits = (await db.execute(select(AuditLog.action, AuditLog.after)
                                       .where(AuditLog.action.in_(("identity_attempt", "identity_override"))))).all()
    finally:
        await engine.dispose()
    # the simulated person answers: bots verify the identity the normal way, and release rarely, with a reason
    matched = [after for action, after in audits if action == "identity_attempt" and after["matched"]]
    overrides = [after for action, after in audits if action == "identity_override"]
    assert len(matched) >= 4 and len(overrides) < len(matched), audits
    assert all(o["reason"] and o["reason"] != DEMO_OVERRIDE_REASON for o in overrides)
    assert len(rows) >= 4
    assert {login for _, login in rows} == {"robo1", "robo2"}
    assert {code.value for code, _ in rows} <= {code for code, _ in OUTCOME_MIX}


def test_bots_verify_the_identity_mostly_and_release_rarely_with_a_reason() -> None:
    rng = random.Random(3)
    birth = date(1980, 5, 17)
    plans = [identity_messages("c1", birth, rng) for _ in range(2000)]
    overrides = [p for p in plans if p[0]["type"] == "override_identity"]
    assert 0.01 < len(overrides) / len(plans) < 0.08  # about OVERRIDE_SHARE (4 %): rare
    assert {p[0]["reason"] for p in overrides} <= set(OVERRIDE_REASONS)
    verified = [p for p in plans if p[0]["type"] == "verify_identity"]
    # every verification ends with the right date, as the page sends it (dd/mm/aaaa)
    assert all(p[-1]["answer"] == "17/05/1980" and p[-1]["method"] == "data_nascimento" for p in verified)
    assert any(len(p) == 2 and p[0]["answer"] != "17/05/1980" for p in verified)  # now and then misspoken first
    # a record with no birth date: released, saying why
    assert identity_messages("c2", None, rng) == [
        {"type": "override_identity", "call_id": "c2", "reason": NO_BIRTH_DATE_REASON}
    ]
