"""The scheduler survives a failed claim, store or tick: a fault in one tick never wedges a campaign.

Real simulator over TCP, real SQLite file; the fault is injected at the hopper / writer boundary
(a wrapper that raises once, like the "attempt to write a readonly database" a pick once raised)."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from dialer.agents.state import AgentState
from dialer.ami.gateway import AmiGateway, AmiSettings
from dialer.leads.hopper import ClaimedLead, Hopper
from dialer.runtime import DialerRuntime, DialerSettings
from dialer.simulator.server import SimulatorServer
from storage.engine import create_engine, session_factory
from storage.models import Lead, LeadState
from storage.repositories.hopper import NewAttempt, PickQueries
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


class FlakyHopper(Hopper):
    """The real hopper, whose next ``fail`` picks raise as a broken database connection would."""

    fail = 0
    picks = 0
    broken_picks = 0
    broken: frozenset[int] = frozenset()  # campaigns whose every pick raises

    async def claim_next(
        self, campaign_id: int, now_utc: datetime, *, agent_id: int | None = None, preview: bool = False
    ) -> ClaimedLead | None:
        self.picks += 1
        if campaign_id in self.broken:
            self.broken_picks += 1
            raise sqlite3.OperationalError("disk I/O error")
        if self.fail > 0:
            self.fail -= 1
            raise sqlite3.OperationalError("attempt to write a readonly database")
        return await super().claim_next(campaign_id, now_utc, agent_id=agent_id, preview=preview)

    async def claim_many(
        self, campaign_id: int, now_utc: datetime, agents: Sequence[int | None], *, preview: bool = False,
        attempt_for: Callable[[int, ClaimedLead], NewAttempt] | None = None,
    ) -> list[ClaimedLead]:
        # the scheduler's batched claim: one transaction for the request, failing as a whole
        self.picks += 1
        if campaign_id in self.broken:
            self.broken_picks += 1
            raise sqlite3.OperationalError("disk I/O error")
        if self.fail > 0:
            self.fail -= 1
            raise sqlite3.OperationalError("attempt to write a readonly database")
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
    settings = DialerSettings(connect_window_s=0.3, ring_timeout_s=25.0, tick_s=0.02, recordings_dir=tmp_path / "rec")
    runtime = DialerRuntime(sessions=db, gateway=gw, notifier=RecordingNotifier(sim), settings=settings,
                            clock=business_clock())
    hopper = FlakyHopper(db, claimer=settings.claimer)
    runtime.scheduler.hopper = hopper
    yield {"sim": sim, "db": db, "runtime": runtime, "hopper": hopper}
    await runtime.stop()
    await gw.stop()
    await sim.stop()
    await engine.dispose()


def _customer_originates(sim: SimulatorServer) -> list[Any]:
    return [a for a in actions(sim, "Originate") if a.get("Context") == "cobra-outbound"]


async def test_a_failed_pick_does_not_stop_the_campaign(parts: dict[str, Any]) -> None:
    runtime, sim, hopper = parts["runtime"], parts["sim"], parts["hopper"]
    async with parts["db"].begin() as s:
        agent = await add_agent(s, "ana", "7001")
        campaign = await add_campaign(s)
        await add_lead(s, campaign, "5511987650001")
    hopper.fail = 1
    await runtime.start()
    await runtime.go_ready(agent.id)
    await eventually(lambda: runtime.status(agent.id).state is AgentState.READY, "agent ready")
    await eventually(lambda: hopper.picks >= 2, "a pick after the failed one")
    await eventually(lambda: _customer_originates(sim), "the customer dialled after the failed pick")


async def test_a_campaign_whose_picks_keep_failing_does_not_starve_the_others(
    parts: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    runtime, sim, hopper = parts["runtime"], parts["sim"], parts["hopper"]
    async with parts["db"].begin() as s:
        ana = await add_agent(s, "ana", "7001")
        bia = await add_agent(s, "bia", "7002")
        broken = await add_campaign(s, name="Quebrada")
        healthy = await add_campaign(s, name="Saudável")
        await add_lead(s, broken, "5511987650001")
        await add_lead(s, healthy, "5511987650002")
    hopper.broken = frozenset({broken.id})
    await runtime.start()
    for agent in (ana, bia):
        await runtime.go_ready(agent.id)
    await eventually(
        lambda: all(runtime.status(a.id).state is AgentState.READY for a in (ana, bia)), "both agents ready"
    )
    dialled = await eventually(lambda: _customer_originates(sim), "the healthy campaign's customer dialled")
    assert dialled[0].get("Channel") == "Local/5511987650002@cust-sim"
    # the broken campaign is retried with backoff, its run of failures logged once
    await eventually(lambda: hopper.broken_picks >= 2, "the broken campaign tried again")
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR and f"campaign {broken.id}" in r.getMessage()]
    assert len(errors) == 1 and errors[0].exc_info is not None
    assert runtime.scheduler.claim_backoff.failing[broken.id].count >= 2


async def test_a_background_task_that_dies_is_reported_not_silent(
    parts: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    runtime = parts["runtime"]

    async def broken_loop() -> None:
        raise RuntimeError("a bug in the daily re-ranking")

    runtime.scheduler.daily_reprioritise = broken_loop
    await runtime.start()
    died = await eventually(
        lambda: [r for r in caplog.records if r.levelno == logging.CRITICAL and "dialer-daily-reprioritise" in r.getMessage()],
        "the dead task reported",
    )
    assert isinstance(died[0].exc_info[1], RuntimeError)
    await runtime.stop()
    assert len([r for r in caplog.records if r.levelno == logging.CRITICAL]) == 1  # a stop is no fault


async def test_a_failed_attempt_store_claims_nothing_and_the_next_tick_dials_the_lead(
    parts: dict[str, Any], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    runtime, sim = parts["runtime"], parts["sim"]
    async with parts["db"].begin() as s:
        agent = await add_agent(s, "ana", "7001")
        campaign = await add_campaign(s)
        lead = await add_lead(s, campaign, "5511987650001")
    real_store = PickQueries.insert_attempt
    failures = [OperationalError("INSERT INTO call_attempts", {}, sqlite3.OperationalError("disk I/O error"))]

    def store_once_broken(self: PickQueries, attempt: Any) -> None:
        # the attempt is stored in the claim's transaction: its failure rolls the claim back too
        if failures:
            raise failures.pop()
        real_store(self, attempt)

    monkeypatch.setattr(PickQueries, "insert_attempt", store_once_broken)
    await runtime.start()
    await runtime.go_ready(agent.id)
    dialled = await eventually(lambda: _customer_originates(sim), "the customer dialled after the failed store")
    assert not failures and dialled[0].get("Channel") == "Local/5511987650001@cust-sim"
    async with parts["db"]() as s:
        stored = await s.get(Lead, lead.id)
        assert stored is not None and stored.state is LeadState.IN_PROGRESS  # claimed again, by this call
    assert any("campaign tick" not in r.getMessage() and f"campaign {campaign.id} failed" in r.getMessage()
               for r in caplog.records if r.levelno == logging.ERROR)
    assert any(f"claims for campaign {campaign.id} work again after 1 failure" in r.getMessage() for r in caplog.records)
