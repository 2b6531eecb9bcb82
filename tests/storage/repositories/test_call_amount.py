"""``call_attempts.amount`` on SQLite and PostgreSQL: kept by outcome and agreement writes, filtered exactly,
filled by migration 0015 on a database that already holds calls."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Table, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import migrate
from storage.engine import create_engine
from storage.models import CallAttempt, Debt
from storage.repositories.call_attempts import create_call_attempt
from storage.repositories.calls import CallQuery, list_calls
from storage.repositories.negotiation import DebtShare, InstallmentSpec, add_agreement
from storage.repositories.outcomes import add_outcome
from tests.storage.factories import make_campaign, make_customer, make_user, unique

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
CA: Table = CallAttempt.__table__  # type: ignore[assignment]  # typed as FromClause, it is the Table


async def _amount(session: AsyncSession, attempt_id: str) -> Decimal | None:
    # the column itself, not the ORM object: the identity map would answer from memory
    value = (await session.execute(select(CA.c.amount).where(CA.c.id == attempt_id))).scalar_one()
    return None if value is None else Decimal(value)


class _World:
    """A campaign, an agent and a customer with one debt, to hang calls, outcomes and agreements on."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def setup(self) -> _World:
        self.campaign = await make_campaign(self.session)
        self.agent = await make_user(self.session)
        self.customer = await make_customer(self.session)
        self.debt = Debt(customer_id=self.customer.id, contract=unique("CT-"), creditor="Banco",
                         original_amount=Decimal("100.00"), balance=Decimal("100.00"), due_date=date(2025, 12, 1))
        self.session.add(self.debt)
        await self.session.flush()
        return self

    async def call(self, created_at: datetime = NOW) -> str:
        attempt = await create_call_attempt(self.session, campaign_id=self.campaign.id, mode="progressive",
                                            number="+5511900000000", customer_id=self.customer.id,
                                            agent_id=self.agent.id)
        await self.session.execute(update(CA).where(CA.c.id == attempt.id).values(created_at=created_at))
        return attempt.id

    async def outcome(self, attempt_id: str, code: str, promise: Decimal | None = None) -> None:
        await add_outcome(self.session, attempt_id=attempt_id, agent_id=self.agent.id, code=code,
                          client_key=unique("k-"), promise_amount=promise,
                          promise_date=None if promise is None else date(2026, 3, 20))

    async def agreement(self, attempt_id: str, total: Decimal) -> None:
        await add_agreement(
            self.session, customer_id=self.customer.id, attempt_id=attempt_id, campaign_id=self.campaign.id,
            agent_id=self.agent.id, approval_id=None, kind="a_vista", discount_pct=Decimal(0),
            discount_amount=Decimal("0.00"), debt_total=total, calculation={},
            installments=[InstallmentSpec(0, date(2026, 3, 2), total)],
            debts=[DebtShare(self.debt.id, total)], created_at=NOW,
        )


async def test_outcomes_and_agreements_keep_the_calls_amount(session: AsyncSession) -> None:
    w = await _World(session).setup()
    plain = await w.call()
    assert await _amount(session, plain) is None

    promise = await w.call()
    await w.outcome(promise, "PROMESSA", Decimal("1234.56"))
    assert await _amount(session, promise) == Decimal("1234.56")

    refused = await w.call()
    await w.outcome(refused, "RECUSA")
    assert await _amount(session, refused) is None

    # the agreement first (made during the call), the ACORDO outcome at wrap-up: the total stays
    deal = await w.call()
    await w.agreement(deal, Decimal("2100.00"))
    assert await _amount(session, deal) == Decimal("2100.00")
    await w.outcome(deal, "ACORDO")
    assert await _amount(session, deal) == Decimal("2100.00")

    # the other order, and an agreement on a call whose outcome promised: the agreement's total wins
    late = await w.call()
    await w.outcome(late, "ACORDO")
    assert await _amount(session, late) is None
    await w.agreement(late, Decimal("99.90"))
    assert await _amount(session, late) == Decimal("99.90")
    both = await w.call()
    await w.outcome(both, "PROMESSA", Decimal("50.00"))
    await w.agreement(both, Decimal("75.00"))
    assert await _amount(session, both) == Decimal("75.00")

    # the same outcome again (its idempotency key) changes nothing
    again = str((await session.execute(text("SELECT client_key FROM outcomes WHERE attempt_id = :a"),
                                       {"a": promise})).scalar())
    await add_outcome(session, attempt_id=promise, agent_id=w.agent.id, code="PROMESSA", client_key=again,
                      promise_amount=Decimal("1.00"))
    assert await _amount(session, promise) == Decimal("1234.56")


async def test_the_amount_filter_matches_a_plain_computation(session: AsyncSession) -> None:
    """Random calls (no amount, promises, agreements, both, amounts on the bounds) and many ranges: every
    page walk of the filter equals the calls a plain loop over the stored facts picks, in keyset order."""
    rng = random.Random(6)
    w = await _World(session).setup()
    picks = [Decimal("10.00"), Decimal("250.00"), Decimal("250.01"), Decimal("999.99"), Decimal("1000.00")]
    expected_amount: dict[str, Decimal | None] = {}
    created: dict[str, datetime] = {}
    for i in range(60):
        at = NOW - timedelta(minutes=rng.randrange(0, 5) * 7 + i % 3)  # equal times: the id breaks the tie
        call_id = await w.call(at)
        created[call_id] = at
        kind = rng.choice(["none", "refused", "promise", "agreement", "acordo", "both"])
        value = rng.choice(picks) if rng.random() < 0.4 else Decimal(rng.randrange(1, 200_000)) / 100
        amount: Decimal | None = None
        if kind == "refused":
            await w.outcome(call_id, "RECUSA")
        elif kind == "promise":
            await w.outcome(call_id, "PROMESSA", value)
            amount = value
        elif kind == "agreement":
            await w.agreement(call_id, value)
            amount = value
        elif kind == "acordo":
            await w.agreement(call_id, value)
            await w.outcome(call_id, "ACORDO")
            amount = value
        elif kind == "both":
            await w.outcome(call_id, "PROMESSA", Decimal("5.00"))
            await w.agreement(call_id, value)
            amount = value
        expected_amount[call_id] = amount
    await session.flush()

    ranges: list[tuple[Decimal | None, Decimal | None]] = [(lo, None) for lo in picks] + [(None, hi) for hi in picks] + [(lo, hi) for lo in picks for hi in picks if lo <= hi]
    ranges += [(Decimal(rng.randrange(0, 200_000)) / 100, None) for _ in range(5)]
    for low, high in ranges:
        want = sorted(
            (c for c, a in expected_amount.items()
             if a is not None and (low is None or a >= low) and (high is None or a <= high)),
            key=lambda c: (created[c], c), reverse=True,
        )
        got: list[str] = []
        after = None
        while True:
            rows, more = await list_calls(session, CallQuery(campaign_id=w.campaign.id, min_amount=low,
                                                             max_amount=high, limit=7, after=after))
            got += [r.id for r in rows]
            assert all(r.amount == expected_amount[r.id] for r in rows)
            if not more:
                break
            after = (rows[-1].created_at, rows[-1].id)
        assert got == want, (low, high)


def test_the_migration_fills_the_amount_of_existing_calls(empty_db_url: str) -> None:
    """0015 on a database already holding calls with promises and agreements."""
    migrate.upgrade(empty_db_url, "0011_qa")
    ts = "'2026-03-02 12:00:00'"
    statements = [
        ("INSERT INTO campaigns (id, name, mode, status, dial_template, caller_id, pbx_name, ring_timeout_s,"
         f" max_dial_level, abandon_cap, amd_enabled, created_at) VALUES (1, 'Cartões', 'progressive', 'active',"
         f" 'Local/{{number}}@x', '551130000000', 'sim', 25, 3, 0.03, FALSE, {ts})"),
        ("INSERT INTO customers (id, external_id, name, cpf, deceased, dispute_pending, balance_total, created_at,"
         f" updated_at) VALUES (1, 'C1', 'José', '12345678909', FALSE, FALSE, 0, {ts}, {ts})"),
    ]
    for n in range(1, 6):
        statements.append(
            "INSERT INTO call_attempts (id, campaign_id, customer_id, mode, number, created_at, abandoned, short_call)"
            f" VALUES ('{n:032x}', 1, 1, 'progressive', '+5511900000000', {ts}, FALSE, FALSE)")
    outcomes = [(1, "PROMESSA", "321.09"), (2, "RECUSA", None), (3, "ACORDO", None), (5, "PROMESSA", "10.00")]
    for i, (n, code, promise) in enumerate(outcomes, start=1):
        value = "NULL" if promise is None else promise
        statements.append(
            "INSERT INTO outcomes (id, attempt_id, code, promise_amount, client_key, created_at)"
            f" VALUES ({i}, '{n:032x}', '{code}', {value}, 'k{i}', {ts})")
    for i, (n, total) in enumerate([(3, "4500.00"), (4, "77.70"), (5, "20.00")], start=1):
        statements.append(
            "INSERT INTO agreements (id, customer_id, attempt_id, campaign_id, kind, discount_pct, discount_amount,"
            f" debt_total, total, calculation, status, created_at) VALUES ({i}, 1, '{n:032x}', 1, 'a_vista', 0, 0,"
            f" {total}, {total}, '{{}}', 'active', {ts})")
    _execute(empty_db_url, *statements)

    migrate.upgrade(empty_db_url, "head")
    migrate.check(empty_db_url)
    amounts = {str(k): v for k, v in _query(empty_db_url, "SELECT id, amount FROM call_attempts")}
    assert {k: None if v is None else Decimal(str(v)).quantize(Decimal("0.01")) for k, v in amounts.items()} == {
        f"{1:032x}": Decimal("321.09"), f"{2:032x}": None, f"{3:032x}": Decimal("4500.00"),
        f"{4:032x}": Decimal("77.70"), f"{5:032x}": Decimal("20.00"),
    }


def _execute(url: str, *statements: str) -> None:
    async def run() -> None:
        engine = create_engine(url)
        try:
            async with engine.begin() as conn:
                for sql in statements:
                    await conn.execute(text(sql))
        finally:
            await engine.dispose()

    asyncio.run(run())


def _query(url: str, sql: str) -> list[tuple[object, ...]]:
    async def run() -> list[tuple[object, ...]]:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                return [tuple(r) for r in await conn.execute(text(sql))]
        finally:
            await engine.dispose()

    return asyncio.run(run())
