"""What a stopped or dead dialer leaves behind is settled by the next one (real runtime, simulator, SQLite file)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from datetime import timedelta

from sqlalchemy import select

from dialer.agents.desktop import CallPhase, Disposition
from dialer.agents.state import AgentState
from dialer.runtime import DialerRuntime
from storage.models import CallAttempt, CallResult, CampaignMode, Lead, LeadState
from tests.dialer.runtime_support import (
    RecordingNotifier,
    actions,
    add_agent,
    add_campaign,
    add_lead,
    eventually,
)
from tests.dialer.test_runtime_functional import Rig, rig  # noqa: F401  (rig: the fixture)


def _dead_pid() -> int:
    """The pid of a process that has just ended (its leases are a dead owner's)."""
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    return int(proc.stdout)


async def test_a_wrap_up_left_by_a_stop_is_disposed_after_the_restart(rig: Rig) -> None:  # noqa: F811
    # finding of the security probe: "a disposition in wrap-up at the crash can't be stored after restart"
    async with rig.db.begin() as s:
        agent = await add_agent(s, "ana", "7001")
        campaign = await add_campaign(s)
        await add_lead(s, campaign, "5511987650001")
    await rig.runtime.start()
    await rig.runtime.go_ready(agent.id)
    await eventually(lambda: rig.runtime.status(agent.id).state is AgentState.WRAP_UP, "a call talked and ended")
    call_id = rig.runtime.current_pop(agent.id).call_id  # type: ignore[union-attr]
    await rig.runtime.stop()

    again = DialerRuntime(
        sessions=rig.db,
        gateway=rig.gw,
        notifier=RecordingNotifier(rig.sim),
        settings=rig.runtime.settings,
        clock=rig.clock,
    )
    rig.runtime = again
    try:
        await again.start()
        assert again.status(agent.id).state is AgentState.WRAP_UP
        assert again.current_pop(agent.id) is not None and again.current_pop(agent.id).call_id == call_id  # type: ignore[union-attr]
        result = await again.dispose(agent.id, Disposition(call_id, "RECUSA", "k-after-restart"))
        assert not result.duplicate
        await again.go_ready(agent.id)  # the leg stayed in the conference: adopted, not rung again
        assert again.status(agent.id).state is AgentState.READY
        assert len([m for m in actions(rig.sim, "Originate") if m.get("Channel") == "Local/7001@agent-sim"]) == 1

    finally:
        await again.stop()  # the fixture stops only the runtime it made


async def test_attempts_and_leases_of_a_dead_owner_are_settled_at_start(rig: Rig) -> None:  # noqa: F811
    dead = f"{socket.gethostname()[:40]}:{_dead_pid()}"
    now = rig.clock()
    async with rig.db.begin() as s:
        campaign = await add_campaign(s, running=False)
        lead = await add_lead(s, campaign, "5511987650003")
        lead.state, lead.claimed_by, lead.claim_expires_at = LeadState.IN_PROGRESS, dead, now + timedelta(minutes=10)
        s.add(
            CallAttempt(
                id="orphan-ringing",
                campaign_id=campaign.id,
                lead_id=lead.id,
                customer_id=lead.customer_id,
                mode=CampaignMode.PROGRESSIVE,
                number="+5511987650003",
                pbx_name=rig.runtime.settings.pbx_name,
                created_at=now - timedelta(seconds=30),
                originated_at=now - timedelta(seconds=30),
            )
        )
        other = await add_lead(s, campaign, "5511987650004", cpf="52998224725")
        other.state, other.claimed_by, other.claim_expires_at = (
            LeadState.IN_PROGRESS,
            "elsewhere:1",
            now - timedelta(minutes=1),
        )
    await rig.runtime.start()

    async def settled() -> bool:
        async with rig.db() as s:
            attempt = await s.get(CallAttempt, "orphan-ringing")
            return attempt is not None and attempt.ended_at is not None

    for _ in range(200):
        if await settled():
            break
        await asyncio.sleep(0.02)
    async with rig.db() as s:
        attempt = await s.get(CallAttempt, "orphan-ringing")
        leads = {row.id: row for row in (await s.execute(select(Lead))).scalars()}
    assert attempt is not None and attempt.result is CallResult.FAILED and attempt.ended_at is not None
    assert leads[lead.id].state is not LeadState.IN_PROGRESS, "a dead process's lease is given back at start"
    assert leads[other.id].state is LeadState.DIALABLE, "an expired lease of any process is given back"


async def test_live_calls_keep_their_lease_and_expired_ones_are_given_back(rig: Rig) -> None:  # noqa: F811
    async with rig.db.begin() as s:
        agent = await add_agent(s, "bia", "7002")
        campaign = await add_campaign(s)
        await add_lead(s, campaign, "5511987650001")
    await rig.runtime.start()
    await rig.runtime.go_ready(agent.id)
    await eventually(
        lambda: [r for r in rig.notifier.of("call_state", agent.id) if r.payload[1] is CallPhase.CONNECTED], "connected"
    )
    async with rig.db.begin() as s:  # a lease nobody renews: another process died long ago
        stale = await add_lead(s, campaign, "5511987650005", cpf="52998224725")
        stale.state, stale.claimed_by = LeadState.IN_PROGRESS, "gone-host:42"
        stale.claim_expires_at = rig.clock() - timedelta(seconds=1)
    renewed, released = await rig.runtime.scheduler.maintain_leases()
    assert renewed >= 1 and released == 1


async def test_a_clean_stop_leaves_no_attempt_open_and_no_lead_in_progress(rig: Rig) -> None:  # noqa: F811
    async with rig.db.begin() as s:
        agent = await add_agent(s, "caio", "7003")
        campaign = await add_campaign(s, CampaignMode.PREDICTIVE)
        for i in range(6):
            await add_lead(s, campaign, f"551198765{i:03d}3", cpf="52998224725" if i % 2 else "12345678909")  # ring 2 s
    await rig.runtime.start()
    await rig.runtime.go_ready(agent.id)
    await eventually(lambda: len(rig.runtime.floor.calls) >= 1, "calls ringing")
    await rig.runtime.stop()
    async with rig.db() as s:
        open_attempts = (await s.execute(select(CallAttempt).where(CallAttempt.ended_at.is_(None)))).scalars().all()
        busy = (await s.execute(select(Lead).where(Lead.state == LeadState.IN_PROGRESS))).scalars().all()
    assert open_attempts == [] and busy == []
    assert os.getpid() > 0  # (the runtime's own lease owner was this process)
