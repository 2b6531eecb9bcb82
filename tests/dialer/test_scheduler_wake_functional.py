"""Dialing on an agent's ready, a pass's claims in one transaction, and agents freed before their
outcome's write (issue 10): real simulator over TCP, real SQLite file built by the migrations.

No timing is asserted: the periodic tick is kept from dialing (its passes are skipped) so that
what dials is the wake alone, and the writer is held by a job of the test's own where the order
of "agent ready" and "outcome stored" is the point."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from dialer import runtime as runtime_module
from dialer.agents.desktop import Disposition
from dialer.agents.state import AgentState, PauseReason
from dialer.ami.gateway import AmiGateway, AmiSettings
from dialer.leads.hopper import ClaimedLead, Hopper
from dialer.runtime import DialerRuntime, DialerSettings
from dialer.simulator.server import SimulatorServer
from storage.engine import create_engine, session_factory
from storage.models import Lead, LeadState, Outcome
from storage.repositories.hopper import NewAttempt
from tests.dialer.runtime_support import (
    RecordingNotifier,
    actions,
    add_agent,
    add_campaign,
    add_lead,
    business_clock,
    eventually,
    migrated_copy,
)

TIME_SCALE = 0.1


class CountingHopper(Hopper):
    """The real hopper, noting how many agents each batched claim was for."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.batches: list[int] = []

    async def claim_many(
        self, campaign_id: int, now_utc: datetime, agents: Sequence[int | None], *, preview: bool = False,
        attempt_for: Callable[[int, ClaimedLead], NewAttempt] | None = None,
    ) -> list[ClaimedLead]:
        self.batches.append(len(agents))
        return await super().claim_many(campaign_id, now_utc, agents, preview=preview, attempt_for=attempt_for)


@pytest.fixture
async def parts(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[dict[str, Any]]:
    url = migrated_copy(tmp_path / "cobra.db", tmp_path_factory.getbasetemp())
    engine = create_engine(url)
    sim = SimulatorServer(host="127.0.0.1", port=0, username="cobra", secret="cobra", time_scale=TIME_SCALE)
    await sim.start()
    gw = AmiGateway(
        AmiSettings(host="127.0.0.1", port=sim.port, username="cobra", secret="cobra", ping_interval_s=60.0,
                    action_timeout_s=3.0, reconnect_initial_s=0.02, reconnect_max_s=0.2)
    )
    await gw.start()
    db = session_factory(engine)
    notifier = RecordingNotifier(sim)
    settings = DialerSettings(connect_window_s=0.3, ring_timeout_s=25.0, tick_s=0.05, recordings_dir=tmp_path / "rec")
    runtime = DialerRuntime(sessions=db, gateway=gw, notifier=notifier, settings=settings, clock=business_clock())
    hopper = CountingHopper(db, claimer=settings.claimer)
    runtime.scheduler.hopper = hopper
    yield {"sim": sim, "db": db, "runtime": runtime, "hopper": hopper, "notifier": notifier}
    await runtime.stop()
    await gw.stop()
    await sim.stop()
    await engine.dispose()


def _customer_originates(sim: SimulatorServer) -> list[Any]:
    return [a for a in actions(sim, "Originate") if a.get("Context") == "cobra-outbound"]


def _ticks_never_dial(runtime: DialerRuntime) -> list[bool]:
    """Skip the periodic tick's passes (the safety net): what dials then is a wake. Returns the passes run."""
    scheduler = runtime.scheduler
    real = scheduler._pass
    passes: list[bool] = []

    async def only_wakes(*, refresh: bool) -> None:
        if refresh:
            return
        passes.append(refresh)
        await real(refresh=refresh)

    scheduler._pass = only_wakes  # type: ignore[method-assign]
    return passes


async def _ready_then_paused(runtime: DialerRuntime, agents: list[int], campaign_id: int) -> None:
    """Each agent's phone in the conference, then paused; then the (paused) campaign started.

    The campaign only runs once every agent is paused: no dialing pass is in flight when the
    test's leads are stored (a pass woken by these readies would race the test)."""
    for agent in agents:
        await runtime.go_ready(agent)
    await eventually(lambda: all(runtime.status(a).state is AgentState.READY for a in agents), "agents ready")
    for agent in agents:
        await runtime.pause(agent, PauseReason.LANCHE)
    await runtime.set_campaign_running(campaign_id, True)


async def test_agents_turning_ready_wake_the_dialing_and_one_pass_claims_for_all(parts: dict[str, Any]) -> None:
    runtime, sim, hopper = parts["runtime"], parts["sim"], parts["hopper"]
    async with parts["db"].begin() as s:
        agents = [(await add_agent(s, name, ext)).id for name, ext in (("ana", "7001"), ("bia", "7002"), ("caio", "7003"))]
        campaign = await add_campaign(s, running=False)
    await runtime.start()
    passes = _ticks_never_dial(runtime)
    await _ready_then_paused(runtime, agents, campaign.id)
    async with parts["db"].begin() as s:
        for n in range(3):
            await add_lead(s, campaign, f"551198765000{n}", cpf=f"1234567890{n}")
    # three agents back from their pause in the same instant (no await yields in between)
    for agent in agents:
        await runtime.go_ready(agent)
    dialled = await eventually(lambda: len(_customer_originates(sim)) == 3 and _customer_originates(sim), "3 calls")
    assert sorted(a.get("Channel") for a in dialled) == [f"Local/551198765000{n}@cust-sim" for n in range(3)]
    # one wake pass, one transaction for the three claims
    assert hopper.batches == [3]
    assert passes and runtime.scheduler.wake_passes >= 1


async def test_a_failed_batched_claim_claims_nothing_and_the_next_wake_dials(
    parts: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    runtime, sim = parts["runtime"], parts["sim"]
    async with parts["db"].begin() as s:
        agents = [(await add_agent(s, name, ext)).id for name, ext in (("ana", "7001"), ("bia", "7002"))]
        campaign = await add_campaign(s, running=False)
    await runtime.start()
    _ticks_never_dial(runtime)
    await _ready_then_paused(runtime, agents, campaign.id)
    async with parts["db"].begin() as s:
        for n in range(2):
            await add_lead(s, campaign, f"551198765000{n}", cpf=f"1234567890{n}")
    real_pick = Hopper._pick
    picks: list[int] = []

    def second_pick_breaks(self: Hopper, q: Any, *args: Any) -> Any:
        picks.append(1)
        if len(picks) == 2:
            raise OperationalError("UPDATE leads", {}, sqlite3.OperationalError("disk I/O error"))
        return real_pick(self, q, *args)

    Hopper._pick = second_pick_breaks  # type: ignore[method-assign,assignment]
    try:
        for agent in agents:
            await runtime.go_ready(agent)
        await eventually(lambda: any(f"campaign {campaign.id} failed" in r.getMessage() for r in caplog.records),
                         "the failed claim logged")
        # the first pick of the batch was rolled back with the second: no lead is left claimed
        async with parts["db"]() as s:
            claimed = await s.scalar(select(func.count()).select_from(Lead).where(Lead.state == LeadState.IN_PROGRESS))
        assert claimed == 0 and not _customer_originates(sim)
    finally:
        Hopper._pick = real_pick  # type: ignore[method-assign]
    # a pause and a ready again wake the dialing, past the campaign's backoff
    runtime.scheduler.claim_backoff.succeeded(campaign.id)
    for agent in agents:
        await runtime.pause(agent, PauseReason.LANCHE)
        await runtime.go_ready(agent)
    await eventually(lambda: len(_customer_originates(sim)) == 2, "both customers dialled")


async def _in_wrap_up(parts: dict[str, Any]) -> tuple[int, str, int]:
    """An agent whose call connected and ended: (agent id, call id, lead id)."""
    runtime = parts["runtime"]
    async with parts["db"].begin() as s:
        agent = (await add_agent(s, "ana", "7001")).id
        campaign = await add_campaign(s)
        lead = (await add_lead(s, campaign, "5511987650001")).id
    await runtime.start()
    await runtime.go_ready(agent)
    await eventually(lambda: runtime.status(agent).state is AgentState.WRAP_UP, "call connected then ended")
    pop = parts["notifier"].pops(agent)[0]
    return agent, pop.call_id, lead


async def _outcomes(parts: dict[str, Any]) -> int:
    async with parts["db"]() as s:
        return int(await s.scalar(select(func.count()).select_from(Outcome)) or 0)


async def test_ready_first_frees_the_agent_before_the_outcome_is_written_and_still_writes_it(
    parts: dict[str, Any],
) -> None:
    runtime = parts["runtime"]
    agent, call_id, lead_id = await _in_wrap_up(parts)
    await runtime.pause(agent, PauseReason.LANCHE)  # no next call for this test: the pause applies after the outcome
    held, release = asyncio.Event(), asyncio.Event()

    async def hold_the_writer(db: AsyncSession) -> None:
        held.set()
        await release.wait()

    runtime.writer.later(hold_the_writer)
    await held.wait()
    d = Disposition(call_id=call_id, code="RECUSA", client_key="k-1")
    disposing = asyncio.ensure_future(runtime.dispose(agent, d, ready_first=True))
    await eventually(lambda: runtime.status(agent).state is AgentState.PAUSED, "the wrap-up over")
    assert not disposing.done() and await _outcomes(parts) == 0  # freed while the outcome waits in the queue
    release.set()
    result = await disposing
    assert not result.duplicate and await _outcomes(parts) == 1
    async with parts["db"]() as s:
        lead = await s.get(Lead, lead_id)
        assert lead is not None and lead.state is not LeadState.IN_PROGRESS and lead.last_result == "RECUSA"
    # the same key again answers from what was stored
    again = await runtime.dispose(agent, d, ready_first=True)
    assert again.duplicate and again.outcome_id == result.outcome_id


async def test_without_ready_first_the_wrap_up_ends_only_once_the_outcome_is_stored(parts: dict[str, Any]) -> None:
    runtime = parts["runtime"]
    agent, call_id, _ = await _in_wrap_up(parts)
    held, release = asyncio.Event(), asyncio.Event()

    async def hold_the_writer(db: AsyncSession) -> None:
        held.set()
        await release.wait()

    runtime.writer.later(hold_the_writer)
    await held.wait()
    disposing = asyncio.ensure_future(runtime.dispose(agent, Disposition(call_id=call_id, code="RECUSA", client_key="k-1")))
    await asyncio.sleep(0)  # the disposition is queued behind the held job
    assert runtime.status(agent).state is AgentState.WRAP_UP
    release.set()
    await disposing
    assert await _outcomes(parts) == 1 and runtime.status(agent).state is not AgentState.WRAP_UP


async def test_an_outcome_that_cannot_be_stored_after_the_agent_was_freed_is_loud(
    parts: dict[str, Any], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    runtime, notifier = parts["runtime"], parts["notifier"]
    agent, call_id, _ = await _in_wrap_up(parts)
    await runtime.pause(agent, PauseReason.LANCHE)

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("INSERT INTO outcomes", {}, sqlite3.OperationalError("disk I/O error"))

    monkeypatch.setattr(runtime_module, "store_disposition", broken)
    with pytest.raises(OperationalError):
        await runtime.dispose(agent, Disposition(call_id=call_id, code="RECUSA", client_key="k-1"), ready_first=True)
    assert runtime.status(agent).state is AgentState.PAUSED  # freed all the same
    assert runtime.disposition_failures == 1 and await _outcomes(parts) == 0
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR and call_id in r.getMessage()]
    assert errors and "NOT stored" in errors[0].getMessage()
    assert [r.payload[0] for r in notifier.of("error", agent)] == ["disposition_not_stored"]
