"""The hopper on a real, migrated SQLite file: pick order, compliance, holds, DNC, callbacks.

Times are chosen on the calendar: 03/03/2026 is a Tuesday with no holiday anywhere;
21/04/2026 (Tiradentes) is a national holiday.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialer.leads.hopper import ClaimedLead, Hopper, PickReason, reprioritise_campaign
from storage import migrate
from storage.engine import create_engine, read_session_factory, session_factory
from storage.models import (
    CallAttempt,
    Callback,
    CallResult,
    Campaign,
    CampaignMode,
    Customer,
    DncKind,
    HoldKind,
    Lead,
    LeadState,
    Outcome,
    OutcomeCode,
    Phone,
    PhoneKind,
    PhoneStatus,
    Role,
    User,
)
from storage.repositories.dnc import DncItem, add_entries
from storage.repositories.portfolio import CustomerRecord, DebtRecord, release_hold, set_hold, store_customers
from storage.repositories.segments import StoredSegment, replace_segments
from tests.storage.conftest import in_thread

TUESDAY_NOON_SP = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)  # 12:00 in São Paulo
IMPORTED_AT = TUESDAY_NOON_SP - timedelta(days=1)


@pytest.fixture(scope="session")
def hopper_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hopper-template") / "cobra.db"
    in_thread(migrate.upgrade, f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
async def sessions(hopper_template: Path, tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A migrated SQLite file of this test's own."""
    path = tmp_path / "cobra.db"
    shutil.copyfile(hopper_template, path)
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


async def new_campaign(
    sessions: async_sessionmaker[AsyncSession], name: str = "Cartões", **kw: Any
) -> int:
    async with sessions() as db:
        campaign = Campaign(
            name=name, mode=CampaignMode.PROGRESSIVE, dial_template="Local/{number}@cust-sim",
            caller_id="551130000000", pbx_name="sim", **kw,
        )
        db.add(campaign)
        await db.commit()
        return campaign.id


async def add_customer(
    sessions: async_sessionmaker[AsyncSession],
    campaign_id: int,
    ext: str,
    *,
    phones: tuple[str, ...] = ("+5511987654321",),
    uf: str | None = "SP",
    cpf: str = "52998224725",
    due: date = date(2026, 1, 20),
    balance: str = "500.00",
    tags: tuple[str, ...] = (),
    at: datetime = IMPORTED_AT,
) -> tuple[int, int]:
    """Store a customer with one debt and a lead in the campaign; returns (customer id, lead id)."""
    record = CustomerRecord(ext, f"Cliente {ext}", cpf, None, None, uf)
    record.phones = {p: p[3:5] for p in phones}
    record.debts = {f"CT-{ext}": DebtRecord(f"CT-{ext}", "Banco Exemplo", None, Decimal(balance), Decimal(balance), due)}
    record.tags = set(tags)
    async with sessions() as db:
        await store_customers(db, campaign_id, [record], now=at)
        await reprioritise_campaign(db, campaign_id, now=at)
        customer_id = await db.scalar(select(Customer.id).where(Customer.external_id == ext))
        lead_id = await db.scalar(select(Lead.id).where(Lead.customer_id == customer_id, Lead.campaign_id == campaign_id))
        await db.commit()
    assert customer_id is not None and lead_id is not None
    return customer_id, lead_id


async def set_lead(sessions: async_sessionmaker[AsyncSession], lead_id: int, **values: Any) -> None:
    async with sessions() as db:
        await db.execute(update(Lead).where(Lead.id == lead_id).values(**values))
        await db.commit()


async def lead_row(sessions: async_sessionmaker[AsyncSession], lead_id: int) -> Lead:
    async with sessions() as db:
        lead = await db.get(Lead, lead_id)
        assert lead is not None
        return lead


async def pick_all(hopper: Hopper, campaign_id: int, now: datetime, **kw: Any) -> list[ClaimedLead]:
    picked = []
    while (lead := await hopper.claim_next(campaign_id, now, **kw)) is not None:
        picked.append(lead)
    return picked


async def add_agent(sessions: async_sessionmaker[AsyncSession], login: str) -> int:
    async with sessions() as db:
        user = User(login=login, password_hash="x", role=Role.AGENT, full_name=login, extension=login[-4:],
                    endpoint="PJSIP/" + login)
        db.add(user)
        await db.commit()
        return user.id


async def add_attempt(
    sessions: async_sessionmaker[AsyncSession], campaign_id: int, customer_id: int, number: str, at: datetime,
    result: CallResult, *, outcome: OutcomeCode | None = None, promise_date: date | None = None,
) -> None:
    async with sessions() as db:
        attempt = CallAttempt(campaign_id=campaign_id, customer_id=customer_id, mode=CampaignMode.PROGRESSIVE,
                              number=number, created_at=at, result=result)
        db.add(attempt)
        await db.flush()
        if outcome is not None:
            db.add(Outcome(attempt_id=attempt.id, code=outcome, promise_date=promise_date, client_key=attempt.id,
                           created_at=at))
        await db.commit()


# ---------------------------------------------------------------- order


async def test_oldest_due_lead_first_and_claims_are_leases(sessions: async_sessionmaker[AsyncSession]) -> None:
    cid = await new_campaign(sessions)
    _, older = await add_customer(sessions, cid, "A", cpf="52998224725")
    _, newer = await add_customer(sessions, cid, "B", cpf="11144477735")
    await set_lead(sessions, older, next_attempt_at=TUESDAY_NOON_SP - timedelta(hours=5))
    await set_lead(sessions, newer, next_attempt_at=TUESDAY_NOON_SP - timedelta(hours=1))
    hopper = Hopper(sessions, claimer="proc-1")
    first = await hopper.claim_next(cid, TUESDAY_NOON_SP)
    assert first is not None and first.lead_id == older and first.reason is PickReason.QUEUE
    assert first.e164 == "+5511987654321" and first.external_id == "A"
    lead = await lead_row(sessions, older)
    assert lead.state is LeadState.IN_PROGRESS and lead.claimed_by == "proc-1"
    assert lead.claim_expires_at == TUESDAY_NOON_SP + timedelta(minutes=10)
    second = await hopper.claim_next(cid, TUESDAY_NOON_SP)
    assert second is not None and second.lead_id == newer
    assert await hopper.claim_next(cid, TUESDAY_NOON_SP) is None


async def test_a_pick_after_a_read_session_on_the_same_connection_can_write(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    # read sessions leave query_only on their pooled connection; the pick runs on the raw
    # sqlite3 connection (storage.repositories.hopper.run_pick) and must lift it first
    cid = await new_campaign(sessions)
    _, lead_id = await add_customer(sessions, cid, "A")
    await set_lead(sessions, lead_id, next_attempt_at=TUESDAY_NOON_SP - timedelta(hours=1))
    engine = sessions.kw["bind"]
    async with read_session_factory(engine)() as db:
        assert (await db.execute(text("PRAGMA query_only"))).scalar() == 1
    picked = await Hopper(sessions).claim_next(cid, TUESDAY_NOON_SP)
    assert picked is not None and picked.lead_id == lead_id
    assert (await lead_row(sessions, lead_id)).state is LeadState.IN_PROGRESS


async def test_not_yet_due_leads_wait(sessions: async_sessionmaker[AsyncSession]) -> None:
    cid = await new_campaign(sessions)
    _, lead_id = await add_customer(sessions, cid, "A")
    await set_lead(sessions, lead_id, next_attempt_at=TUESDAY_NOON_SP + timedelta(minutes=1))
    hopper = Hopper(sessions)
    assert await hopper.claim_next(cid, TUESDAY_NOON_SP) is None
    assert (await hopper.claim_next(cid, TUESDAY_NOON_SP + timedelta(minutes=1))) is not None


async def test_segments_weights_and_boosts_order_the_picks(sessions: async_sessionmaker[AsyncSession]) -> None:
    cid = await new_campaign(sessions)
    # 03/03/2026: due 20/01 is 42 days late (31-60), due 01/12/2025 is 92 days (91-180)
    await add_customer(sessions, cid, "young", due=date(2026, 1, 20), cpf="52998224725")
    await add_customer(sessions, cid, "old", due=date(2025, 12, 1), cpf="11144477735")
    await add_customer(sessions, cid, "vip", due=date(2026, 1, 20), tags=("vip",), cpf="39053344705")
    await add_customer(sessions, cid, "none", due=date(2026, 2, 20), cpf="12345678909")
    async with sessions() as db:
        await replace_segments(db, cid, [
            StoredSegment(0, "91-180", 50, {"buckets": ["91-180"]}),
            StoredSegment(1, "VIP", 80, {"tags_any": ["vip"]}),
            StoredSegment(2, "31-60", 50, {"buckets": ["31-60"]}),
        ])
        await reprioritise_campaign(db, cid, now=TUESDAY_NOON_SP)
        await db.commit()
    picked = await pick_all(Hopper(sessions), cid, TUESDAY_NOON_SP)
    assert [p.external_id for p in picked] == ["vip", "old", "young", "none"]
    assert [p.segment_position for p in picked] == [1, 0, 2, None]
    assert [p.reason for p in picked] == [PickReason.SEGMENT] * 3 + [PickReason.QUEUE]


async def test_a_boost_takes_effect_on_the_very_next_pick(sessions: async_sessionmaker[AsyncSession]) -> None:
    cid = await new_campaign(sessions)
    _, first = await add_customer(sessions, cid, "A", cpf="52998224725")
    _, boosted = await add_customer(sessions, cid, "B", cpf="11144477735")
    await set_lead(sessions, first, next_attempt_at=IMPORTED_AT - timedelta(hours=1))
    async with sessions() as db:
        from storage.repositories.segments import set_boosts

        changes, unknown = await set_boosts(db, cid, {"B": 300, "nobody": 5}, now=TUESDAY_NOON_SP)
        await reprioritise_campaign(db, cid, now=TUESDAY_NOON_SP, customer_ids=[c.customer_id for c in changes])
        await db.commit()
    assert unknown == ["nobody"] and [(c.external_id, c.before, c.after) for c in changes] == [("B", 0, 300)]
    lead = await Hopper(sessions).claim_next(cid, TUESDAY_NOON_SP)
    assert lead is not None and lead.lead_id == boosted and lead.reason is PickReason.BOOST and lead.boost == 300


# ---------------------------------------------------------------- callbacks


async def test_due_callbacks_come_first_and_owned_ones_only_to_their_agent(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    cid = await new_campaign(sessions)
    ana, bia = await add_agent(sessions, "ana7001"), await add_agent(sessions, "bia7002")
    _, plain = await add_customer(sessions, cid, "plain", cpf="52998224725")
    owned_customer, owned_lead = await add_customer(sessions, cid, "owned", cpf="11144477735",
                                                    phones=("+5511987650000", "+5511987651111"))
    await set_lead(sessions, plain, next_attempt_at=IMPORTED_AT - timedelta(days=1))
    async with sessions() as db:
        phone_id = await db.scalar(select(Phone.id).where(Phone.e164 == "+5511987651111"))
        db.add(Callback(customer_id=owned_customer, campaign_id=cid, phone_id=phone_id, owner_agent_id=ana,
                        due_at=TUESDAY_NOON_SP - timedelta(minutes=5)))
        await db.commit()
    hopper = Hopper(sessions)
    for_bia = await hopper.claim_next(cid, TUESDAY_NOON_SP, agent_id=bia)
    assert for_bia is not None and for_bia.lead_id == plain
    # bia's regular pick met the owned customer's lead and left it for ana
    assert await hopper.claim_next(cid, TUESDAY_NOON_SP, agent_id=bia) is None
    for_ana = await hopper.claim_next(cid, TUESDAY_NOON_SP, agent_id=ana)
    assert for_ana is not None and for_ana.lead_id == owned_lead and for_ana.reason is PickReason.CALLBACK
    assert for_ana.e164 == "+5511987651111" and for_ana.owner_agent_id == ana  # the phone the customer asked for
    async with sessions() as db:
        assert await db.scalar(select(Callback.done_at)) == TUESDAY_NOON_SP


# ---------------------------------------------------------------- compliance


async def test_acre_at_23h_in_sao_paulo_only_when_the_campaign_allows_21h_there(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    late = datetime(2026, 3, 4, 2, 0, tzinfo=UTC)  # Tue 03/03 23:00 in São Paulo, 21:00 in Acre
    strict = await new_campaign(sessions, "Padrão")
    until_22 = {"weekdays": "08:00-22:00", "sat": "08:00-14:00"}
    wide = await new_campaign(sessions, "Até 22h", window_override=until_22, policy={"eligibility": {"company_window": until_22}})
    for cid in (strict, wide):
        await add_customer(sessions, cid, f"acre-{cid}", phones=("+5568999123456",), uf="AC", cpf="11144477735")
        await add_customer(sessions, cid, f"sp-{cid}", phones=("+5511987654321",), uf="SP", cpf="52998224725")
    hopper = Hopper(sessions)
    assert await hopper.claim_next(strict, late) is None
    picked = await pick_all(hopper, wide, late)
    assert [p.e164 for p in picked] == ["+5568999123456"]  # São Paulo's phone is at 23:00: never
    # the strict campaign's Acre lead waits for 08:00 in Acre (13:00 UTC), São Paulo's for 08:00 there
    async with sessions() as db:
        waits = dict((await db.execute(
            select(Customer.external_id, Lead.next_attempt_at).join(Customer).where(Lead.campaign_id == strict)
        )).all())
    assert waits == {f"acre-{strict}": datetime(2026, 3, 4, 13, 0, tzinfo=UTC),
                     f"sp-{strict}": datetime(2026, 3, 4, 11, 0, tzinfo=UTC)}


async def test_nobody_is_picked_on_a_national_holiday(sessions: async_sessionmaker[AsyncSession]) -> None:
    tiradentes = datetime(2026, 4, 21, 15, 0, tzinfo=UTC)
    cid = await new_campaign(sessions)
    for i, (phone, cpf) in enumerate([("+5511987654321", "52998224725"), ("+5521987654321", "11144477735"),
                                      ("+5568999123456", "39053344705")]):
        await add_customer(sessions, cid, f"c{i}", phones=(phone,), cpf=cpf, uf=None)
    hopper = Hopper(sessions)
    assert await hopper.claim_next(cid, tiradentes) is None
    async with sessions() as db:
        waits = set(await db.scalars(select(Lead.next_attempt_at).where(Lead.campaign_id == cid)))
    assert all(w > tiradentes and w.date() == date(2026, 4, 22) for w in waits)
    assert await hopper.claim_next(cid, tiradentes + timedelta(hours=1)) is None  # not re-examined


async def test_caps_count_attempts_in_every_campaign(sessions: async_sessionmaker[AsyncSession]) -> None:
    cid, other = await new_campaign(sessions, "A"), await new_campaign(sessions, "B")
    customer_id, lead_id = await add_customer(sessions, cid, "A")
    for hours in (4, 3, 2):  # three no-answers on this phone today, from another campaign
        await add_attempt(sessions, other, customer_id, "+5511987654321", TUESDAY_NOON_SP - timedelta(hours=hours),
                          CallResult.NO_ANSWER)
    hopper = Hopper(sessions)
    assert await hopper.claim_next(cid, TUESDAY_NOON_SP) is None
    lead = await lead_row(sessions, lead_id)
    # the phone's daily cap lapses at midnight in São Paulo (03:00 UTC), then the window opens at 08:00
    assert lead.next_attempt_at == datetime(2026, 3, 4, 11, 0, tzinfo=UTC) and lead.state is LeadState.DIALABLE


async def test_a_second_phone_is_used_when_the_first_waits_a_retry_gap(sessions: async_sessionmaker[AsyncSession]) -> None:
    cid = await new_campaign(sessions)
    customer_id, _ = await add_customer(sessions, cid, "A", phones=("+5511987654321", "+5511912345678"))
    await add_attempt(sessions, cid, customer_id, "+5511987654321", TUESDAY_NOON_SP - timedelta(minutes=5),
                      CallResult.BUSY)
    async with sessions() as db:
        await db.execute(update(Phone).where(Phone.e164 == "+5511987654321").values(
            last_attempt_at=TUESDAY_NOON_SP - timedelta(minutes=5)))
        await db.commit()
    lead = await Hopper(sessions).claim_next(cid, TUESDAY_NOON_SP)
    assert lead is not None and lead.e164 == "+5511912345678"


async def test_promise_holds_the_customer_until_the_day_after(sessions: async_sessionmaker[AsyncSession]) -> None:
    cid = await new_campaign(sessions)
    customer_id, lead_id = await add_customer(sessions, cid, "A")
    await add_attempt(sessions, cid, customer_id, "+5511987654321", TUESDAY_NOON_SP - timedelta(days=1),
                      CallResult.CONNECTED, outcome=OutcomeCode.PROMESSA, promise_date=date(2026, 3, 10))
    assert await Hopper(sessions).claim_next(cid, TUESDAY_NOON_SP) is None
    # 11/03 00:00 in São Paulo is 03:00 UTC; the window opens at 08:00 (11:00 UTC)
    assert (await lead_row(sessions, lead_id)).next_attempt_at == datetime(2026, 3, 11, 11, 0, tzinfo=UTC)


async def test_rj_reference_phones_and_wrong_phones_are_never_dialled(sessions: async_sessionmaker[AsyncSession]) -> None:
    cid = await new_campaign(sessions)
    _, lead_id = await add_customer(sessions, cid, "A", uf="RJ", phones=("+5521987654321", "+5521912345678",
                                                                           "+5511912345678"))
    async with sessions() as db:
        await db.execute(update(Phone).where(Phone.e164 == "+5521987654321").values(kind=PhoneKind.REFERENCE))
        await db.execute(update(Phone).where(Phone.e164 == "+5521912345678").values(status=PhoneStatus.WRONG))
        await db.execute(update(Phone).where(Phone.e164 == "+5511912345678").values(kind=PhoneKind.REFERENCE))
        await db.commit()
    assert await Hopper(sessions).claim_next(cid, TUESDAY_NOON_SP) is None
    # nothing but a change of facts helps: looked at again a day later
    assert (await lead_row(sessions, lead_id)).next_attempt_at == TUESDAY_NOON_SP + timedelta(hours=24)


async def test_prescribed_debts_are_not_collected_by_phone(sessions: async_sessionmaker[AsyncSession]) -> None:
    cid = await new_campaign(sessions)
    await add_customer(sessions, cid, "A", due=date(2021, 1, 10))
    assert await Hopper(sessions).claim_next(cid, TUESDAY_NOON_SP) is None


async def test_dnc_by_cpf_with_expiry_and_by_phone(sessions: async_sessionmaker[AsyncSession]) -> None:
    cid = await new_campaign(sessions)
    await add_customer(sessions, cid, "A", cpf="52998224725", phones=("+5511987654321",))
    await add_customer(sessions, cid, "B", cpf="11144477735", phones=("+5511912345678", "+5511955554444"))
    async with sessions() as db:
        await add_entries(db, [DncItem(DncKind.CPF, "52998224725", date(2026, 3, 5), "cliente"),
                               DncItem(DncKind.PHONE, "+5511912345678", None, "procon-sp")])
        await db.commit()
    hopper = Hopper(sessions)
    picked = await pick_all(hopper, cid, TUESDAY_NOON_SP)
    assert [(p.external_id, p.e164) for p in picked] == [("B", "+5511955554444")]
    # the CPF entry ended on 05/03; the SQL pre-filter keeps it a day longer (the callee's date lags UTC)
    after = datetime(2026, 3, 7, 14, 0, tzinfo=UTC)  # Saturday 11:00 in São Paulo
    lead = await hopper.claim_next(cid, after)
    assert lead is not None and lead.external_id == "A"


async def test_a_supervisor_hold_stops_dialling_until_released(sessions: async_sessionmaker[AsyncSession]) -> None:
    cid = await new_campaign(sessions)
    customer_id, lead_id = await add_customer(sessions, cid, "A")
    async with sessions() as db:
        hold = await set_hold(db, customer_id, kind=HoldKind.LAWYER, reason="Advogado constituído", until=None,
                              set_by_id=None, now=TUESDAY_NOON_SP - timedelta(hours=1))
        await db.commit()
    hopper = Hopper(sessions)
    assert await hopper.claim_next(cid, TUESDAY_NOON_SP) is None
    assert (await lead_row(sessions, lead_id)).next_attempt_at > TUESDAY_NOON_SP + timedelta(days=300)
    async with sessions() as db:
        await release_hold(db, customer_id, hold.id, released_by_id=None, now=TUESDAY_NOON_SP)
        await db.commit()
    assert (await hopper.claim_next(cid, TUESDAY_NOON_SP)) is not None


async def test_deceased_customers_are_filtered_in_sql(sessions: async_sessionmaker[AsyncSession]) -> None:
    cid = await new_campaign(sessions)
    customer_id, lead_id = await add_customer(sessions, cid, "A")
    async with sessions() as db:
        await db.execute(update(Customer).where(Customer.id == customer_id).values(deceased=True))
        await db.commit()
    assert await Hopper(sessions).claim_next(cid, TUESDAY_NOON_SP) is None
    assert (await lead_row(sessions, lead_id)).state is LeadState.NEW  # never claimed


# ---------------------------------------------------------------- release and complete


async def test_complete_and_release(sessions: async_sessionmaker[AsyncSession]) -> None:
    cid = await new_campaign(sessions)
    _, a = await add_customer(sessions, cid, "A", cpf="52998224725")
    _, b = await add_customer(sessions, cid, "B", cpf="11144477735")
    hopper = Hopper(sessions)
    first = await hopper.claim_next(cid, TUESDAY_NOON_SP)
    second = await hopper.claim_next(cid, TUESDAY_NOON_SP)
    assert first is not None and second is not None
    await hopper.release(first.lead_id, TUESDAY_NOON_SP)
    await hopper.complete(second.lead_id, TUESDAY_NOON_SP, result="ACORDO", final=LeadState.DONE)
    done = await lead_row(sessions, second.lead_id)
    assert done.state is LeadState.DONE and done.next_attempt_at is None and done.attempts == 1
    again = await hopper.claim_next(cid, TUESDAY_NOON_SP)
    assert again is not None and again.lead_id == first.lead_id
    await hopper.complete(again.lead_id, TUESDAY_NOON_SP, result="busy",
                          next_attempt_at=TUESDAY_NOON_SP + timedelta(minutes=15))
    lead = await lead_row(sessions, again.lead_id)
    assert (lead.state, lead.attempts, lead.last_result) == (LeadState.DIALABLE, 1, "busy")
    with pytest.raises(ValueError, match="done or stopped"):
        await hopper.complete(a, TUESDAY_NOON_SP, result="x", final=LeadState.NEW)
    with pytest.raises(ValueError, match="timezone-aware"):
        await hopper.claim_next(cid, datetime(2026, 3, 3, 12, 0))
