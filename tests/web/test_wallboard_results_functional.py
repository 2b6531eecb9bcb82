"""Today's results per campaign on the wallboard (right-party contacts, promises, agreements, amount agreed),
read from a real SQLite file: only the dispositions of today's (Brasília) calls count, and the cache reads the
database at most once per refresh period."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from storage.engine import create_engine, session_factory
from storage.models import (
    Agreement,
    AgreementKind,
    CallAttempt,
    CampaignMode,
    Outcome,
    OutcomeCode,
)
from tests.dialer.runtime_support import add_campaign, add_lead
from web.supervisor_console.results import TodayResults, day_start

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)  # 12:00 in Brasília


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def test_the_day_starts_at_midnight_in_brasilia() -> None:
    assert day_start(NOW) == datetime(2026, 3, 10, 3, 0, tzinfo=UTC)
    assert day_start(datetime(2026, 3, 10, 2, 59, tzinfo=UTC)) == datetime(2026, 3, 9, 3, 0, tzinfo=UTC)


async def test_today_results_per_campaign_and_the_cache(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        sessions = session_factory(engine)
        async with sessions.begin() as db:
            one = await add_campaign(db, name="Cartões")
            two = await add_campaign(db, CampaignMode.PREVIEW, name="Varejo")
            lead = await add_lead(db, one, "5511987650011")
            other = await add_lead(db, two, "5521987650022", cpf="52998224725")

            rows = [
                (one.id, lead.customer_id, OutcomeCode.ACORDO, NOW - timedelta(hours=1), Decimal("1234.56")),
                (one.id, lead.customer_id, OutcomeCode.PROMESSA, NOW - timedelta(hours=2), Decimal("300.00")),
                (one.id, lead.customer_id, OutcomeCode.RECADO, NOW - timedelta(hours=3), None),  # not the debtor
                (one.id, lead.customer_id, OutcomeCode.RECUSA, NOW - timedelta(hours=4), None),
                (one.id, lead.customer_id, OutcomeCode.ACORDO, NOW - timedelta(days=1), Decimal("999.00")),  # yesterday
                (two.id, other.customer_id, OutcomeCode.RETORNAR, NOW - timedelta(minutes=5), None),
            ]
            for i, (cid, customer_id, code, at, amount) in enumerate(rows):
                attempt = CallAttempt(campaign_id=cid, customer_id=customer_id, mode=CampaignMode.PROGRESSIVE,
                                      number="+5511987650011", created_at=at)
                db.add(attempt)
                await db.flush()
                # stored on the wall clock (not the app's): the call's time decides the day
                db.add(Outcome(attempt_id=attempt.id, code=code, client_key=f"k{i}", created_at=at + timedelta(days=30),
                               promise_amount=amount if code is OutcomeCode.PROMESSA else None,
                               promise_date=date(2026, 3, 20) if code is OutcomeCode.PROMESSA else None))
                if code is OutcomeCode.ACORDO:
                    assert amount is not None
                    db.add(Agreement(customer_id=customer_id, attempt_id=attempt.id, campaign_id=cid,
                                     kind=AgreementKind.CASH, discount_pct=Decimal("10.00"),
                                     discount_amount=Decimal("10.00"), debt_total=amount + 10, total=amount,
                                     calculation={}, created_at=at))

        clock = Clock()
        results = TodayResults(sessions, clock, refresh_s=5.0)
        got = await results.get()
        a, b = got[one.id], got[two.id]
        assert (a.right_party, a.promises, a.agreements, a.agreed_amount) == (3, 1, 1, Decimal("1234.56"))
        assert a.promised_amount == Decimal("300.00")
        assert (b.right_party, b.promises, b.agreements, b.agreed_amount) == (1, 0, 0, Decimal(0))

        # cached: a new disposition shows only after the refresh period
        async with sessions.begin() as db:
            attempt = CallAttempt(campaign_id=two.id, customer_id=other.customer_id, mode=CampaignMode.PROGRESSIVE,
                                  number="+5521987650022", created_at=NOW)
            db.add(attempt)
            await db.flush()
            db.add(Outcome(attempt_id=attempt.id, code=OutcomeCode.PROMESSA, client_key="late", created_at=NOW,
                           promise_amount=Decimal("50.00"), promise_date=date(2026, 3, 20)))
        clock.now = NOW + timedelta(seconds=2)
        assert (await results.get())[two.id].promises == 0 and results.reads == 1
        clock.now = NOW + timedelta(seconds=6)
        assert (await results.get())[two.id].promises == 1 and results.reads == 2
    finally:
        await engine.dispose()
