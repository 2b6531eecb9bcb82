"""The running dialer calls only whom SPEC §4 allows, in the hopper's order.

Real simulator over TCP and a real SQLite file built by the migrations (the ``rig`` of
``test_runtime_functional``), with the dialer's clock at 11:00 of a business day. Each
test seeds leads the rules must hold back with a BETTER rank than an eligible one, so the
eligible lead being dialled proves the held-back ones were looked at and passed over.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from dialer.agents.state import AgentState
from storage.models import CallAttempt, CallResult, CampaignMode, CustomerHold, DncEntry, DncKind, HoldKind, Lead, Phone
from tests.dialer.runtime_support import DUE_SINCE, GUARD_S, actions, add_agent, add_campaign, add_lead, eventually
from tests.dialer.test_runtime_functional import Rig, rig  # noqa: F401  (rig: the fixture)

OTHER_CPF = "52998224725"


async def _start_with_agent(rig: Rig) -> int:  # noqa: F811
    async with rig.db.begin() as s:
        agent = await add_agent(s, "ana", "7001")
    await rig.runtime.start()
    await rig.runtime.go_ready(agent.id)
    await eventually(lambda: rig.runtime.status(agent.id).state is AgentState.READY, "agent ready")
    return agent.id


def _dialled(rig: Rig) -> list[str]:  # noqa: F811
    """The customer numbers the dialer originated, in order (agent legs left out)."""
    return [m["Channel"].split("/")[1].split("@")[0] for m in actions(rig.sim, "Originate") if "@cust-sim" in m["Channel"]]


async def _attempted_numbers(rig: Rig) -> set[str]:  # noqa: F811
    async with rig.db() as s:
        return set((await s.execute(select(CallAttempt.number).where(CallAttempt.lead_id.is_not(None)))).scalars())


async def _held_back(rig: Rig, lead_id: int) -> Lead:  # noqa: F811
    """The lead once the hopper has looked at it and pushed it to when it may be dialled."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + GUARD_S
    while True:
        async with rig.db() as s:
            lead = await s.get(Lead, lead_id)
        assert lead is not None
        if lead.next_attempt_at is not None and lead.next_attempt_at > DUE_SINCE:
            return lead
        assert loop.time() < deadline, f"lead {lead_id} was never looked at"
        await asyncio.sleep(0.02)


async def _wait_dialled(rig: Rig, number: str) -> None:  # noqa: F811
    await eventually(lambda: number in _dialled(rig), f"{number} originated")


async def test_a_lead_outside_its_calling_window_is_never_dialled(rig: Rig) -> None:  # noqa: F811
    async with rig.db.begin() as s:
        closed = await add_campaign(s, name="Carteira fechada")
        closed.window_override = {"sun": "08:00-09:00"}  # the clock is on a weekday: closed now
        open_ = await add_campaign(s, name="Carteira aberta")
        shut_lead = await add_lead(s, closed, "5511987651001", priority=0)
        await add_lead(s, open_, "5511987651002", priority=5)
    await _start_with_agent(rig)
    await _wait_dialled(rig, "5511987651002")
    lead = await _held_back(rig, shut_lead.id)
    assert lead.next_attempt_at is not None and lead.next_attempt_at > rig.clock()  # at the window's next opening
    assert "5511987651001" not in _dialled(rig)
    assert "+5511987651001" not in await _attempted_numbers(rig)


async def test_customers_on_the_do_not_call_list_by_phone_or_cpf_are_never_dialled(rig: Rig) -> None:  # noqa: F811
    async with rig.db.begin() as s:
        campaign = await add_campaign(s)
        by_phone = await add_lead(s, campaign, "5511987652001", priority=0)
        by_cpf = await add_lead(s, campaign, "5511987652002", priority=0, cpf=OTHER_CPF)
        await add_lead(s, campaign, "5511987652003", priority=3)
        s.add(DncEntry(kind=DncKind.PHONE, value="+5511987652001", source="Procon-SP"))
        s.add(DncEntry(kind=DncKind.CPF, value=OTHER_CPF, source="pedido do cliente"))
    await _start_with_agent(rig)
    await _wait_dialled(rig, "5511987652003")
    for lead in (by_phone, by_cpf):
        assert (await _held_back_or_untouched(rig, lead.id)).state.value in ("new", "dialable")
    assert _dialled(rig) == ["5511987652003"]
    assert await _attempted_numbers(rig) == {"+5511987652003"}


async def _held_back_or_untouched(rig: Rig, lead_id: int) -> Lead:  # noqa: F811
    # the SQL pre-filter skips DNC and held customers without claiming them: their lead stays as it was
    async with rig.db() as s:
        lead = await s.get(Lead, lead_id)
        assert lead is not None and lead.claimed_by is None
        return lead


async def test_a_customer_on_hold_is_never_dialled(rig: Rig) -> None:  # noqa: F811
    async with rig.db.begin() as s:
        campaign = await add_campaign(s)
        held = await add_lead(s, campaign, "5511987653001", priority=0)
        await add_lead(s, campaign, "5511987653002", priority=3, cpf=OTHER_CPF)
        s.add(CustomerHold(customer_id=held.customer_id, kind=HoldKind.LAWYER, reason="representado por advogado"))
    await _start_with_agent(rig)
    await _wait_dialled(rig, "5511987653002")
    assert (await _held_back_or_untouched(rig, held.id)).state.value in ("new", "dialable")
    assert _dialled(rig) == ["5511987653002"]
    assert await _attempted_numbers(rig) == {"+5511987653002"}


async def test_the_phone_cap_across_campaigns_stops_a_fourth_call_that_day(rig: Rig) -> None:  # noqa: F811
    now = rig.clock()
    async with rig.db.begin() as s:
        earlier = await add_campaign(s, mode=CampaignMode.MANUAL, running=False, name="Carteira anterior")
        campaign = await add_campaign(s)
        capped = await add_lead(s, campaign, "5511987654001", priority=0)
        below = await add_lead(s, campaign, "5511987654002", priority=0, cpf=OTHER_CPF)
        for lead, times in ((capped, 3), (below, 2)):
            phone = (await s.execute(select(Phone).where(Phone.customer_id == lead.customer_id))).scalar_one()
            for i in range(times):
                # this morning, in another campaign, past every retry gap
                at = now - timedelta(hours=5) + timedelta(minutes=10 * i)
                s.add(CallAttempt(campaign_id=earlier.id, customer_id=lead.customer_id, phone_id=phone.id,
                                  mode=CampaignMode.MANUAL, number=phone.e164, created_at=at, originated_at=at,
                                  ended_at=at, result=CallResult.NO_ANSWER))
    await _start_with_agent(rig)
    await _wait_dialled(rig, "5511987654002")
    lead = await _held_back(rig, capped.id)
    assert lead.next_attempt_at is not None and lead.next_attempt_at > rig.clock()  # tomorrow
    assert _dialled(rig) == ["5511987654002"]
    async with rig.db() as s:
        stored = (await s.execute(select(CallAttempt).where(CallAttempt.campaign_id == campaign.id))).scalars().all()
    assert [a.number for a in stored] == ["+5511987654002"]


async def test_a_boosted_lead_is_called_before_an_unboosted_one(rig: Rig) -> None:  # noqa: F811
    async with rig.db.begin() as s:
        campaign = await add_campaign(s)
        await add_lead(s, campaign, "5511987655001", priority=0)  # older, same rank before boosts
        await add_lead(s, campaign, "5511987655002", priority=0, boost=5, cpf=OTHER_CPF)
    await _start_with_agent(rig)  # the start-up re-ranking turns the boost into rank
    await _wait_dialled(rig, "5511987655002")
    assert _dialled(rig)[0] == "5511987655002"
    async with rig.db() as s:
        first = (await s.execute(select(CallAttempt).order_by(CallAttempt.created_at).limit(1))).scalar_one()
    assert first.number == "+5511987655002"
