"""Models on real databases built by the migrations: SQLite file and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError, InvalidRequestError, StatementError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import selectinload

from storage.engine import session_factory
from storage.models import (
    AgentState,
    AgentStateChange,
    AuditLog,
    CallAttempt,
    Callback,
    CallResult,
    CampaignMode,
    Customer,
    CustomerTag,
    Debt,
    DebtStatus,
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
from tests.storage.factories import make_campaign, make_customer, make_phone, make_user, unique

BRT = timezone(timedelta(hours=-3))


async def _attempt(session: AsyncSession, **kw: object) -> CallAttempt:
    campaign = await make_campaign(session)
    attempt = CallAttempt(campaign_id=campaign.id, mode=CampaignMode.PROGRESSIVE, number="5511987654321", **kw)
    session.add(attempt)
    await session.flush()
    return attempt


async def test_datetimes_come_back_aware_utc_and_equal(engine: AsyncEngine, session: AsyncSession) -> None:
    answered = datetime(2025, 3, 10, 14, 30, 15, 123456, tzinfo=BRT)
    attempt = await _attempt(session, answered_at=answered)
    await session.commit()

    async with session_factory(engine)() as fresh:
        got = await fresh.scalar(select(CallAttempt.answered_at).where(CallAttempt.id == attempt.id))
        created = await fresh.scalar(select(CallAttempt.created_at).where(CallAttempt.id == attempt.id))
    assert got == answered
    assert got is not None and got.tzinfo is not None and got.utcoffset() == timedelta(0)
    assert (got.hour, got.microsecond) == (17, 123456)
    assert created is not None and created.utcoffset() == timedelta(0)


async def test_sqlite_stores_utc_wall_time(sqlite_engine: AsyncEngine) -> None:
    async with session_factory(sqlite_engine)() as session:
        attempt = await _attempt(session, answered_at=datetime(2025, 3, 10, 23, 0, tzinfo=BRT))
        await session.commit()
        raw = await session.scalar(text("SELECT answered_at FROM call_attempts WHERE id = :id"), {"id": attempt.id})
    assert str(raw).startswith("2025-03-11 02:00:00")


async def test_naive_datetime_is_refused(session: AsyncSession) -> None:
    campaign = await make_campaign(session)
    session.add(
        CallAttempt(campaign_id=campaign.id, mode="progressive", number="5511", answered_at=datetime(2025, 1, 1, 12))
    )
    with pytest.raises(StatementError, match="naive datetime 2025-01-01T12:00:00 refused"):
        await session.flush()


async def test_money_comes_back_as_exact_decimal(engine: AsyncEngine, session: AsyncSession) -> None:
    customer = await make_customer(session)
    amounts = [Decimal("999999999999.99"), Decimal("0.10"), Decimal("0.20"), Decimal("1234.56")]
    for i, amount in enumerate(amounts):
        session.add(
            Debt(
                customer_id=customer.id,
                contract=f"C{i}",
                creditor="Banco Exemplo",
                original_amount=amount,
                balance=amount,
                due_date=date(2025, 3, 10),
            )
        )
    await session.commit()

    async with session_factory(engine)() as fresh:
        got = list(
            await fresh.scalars(select(Debt.balance).where(Debt.customer_id == customer.id).order_by(Debt.contract))
        )
        small_sum = await fresh.scalar(
            select(func.sum(Debt.balance)).where(Debt.customer_id == customer.id, Debt.contract.in_(["C1", "C2"]))
        )
    assert got == amounts
    assert all(type(v) is Decimal for v in got)
    assert small_sum == Decimal("0.30")


async def test_dates_enums_and_defaults_round_trip(engine: AsyncEngine, session: AsyncSession) -> None:
    customer = await make_customer(session, birth_date=date(1975, 12, 31))
    phone = await make_phone(session, customer)
    debt = Debt(
        customer_id=customer.id, contract="X1", creditor="Loja", original_amount=Decimal("1"), balance=Decimal("1"),
        due_date=date(2019, 2, 28),
    )
    session.add(debt)
    await session.commit()

    async with session_factory(engine)() as fresh:
        c = await fresh.get(Customer, customer.id)
        p = await fresh.get(Phone, phone.id)
        d = await fresh.get(Debt, debt.id)
    assert c is not None and p is not None and d is not None
    assert c.birth_date == date(1975, 12, 31) and (c.deceased, c.dispute_pending) == (False, False)
    assert d.due_date == date(2019, 2, 28) and d.status is DebtStatus.OPEN
    assert p.kind is PhoneKind.OWN and p.status is PhoneStatus.OK


async def test_json_round_trips_with_portuguese_text(engine: AsyncEngine, session: AsyncSession) -> None:
    window = {"seg-sex": ["09:00", "18:00"], "sáb": None, "observação": "só após às 9h"}
    campaign = await make_campaign(session, window_override=window)
    log = AuditLog(action="campaign.window", entity="campaign", entity_id=str(campaign.id), before=None, after=window)
    session.add(log)
    await session.commit()

    async with session_factory(engine)() as fresh:
        got = await fresh.scalar(select(AuditLog).where(AuditLog.id == log.id))
    assert got is not None and got.after == window and got.before is None


async def test_duplicate_outcome_client_key_of_one_agent_is_refused(engine: AsyncEngine, session: AsyncSession) -> None:
    first, second, third = await _attempt(session), await _attempt(session), await _attempt(session)
    agent, other_agent = await make_user(session), await make_user(session)
    key = unique("dispose-")
    session.add(Outcome(attempt_id=first.id, agent_id=agent.id, code=OutcomeCode.RECUSA, client_key=key))
    await session.commit()

    # the key is the agent screen's: another agent may send the same one
    session.add(Outcome(attempt_id=third.id, agent_id=other_agent.id, code=OutcomeCode.RECUSA, client_key=key))
    await session.commit()

    session.add(Outcome(attempt_id=second.id, agent_id=agent.id, code=OutcomeCode.RECUSA, client_key=key))
    with pytest.raises(IntegrityError):
        await session.flush()


async def test_one_outcome_per_attempt(session: AsyncSession) -> None:
    attempt = await _attempt(session)
    session.add(Outcome(attempt_id=attempt.id, code=OutcomeCode.PROMESSA, client_key=unique(),
                        promise_amount=Decimal("150.00"), promise_date=date(2025, 4, 1)))
    await session.flush()
    session.add(Outcome(attempt_id=attempt.id, code=OutcomeCode.ACORDO, client_key=unique()))
    with pytest.raises(IntegrityError):
        await session.flush()


async def test_lead_is_unique_per_campaign_and_customer(session: AsyncSession) -> None:
    campaign, customer = await make_campaign(session), await make_customer(session)
    other = await make_campaign(session)
    session.add_all([Lead(campaign_id=campaign.id, customer_id=customer.id), Lead(campaign_id=other.id, customer_id=customer.id)])
    await session.flush()
    session.add(Lead(campaign_id=campaign.id, customer_id=customer.id))
    with pytest.raises(IntegrityError):
        await session.flush()


async def test_phone_is_unique_per_customer_only(session: AsyncSession) -> None:
    a, b = await make_customer(session), await make_customer(session)
    number = "+5521987654321"
    await make_phone(session, a, number)
    await make_phone(session, b, number)  # a reference phone may be shared between debtors
    with pytest.raises(IntegrityError):
        await make_phone(session, a, number)


@pytest.mark.parametrize("column", ["login", "extension"])
async def test_user_login_and_extension_are_unique(session: AsyncSession, column: str) -> None:
    first = await make_user(session)
    with pytest.raises(IntegrityError):
        await make_user(session, **{column: getattr(first, column)})


async def test_foreign_keys_are_enforced(session: AsyncSession) -> None:
    session.add(Phone(customer_id=2_000_000_000, e164="+5511999999999", ddd="11"))
    with pytest.raises(IntegrityError):
        await session.flush()


async def test_check_constraint_refuses_unknown_role(session: AsyncSession) -> None:
    with pytest.raises(IntegrityError, match="ck_users_role"):
        await session.execute(
            text(
                "INSERT INTO users (login, password_hash, role, full_name, active, created_at)"
                " VALUES (:login, 'x', 'root', 'X', true, '2025-01-01 00:00:00')"
            ),
            {"login": unique()},
        )


async def test_deleting_a_customer_deletes_phones_debts_tags_and_leads(engine: AsyncEngine, session: AsyncSession) -> None:
    customer = await make_customer(session)
    campaign = await make_campaign(session)
    await make_phone(session, customer)
    session.add_all([
        Debt(customer_id=customer.id, contract="K", creditor="C", original_amount=Decimal(1), balance=Decimal(1),
             due_date=date(2025, 1, 1)),
        CustomerTag(customer_id=customer.id, tag="vip"),
        Lead(campaign_id=campaign.id, customer_id=customer.id),
    ])
    await session.commit()

    await session.delete(customer)
    await session.commit()
    async with session_factory(engine)() as fresh:
        for model in (Phone, Debt, CustomerTag, Lead):
            left = await fresh.scalar(select(func.count()).select_from(model).where(model.customer_id == customer.id))
            assert left == 0, model.__name__


async def test_relationships_refuse_lazy_loading_but_load_eagerly(engine: AsyncEngine, session: AsyncSession) -> None:
    customer = await make_customer(session)
    await make_phone(session, customer)
    session.add(CustomerTag(customer_id=customer.id, tag="cartão"))
    await session.commit()

    async with session_factory(engine)() as fresh:
        plain = await fresh.get(Customer, customer.id)
        assert plain is not None
        with pytest.raises(InvalidRequestError, match="lazy='raise'"):
            _ = plain.phones
    async with session_factory(engine)() as fresh:
        loaded = await fresh.scalar(
            select(Customer).where(Customer.id == customer.id).options(selectinload(Customer.phones), selectinload(Customer.tags))
        )
    assert loaded is not None and len(loaded.phones) == 1 and [t.tag for t in loaded.tags] == ["cartão"]


async def test_call_attempt_keeps_its_whole_timeline(engine: AsyncEngine, session: AsyncSession) -> None:
    agent = await make_user(session)
    t0 = datetime(2025, 6, 2, 13, 0, tzinfo=UTC)
    attempt = await _attempt(
        session, agent_id=agent.id, originated_at=t0, answered_at=t0 + timedelta(seconds=8),
        connected_at=t0 + timedelta(seconds=9), ended_at=t0 + timedelta(seconds=95),
        wrapup_ended_at=t0 + timedelta(seconds=120), result=CallResult.CONNECTED, originate_reason=4,
        hangup_cause=16, amd_status="HUMAN", customer_channel="Local/5511987654321@cust-sim-00000001;1",
        customer_uniqueid="1717333200.17", recording_path=f"/var/spool/asterisk/monitor/{'a' * 32}.wav",
    )
    await session.commit()
    assert len(attempt.id) == 32 and int(attempt.id, 16) >= 0

    async with session_factory(engine)() as fresh:
        got = await fresh.get(CallAttempt, attempt.id)
    assert got is not None
    assert got.result is CallResult.CONNECTED and (got.abandoned, got.short_call) == (False, False)
    assert got.ended_at is not None and got.connected_at is not None
    assert got.ended_at - got.connected_at == timedelta(seconds=86)
    assert (got.originate_reason, got.hangup_cause, got.agent_id) == (4, 16, agent.id)


async def test_agent_state_changes_and_callbacks_query_by_owner_and_time(engine: AsyncEngine, session: AsyncSession) -> None:
    agent = await make_user(session)
    customer, campaign = await make_customer(session), await make_campaign(session)
    t0 = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)
    session.add_all([
        AgentStateChange(user_id=agent.id, from_state=AgentState.OFFLINE, to_state=AgentState.READY, at=t0),
        AgentStateChange(user_id=agent.id, from_state=AgentState.READY, to_state=AgentState.PAUSED, reason="lanche",
                         at=t0 + timedelta(minutes=5)),
        Callback(customer_id=customer.id, campaign_id=campaign.id, owner_agent_id=agent.id, created_by_id=agent.id,
                 due_at=t0 + timedelta(hours=2)),
        Callback(customer_id=customer.id, campaign_id=campaign.id, owner_agent_id=agent.id,
                 due_at=t0 + timedelta(hours=1), done_at=t0),
    ])
    await session.commit()

    async with session_factory(engine)() as fresh:
        states = list(await fresh.execute(
            select(AgentStateChange.to_state, AgentStateChange.reason)
            .where(AgentStateChange.user_id == agent.id).order_by(AgentStateChange.at)
        ))
        pending = list(await fresh.scalars(
            select(Callback.due_at).where(Callback.owner_agent_id == agent.id, Callback.done_at.is_(None))
        ))
    assert [tuple(r) for r in states] == [(AgentState.READY, None), (AgentState.PAUSED, "lanche")]
    assert pending == [t0 + timedelta(hours=2)]


async def test_the_hopper_index_serves_the_pick_without_sorting(sqlite_engine: AsyncEngine) -> None:
    # INDEXED BY fails outright if the index can't serve the WHERE; a sort step would mean it can't serve the ORDER BY
    pick = (
        "SELECT id FROM leads INDEXED BY ix_leads_hopper WHERE campaign_id = 1 AND priority = 5"
        " AND next_attempt_at <= '2025-06-02 12:00:00' AND state IN ('new', 'dialable')"
        " ORDER BY next_attempt_at, id LIMIT 1"
    )
    async with sqlite_engine.connect() as conn:
        plan = " | ".join(str(row[-1]) for row in await conn.execute(text(f"EXPLAIN QUERY PLAN {pick}")))
    assert "USING INDEX ix_leads_hopper (campaign_id=? AND priority=? AND next_attempt_at<?)" in plan, plan
    assert "TEMP B-TREE" not in plan, plan


async def test_leads_have_no_index_that_overlaps_the_hopper_index(sqlite_engine: AsyncEngine) -> None:
    # every claim rewrites state and next_attempt_at: each index over them is one more write per claim
    async with sqlite_engine.connect() as conn:
        rows = await conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'leads'"))
        names = {str(r[0]) for r in rows}
        over_state_or_next = set()
        for name in names:
            columns = {str(r[2]) for r in await conn.execute(text(f"PRAGMA index_info('{name}')"))}
            if columns & {"state", "next_attempt_at"}:
                over_state_or_next.add(name)
    assert over_state_or_next == {"ix_leads_hopper"}


async def test_next_lead_pick_orders_by_priority_then_due_time(session: AsyncSession) -> None:
    campaign = await make_campaign(session)
    now = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)
    rows = [(3, 10), (1, 5), (1, 30), (2, -5), (0, -60)]  # (priority, minutes ago due); -60: not due yet
    for priority, ago in rows:
        customer = await make_customer(session)
        session.add(Lead(campaign_id=campaign.id, customer_id=customer.id, priority=priority,
                         state=LeadState.DIALABLE, next_attempt_at=now - timedelta(minutes=ago)))
    await session.flush()
    picked = await session.execute(
        select(Lead.priority, Lead.next_attempt_at)
        .where(Lead.campaign_id == campaign.id, Lead.state == LeadState.DIALABLE, Lead.next_attempt_at <= now)
        .order_by(Lead.priority, Lead.next_attempt_at)
    )
    assert [(p, int((now - t).total_seconds() // 60)) for p, t in picked] == [(1, 30), (1, 5), (3, 10)]


async def test_user_role_comes_back_as_enum(engine: AsyncEngine, session: AsyncSession) -> None:
    user = await make_user(session, role=Role.SUPERVISOR, extension=None)
    await session.commit()
    async with session_factory(engine)() as fresh:
        got = await fresh.scalar(select(User).where(User.login == user.login))
    assert got is not None and got.role is Role.SUPERVISOR and got.discount_limit_pct == Decimal("10.00")
