"""``cobra demo --bots N``: bot agents log in over HTTP, take calls over the websocket and dispose them."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select

from storage.engine import create_engine, session_factory
from storage.models import Outcome, User
from tests.web.conftest import FAST_HASHER
from web.agent.http import AGENT_DESK
from web.demo.bots import OUTCOME_MIX, BotTiming
from web.demo.service import DemoOptions, running_demo

GUARD_S = 30.0


async def test_bots_work_calls_and_their_outcomes_are_stored(tmp_path: Path) -> None:
    quick = BotTiming(confirm_s=(0.01, 0.05), talk_s=(0.2, 0.4), wrap_s=(0.01, 0.05))
    options = DemoOptions(
        directory=tmp_path, port=0, bots=2, customers=1000, time_scale=0.1, tick_s=0.05, bot_timing=quick,
        hasher=FAST_HASHER,
    )
    async with running_demo(options) as demo:
        # the dialer judges calls in the simulator's seconds (pacing, short calls, QA flags)
        runtime = demo.app[AGENT_DESK].runtime
        assert runtime is not None and runtime.settings.clock_scale == options.time_scale
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
    finally:
        await engine.dispose()
    assert len(rows) >= 4
    assert {login for _, login in rows} == {"robo1", "robo2"}
    assert {code.value for code, _ in rows} <= {code for code, _ in OUTCOME_MIX}
