"""Property: no pick ever breaks a rule, and no eligible lead ranked above the pick was skipped."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from dialer.leads.eligibility import check_eligibility
from dialer.leads.hopper import Hopper, lead_facts, policy_for, reprioritise_campaign
from storage import migrate
from storage.engine import create_engine, session_factory
from storage.models import (
    CallAttempt,
    CallResult,
    Campaign,
    CampaignMode,
    Customer,
    Lead,
)
from storage.repositories import hopper as sql
from storage.repositories.portfolio import CustomerRecord, DebtRecord, store_customers
from storage.repositories.segments import StoredSegment, replace_segments
from tests.storage.conftest import in_thread

PHONES = ["+5511987654321", "+5521987654321", "+5568999123456", "+5592988887777", "+5581991234567",
          "+558136191234", "+5511312345678"]
UFS = [None, "SP", "RJ", "AC", "AM", "PE"]
RESULTS = [CallResult.BUSY, CallResult.NO_ANSWER, CallResult.MACHINE, CallResult.ABANDONED]

lead_spec = st.fixed_dictionaries({
    "phones": st.lists(st.sampled_from(PHONES), min_size=1, max_size=2, unique=True),
    "uf": st.sampled_from(UFS),
    "late_days": st.integers(min_value=-20, max_value=2200),
    "vip": st.booleans(),
    "boost": st.sampled_from([0, 0, 0, 30]),
    "due_minutes_ago": st.integers(min_value=0, max_value=3000),
    "attempt_hours_ago": st.lists(st.integers(min_value=0, max_value=170), max_size=5),
    "result": st.sampled_from(RESULTS),
})
# instants over a fortnight with a weekend and the Tiradentes holiday, at any hour
moments = st.builds(lambda h: datetime(2026, 4, 15, 0, 0, tzinfo=UTC) + timedelta(hours=h), st.integers(0, 14 * 24))

_DB: dict[str, str] = {}


def database(tmp: Path) -> str:
    if "url" not in _DB:
        url = f"sqlite+aiosqlite:///{tmp / 'prop.db'}"
        in_thread(migrate.upgrade, url)
        _DB["url"] = url
    return _DB["url"]


async def scenario(url: str, specs: list[dict], now: datetime, batch: int = 0) -> None:  # type: ignore[type-arg]
    """One pick (``batch`` 0), or ``batch`` picks in one transaction (``Hopper.claim_many``)."""
    engine = create_engine(url)
    sessions = session_factory(engine)
    try:
        async with sessions() as db:
            campaign = Campaign(name=uuid.uuid4().hex, mode=CampaignMode.PROGRESSIVE, dial_template="Local/{number}@x",
                                caller_id="1", pbx_name="sim")
            db.add(campaign)
            await db.flush()
            today = now.date()
            for spec in specs:
                ext = uuid.uuid4().hex[:12]
                rec = CustomerRecord(ext, "Cliente", "52998224725", None, None, spec["uf"])
                rec.phones = {p: p[3:5] for p in spec["phones"]}
                due = today - timedelta(days=spec["late_days"])
                rec.debts = {"CT": DebtRecord("CT", "Banco", None, 100, 100, due)}  # type: ignore[arg-type]
                rec.tags = {"vip"} if spec["vip"] else set()
                await store_customers(db, campaign.id, [rec], now=now - timedelta(days=30))
                cid = await db.scalar(select(Customer.id).where(Customer.external_id == ext))
                await db.execute(update(Lead).where(Lead.customer_id == cid).values(
                    boost=spec["boost"], next_attempt_at=now - timedelta(minutes=spec["due_minutes_ago"])))
                for hours in spec["attempt_hours_ago"]:
                    db.add(CallAttempt(campaign_id=campaign.id, customer_id=cid, mode=CampaignMode.PROGRESSIVE,
                                       number=spec["phones"][0], created_at=now - timedelta(hours=hours, minutes=1),
                                       result=spec["result"]))
            await replace_segments(db, campaign.id, [StoredSegment(0, "VIP", 50, {"tags_any": ["vip"]}),
                                                     StoredSegment(1, "Velhos", 40, {"buckets": ["360+"]})])
            await reprioritise_campaign(db, campaign.id, now=now)
            await db.commit()
            policy = policy_for(campaign)
            ranked = (await db.execute(
                select(Lead.id, Lead.customer_id, Lead.priority, Lead.next_attempt_at)
                .where(Lead.campaign_id == campaign.id, Lead.next_attempt_at <= now)
                .order_by(Lead.priority, Lead.next_attempt_at, Lead.id)
            )).all()
            before = {}
            for lead_id, customer_id, _, _ in ranked:
                rows = await sql.load_facts(db, customer_id, campaign_id=campaign.id, now=now)
                assert rows is not None
                before[lead_id] = rows

        def eligible(lead_id: int) -> bool:
            rows = before[lead_id]
            return any(check_eligibility(lead_facts(rows, p), policy, now).dialable for p in rows.phones)

        if batch:
            many = await Hopper(sessions).claim_many(campaign.id, now, [None] * batch)
            # each pick of the batch is the best eligible lead left (rank: priority, then due time)
            rank = {lead_id: (priority, due) for lead_id, _, priority, due in ranked}
            dialable = [lead_id for lead_id, *_ in ranked if eligible(lead_id)]
            ids = [p.lead_id for p in many]
            assert len(set(ids)) == len(ids) == min(batch, len(dialable))
            for i, lead_id in enumerate(ids):
                better = {other for other in dialable if rank[other] < rank[lead_id]}
                assert better <= set(ids[:i]), f"pick {i}: a better dialable lead was left for later"
            for p in many:
                phone = next(ph for ph in before[p.lead_id].phones if ph.id == p.phone_id)
                assert check_eligibility(lead_facts(before[p.lead_id], phone), policy, now).dialable
            return
        picked = await Hopper(sessions).claim_next(campaign.id, now)

        if picked is None:
            assert not any(eligible(lead_id) for lead_id, *_ in ranked)
            return
        rows = before[picked.lead_id]
        phone = next(p for p in rows.phones if p.id == picked.phone_id)
        assert check_eligibility(lead_facts(rows, phone), policy, now).dialable
        for lead_id, *_ in ranked:
            if lead_id == picked.lead_id:
                break
            assert not eligible(lead_id), f"lead {lead_id} ranked above the pick and was dialable"
    finally:
        await engine.dispose()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=st.lists(lead_spec, min_size=1, max_size=6), now=moments)
def test_no_pick_breaks_a_rule_or_skips_a_better_lead(tmp_path_factory, specs, now) -> None:  # type: ignore[no-untyped-def]
    url = database(tmp_path_factory.getbasetemp())
    in_thread(asyncio.run, scenario(url, specs, now))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=st.lists(lead_spec, min_size=1, max_size=6), now=moments, batch=st.integers(1, 8))
def test_a_batched_claim_takes_the_best_eligible_leads_in_order(tmp_path_factory, specs, now, batch) -> None:  # type: ignore[no-untyped-def]
    url = database(tmp_path_factory.getbasetemp())
    in_thread(asyncio.run, scenario(url, specs, now, batch))
