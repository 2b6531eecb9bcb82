"""A small fixed portfolio whose régua over March 2026 is worked out by hand in the tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import (
    Agreement,
    AgreementDebt,
    AgreementInstallment,
    AgreementKind,
    Campaign,
    CampaignMode,
    Customer,
    Debt,
    DebtStatus,
    InstallmentStatus,
    Lead,
    LeadState,
    Phone,
    PhoneKind,
    Promise,
)

BRT = timedelta(hours=-3)


def at_brt(day: date, hour: int = 10) -> datetime:
    """``hour``:00 of ``day`` in Brasília, as UTC."""
    return datetime.combine(day, time(hour), tzinfo=UTC) - BRT


@dataclass
class Portfolio:
    ana: int  # SP, e-mail and mobile, debt due Tue 10/03
    bruno: int  # RJ mobile, no e-mail, debt due Sat 07/03
    carla: int  # e-mail only, opted out of e-mail later by the test if it wants; debt due Fri 20/03
    davi: int  # an agreement: installment 1 due Mon 16/03 (unpaid), installment 2 due 30/03 (paid)
    eva: int  # a promise due Thu 12/03, never paid
    campaign: int
    agreement: int
    installment_unpaid: int
    promise: int


async def seed(sessions: async_sessionmaker[AsyncSession]) -> Portfolio:
    async with sessions.begin() as db:
        campaign = Campaign(name="Carteira régua", mode=CampaignMode.PROGRESSIVE, dial_template="Local/{number}@cust-sim",
                            caller_id="551130000000", pbx_name="sim")
        db.add(campaign)
        await db.flush()

        async def customer(ext: str, name: str, cpf: str, uf: str, email: str | None, phone: str | None) -> Customer:
            c = Customer(external_id=ext, name=name, cpf=cpf, uf=uf, email=email)
            db.add(c)
            await db.flush()
            if phone:
                db.add(Phone(customer_id=c.id, e164=phone, ddd=phone[3:5], kind=PhoneKind.OWN))
            db.add(Lead(campaign_id=campaign.id, customer_id=c.id, state=LeadState.DONE, last_result="no_answer"))
            return c

        def debt(c: Customer, contract: str, balance: str, due: date, status: DebtStatus = DebtStatus.OPEN) -> Debt:
            d = Debt(customer_id=c.id, contract=contract, creditor="Banco Exemplo", original_amount=Decimal(balance),
                     balance=Decimal(balance), due_date=due, status=status)
            db.add(d)
            return d

        ana = await customer("ana", "Ana Souza", "52998224725", "SP", "ana@example.com", "+5511987654321")
        debt(ana, "CT-ANA", "500.00", date(2026, 3, 10))
        bruno = await customer("bruno", "Bruno Lima", "11144477735", "RJ", None, "+5521987654321")
        debt(bruno, "CT-BRU", "1200.00", date(2026, 3, 7))
        carla = await customer("carla", "Carla Dias", "12345678909", "MG", "carla@example.com", None)
        debt(carla, "CT-CAR", "80.00", date(2026, 3, 20))
        davi = await customer("davi", "Davi Rocha", "98765432100", "SP", "davi@example.com", "+5511912345678")
        davi_debt = debt(davi, "CT-DAV", "900.00", date(2026, 1, 5), DebtStatus.IN_AGREEMENT)
        eva = await customer("eva", "Eva Nunes", "39053344705", "SP", None, "+5511955554444")
        await db.flush()
        agreement = Agreement(customer_id=davi.id, kind=AgreementKind.INSTALLMENTS, discount_pct=Decimal(0),
                              discount_amount=Decimal(0), debt_total=Decimal(900), total=Decimal(900),
                              calculation={}, created_at=at_brt(date(2026, 2, 20)))
        db.add(agreement)
        await db.flush()
        db.add(AgreementDebt(agreement_id=agreement.id, debt_id=davi_debt.id, updated_amount=Decimal(900)))
        unpaid = AgreementInstallment(agreement_id=agreement.id, number=1, due_date=date(2026, 3, 16), amount=Decimal(450))
        paid = AgreementInstallment(agreement_id=agreement.id, number=2, due_date=date(2026, 3, 30), amount=Decimal(450),
                                    paid_amount=Decimal(450), status=InstallmentStatus.PAID, paid_on=date(2026, 3, 2))
        db.add_all([unpaid, paid])
        promise = Promise(customer_id=eva.id, amount=Decimal(100), due_date=date(2026, 3, 12))
        db.add(promise)
        await db.flush()
        return Portfolio(ana.id, bruno.id, carla.id, davi.id, eva.id, campaign.id, agreement.id, unpaid.id, promise.id)
