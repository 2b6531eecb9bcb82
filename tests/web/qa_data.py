"""Call records for the QA tests: a campaign, customers and calls with outcomes, negotiations and script runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from storage.engine import create_engine, session_factory
from storage.models import (
    Agreement,
    CallAttempt,
    Campaign,
    CampaignMode,
    Customer,
    Debt,
    Outcome,
    Promise,
    ScriptRunRecord,
    User,
)
from storage.repositories.calls import refresh_all_call_amounts


@dataclass
class Seeded:
    campaign_id: int
    other_campaign_id: int
    ana_id: int
    calls: list[str] = field(default_factory=list)
    by_name: dict[str, str] = field(default_factory=dict)


def _id(n: int) -> str:
    return f"{n:032x}"


async def seed_calls(db_url: str, now: datetime) -> Seeded:
    """Eight calls of agent ``ana`` over two days (the users of tests.web.conftest must exist)."""
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as db:
            ana = (await db.execute(select(User).where(User.login == "ana"))).scalar_one()
            camp = Campaign(name="Carteira A", dial_template="PJSIP/{number}@t", caller_id="1130000000", pbx_name="default",
                            mode=CampaignMode.PROGRESSIVE)
            other = Campaign(name="Carteira B", dial_template="PJSIP/{number}@t", caller_id="1130000000",
                             pbx_name="default", mode=CampaignMode.PROGRESSIVE)
            db.add_all([camp, other])
            cust = Customer(external_id="c-1", name="Maria Aparecida da Silva", cpf="12345678909", uf="SP",
                            balance_total=Decimal("900.00"))
            db.add(cust)
            await db.flush()
            db.add(Debt(customer_id=cust.id, contract="CT-1", creditor="Banco", original_amount=Decimal("700.00"),
                        balance=Decimal("900.00"), due_date=date(2025, 10, 1)))
            seeded = Seeded(camp.id, other.id, ana.id)

            def call(n: int, minutes_ago: int, *, campaign: int | None = None, talk: int | None = 120,
                     result: str = "connected", recording: bool = True) -> CallAttempt:
                created = now - timedelta(minutes=minutes_ago)
                connected = created + timedelta(seconds=10) if talk is not None else None
                c = CallAttempt(
                    id=_id(n), campaign_id=campaign or camp.id, customer_id=cust.id, agent_id=ana.id,
                    mode=CampaignMode.PROGRESSIVE, number="+5511987654321", created_at=created,
                    originated_at=created + timedelta(seconds=1), ringing_at=created + timedelta(seconds=2),
                    answered_at=created + timedelta(seconds=8) if talk is not None else None,
                    connected_at=connected,
                    ended_at=(connected + timedelta(seconds=talk)) if connected and talk is not None else created + timedelta(seconds=30),
                    result=result, hangup_cause=16, hangup_side="customer", amd_status="HUMAN", amd_cause="HUMAN-1-1",
                    recording_path=f"/var/spool/asterisk/monitor/{_id(n)}.wav" if recording else None,
                )
                db.add(c)
                seeded.calls.append(c.id)
                return c

            acordo = call(1, 5, talk=300)
            promessa = call(2, 10, talk=200)
            curta = call(3, 15, talk=12)
            call(4, 20, talk=None, result="no_answer", recording=False)
            contesta = call(5, 25, talk=90)
            call(6, 60 * 24 + 30, talk=60, campaign=other.id)
            call(7, 60 * 24 + 40, talk=45)
            call(8, 60 * 24 + 50, talk=None, result="busy", recording=False)
            await db.flush()
            seeded.by_name.update(acordo=acordo.id, promessa=promessa.id, curta=curta.id, contesta=contesta.id)

            def outcome(c: CallAttempt, code: str, k: str, **kw: object) -> None:
                db.add(Outcome(attempt_id=c.id, agent_id=ana.id, code=code, client_key=k,
                               created_at=c.ended_at, **kw))

            outcome(acordo, "ACORDO", "k1", notes="Cliente pediu boleto por e-mail; texto; com ponto e vírgula")
            outcome(promessa, "PROMESSA", "k2", promise_amount=Decimal("1234.56"), promise_date=date(2026, 3, 20))
            outcome(curta, "RECUSA", "k3")
            outcome(contesta, "CONTESTA", "k5")
            db.add(Agreement(
                customer_id=cust.id, attempt_id=acordo.id, campaign_id=camp.id, agent_id=ana.id, kind="a_vista",
                discount_pct=Decimal("40.00"), discount_amount=Decimal("1400.00"), debt_total=Decimal("3500.00"),
                total=Decimal("2100.00"), created_at=acordo.connected_at + timedelta(seconds=100),  # type: ignore[operator]
                calculation={"limits": {"agent_pct": "30", "supervisor_pct": "50", "bucket_cap_pct": "60"}},
            ))
            db.add(Promise(customer_id=cust.id, attempt_id=promessa.id, campaign_id=camp.id, agent_id=ana.id,
                           amount=Decimal("1234.56"), due_date=date(2026, 3, 20),
                           created_at=promessa.connected_at + timedelta(seconds=60)))  # type: ignore[operator]
            db.add(ScriptRunRecord(
                attempt_id=acordo.id, agent_id=ana.id, script_id="cobranca_padrao", script_version=1,
                identity_confirmed_at=acordo.connected_at + timedelta(seconds=20),  # type: ignore[operator]
                outcome="ACORDO", steps=[
                    {"step_id": "saudacao", "entered_at": acordo.connected_at.isoformat(),  # type: ignore[union-attr]
                     "choice_id": "e_o_titular", "chosen_at": (acordo.connected_at + timedelta(seconds=5)).isoformat(),  # type: ignore[operator]
                     "capture_key": None, "capture_value": None},
                    {"step_id": "motivo", "entered_at": (acordo.connected_at + timedelta(seconds=30)).isoformat(),  # type: ignore[operator]
                     "choice_id": "desemprego", "chosen_at": None, "capture_key": "motivo", "capture_value": "desemprego"},
                ],
                captures={"motivo": "desemprego"},
            ))
            # the promise's call never confirmed identity: a flag
            await db.flush()
            await refresh_all_call_amounts(db)  # rows added directly, not through add_outcome/add_agreement
            await db.commit()
            return seeded
    finally:
        await engine.dispose()
