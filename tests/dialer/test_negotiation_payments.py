"""The payment-file import: installments paid, promises kept or broken, rejections, idempotent re-import."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialer.negotiation.agreements import close_agreement, record_promise
from dialer.negotiation.payments import (
    BROKEN_PROMISE_REASON,
    PaymentFileError,
    import_payments,
)
from scripting.offers import OfferKind
from storage.models import (
    AgreementStatus,
    AuditLog,
    Debt,
    DebtStatus,
    InstallmentStatus,
    Lead,
    LeadState,
    Payment,
    Promise,
    PromiseStatus,
)
from storage.repositories.negotiation import get_agreement
from storage.repositories.screen_pop import load_pop_data, load_pop_data_many
from tests.dialer.negotiation_support import NOW, TODAY, World, add_call, seed, sessions

__all__ = ["sessions"]


def csv_bytes(text: str, encoding: str = "utf-8") -> io.BytesIO:
    return io.BytesIO(text.encode(encoding))


async def _agreement(sessions: async_sessionmaker[AsyncSession], w: World, installments: int = 2) -> int:
    call = await add_call(sessions, w)
    async with sessions() as db:
        agreement = await close_agreement(db, call_id=call, customer_id=w.customer_id, campaign_id=w.campaign_id,
                                          agent_id=w.agent_id, today=TODAY, at=NOW, kind=OfferKind.INSTALLMENTS,
                                          installments=installments)
        await db.commit()
        return agreement.id


async def _promise(sessions: async_sessionmaker[AsyncSession], w: World, amount: str, due: date) -> int:
    call = await add_call(sessions, w)
    async with sessions() as db:
        promise = await record_promise(db, call_id=call, customer_id=w.customer_id, campaign_id=w.campaign_id,
                                       agent_id=w.agent_id, amount=Decimal(amount), due_date=due, today=TODAY, at=NOW)
        await db.commit()
        return promise.id


async def test_payments_mark_installments_paid_and_settle_the_agreement(sessions: async_sessionmaker[AsyncSession]) -> None:
    w = await seed(sessions)
    agreement_id = await _agreement(sessions, w)
    async with sessions() as db:
        schedule = (await get_agreement(db, agreement_id)).installments
    down, first, second = schedule
    text = (
        "cpf;valor;data\n"
        f"529.982.247-25;{str(down.amount).replace('.', ',')};{down.due_date.strftime('%d/%m/%Y')}\n"
        f"52998224725;{first.amount};{first.due_date.isoformat()}\n"
    )
    report = await import_payments(sessions, csv_bytes(text), source="pag.csv", today=TODAY)
    assert (report.delimiter, report.rows, report.stored, report.installments_paid, report.agreements_settled) == (";", 2, 2, 2, 0)
    assert report.rejected == []
    async with sessions() as db:
        agreement = await get_agreement(db, agreement_id)
        assert [i.status for i in agreement.installments] == [InstallmentStatus.PAID, InstallmentStatus.PAID, InstallmentStatus.OPEN]
        assert agreement.installments[0].paid_on == down.due_date
        assert agreement.status is AgreementStatus.ACTIVE
    # the last one, paid by contract, settles the agreement and its contracts
    last = await import_payments(
        sessions, csv_bytes(f"contrato,valor,data\nCT-2,\"{str(second.amount).replace('.', ',')}\",{second.due_date:%d/%m/%Y}\n"),
        source="pag2.csv", today=TODAY,
    )
    assert (last.delimiter, last.installments_paid, last.agreements_settled) == (",", 1, 1)
    async with sessions() as db:
        assert (await get_agreement(db, agreement_id)).status is AgreementStatus.PAID
        statuses = (await db.execute(select(Debt.status).where(Debt.customer_id == w.customer_id))).scalars().all()
        assert set(statuses) == {DebtStatus.SETTLED}
        pop = await load_pop_data(db, w.customer_id, now=NOW, day_start=NOW - timedelta(hours=12))
        # the dialer's batched read (a tick's leads at once) sees the same agreements and payments
        many = await load_pop_data_many(db, [w.customer_id], now=NOW, day_start=NOW - timedelta(hours=12))
    assert all(i.paid for i in pop.agreements[0].installments) and len(pop.payments) == 3
    assert many == {w.customer_id: pop}


async def test_reimporting_the_same_file_changes_nothing(sessions: async_sessionmaker[AsyncSession]) -> None:
    w = await seed(sessions)
    await _agreement(sessions, w, installments=3)
    # two identical payments in one file are two payments; the file again is none
    text = "cpf;valor;data\n52998224725;50,00;02/03/2026\n52998224725;50,00;02/03/2026\n"
    first = await import_payments(sessions, csv_bytes(text), source="a.csv", today=TODAY)
    again = await import_payments(sessions, csv_bytes(text), source="a.csv", today=TODAY)
    assert (first.stored, first.duplicates) == (2, 0)
    assert (again.stored, again.duplicates, again.installments_paid) == (0, 2, 0)
    async with sessions() as db:
        payments = (await db.execute(select(Payment).where(Payment.customer_id == w.customer_id))).scalars().all()
    assert len(payments) == 2
    with_ids = "id_pagamento;cpf;valor;data\nP-1;52998224725;10,00;02/03/2026\n"
    assert (await import_payments(sessions, csv_bytes(with_ids), source="b.csv", today=TODAY)).stored == 1
    assert (await import_payments(sessions, csv_bytes(with_ids), source="b.csv", today=TODAY)).duplicates == 1


async def test_a_promise_paid_by_its_date_is_kept(sessions: async_sessionmaker[AsyncSession]) -> None:
    w = await seed(sessions)
    promise_id = await _promise(sessions, w, "150.00", date(2026, 3, 10))
    # paid in two parts, the second on the promised day
    text = "cpf;valor;data\n52998224725;100,00;05/03/2026\n52998224725;50,00;10/03/2026\n"
    report = await import_payments(sessions, csv_bytes(text), source="p.csv", today=date(2026, 3, 11))
    assert (report.promises_kept, report.promises_broken) == (1, 0)
    async with sessions() as db:
        promise = await db.get(Promise, promise_id)
        assert promise is not None and promise.status is PromiseStatus.KEPT and promise.paid_amount == Decimal("150.00")
        kept = (await db.execute(select(AuditLog.action).where(AuditLog.entity == "promise", AuditLog.entity_id == str(promise_id)))).scalars().all()
    assert "promise_kept" in kept


async def test_a_promise_past_its_date_unpaid_is_broken_and_the_lead_comes_back(sessions: async_sessionmaker[AsyncSession]) -> None:
    w = await seed(sessions)
    async with sessions() as db:
        lead = await db.get(Lead, w.lead_id)
        assert lead is not None
        lead.state, lead.next_attempt_at, lead.boost = LeadState.DIALABLE, NOW + timedelta(days=9), 0
        await db.commit()
    promise_id = await _promise(sessions, w, "150.00", date(2026, 3, 10))
    # a partial payment before the date does not keep it; one after the date does not count for it
    text = "cpf;valor;data\n52998224725;80,00;09/03/2026\n52998224725;70,00;11/03/2026\n"
    early = await import_payments(sessions, csv_bytes(text), source="p.csv", today=date(2026, 3, 10))
    assert (early.promises_kept, early.promises_broken) == (0, 0)  # its day is not over yet
    judged_at = NOW + timedelta(days=10)
    report = await import_payments(sessions, io.BytesIO(b"cpf;valor;data\n"), source="vazio.csv", today=date(2026, 3, 12),
                                   clock=lambda: judged_at)
    assert (report.promises_broken, report.leads_requeued) == (1, 1)
    async with sessions() as db:
        promise = await db.get(Promise, promise_id)
        lead = await db.get(Lead, w.lead_id)
        pop = await load_pop_data(db, w.customer_id, now=NOW, day_start=NOW)
    assert promise is not None and promise.status is PromiseStatus.BROKEN and promise.paid_amount == Decimal("80.00")
    assert lead is not None and lead.boost == 10 and lead.last_result == BROKEN_PROMISE_REASON
    assert lead.state is LeadState.DIALABLE and lead.next_attempt_at == judged_at
    assert len(pop.payments) == 2
    # judging again breaks nothing new and boosts nobody twice
    again = await import_payments(sessions, io.BytesIO(b"cpf;valor;data\n"), source="vazio.csv", today=date(2026, 3, 13))
    assert (again.promises_broken, again.leads_requeued) == (0, 0)


async def test_bad_rows_are_rejected_with_row_column_and_reason(sessions: async_sessionmaker[AsyncSession]) -> None:
    w = await seed(sessions)
    await _agreement(sessions, w)
    text = (
        "CPF;Contrato;Valor_Pago;Data_Pagamento\n"
        "52998224725;;100,00;02/03/2026\n"  # good
        "12345678900;;100,00;02/03/2026\n"  # bad check digits
        ";;100,00;02/03/2026\n"  # nobody
        "52998224725;;dez reais;02/03/2026\n"
        "52998224725;;-5,00;02/03/2026\n"
        "52998224725;;100,00;31/02/2026\n"
        "11144477735;;100,00;02/03/2026\n"  # valid CPF, unknown customer
        ";CT-9;100,00;02/03/2026\n"  # unknown contract
        "\n"
        "52998224725;CT-1;1,00;2026-03-02\n"  # good, by contract and CPF
    )
    report = await import_payments(sessions, csv_bytes(text, "latin-1"), source="ruim.csv", today=TODAY)
    assert report.stored == 2 and report.rows == 9
    assert [(r.row, r.column) for r in report.rejected] == [
        (3, "cpf"), (4, "cpf"), (5, "valor"), (6, "valor"), (7, "data"), (8, "cpf"), (9, "contrato"),
    ]
    assert "dígitos verificadores" in report.rejected[0].reason
    assert report.as_dict()["rejected"][6] == {"row": 9, "column": "contrato", "reason": "Contrato 'CT-9' não encontrado."}


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty"),
        ("cpf;data\n1;2\n", "valor"),
        ("valor;data\n1;2\n", "cpf or contrato"),
        ("cpf;valor;valor_pago;data\n", "appears twice"),
    ],
)
async def test_unreadable_files_are_named(sessions: async_sessionmaker[AsyncSession], text: str, message: str) -> None:
    with pytest.raises(PaymentFileError, match=message):
        await import_payments(sessions, csv_bytes(text), source="x.csv", today=TODAY)


async def test_dry_run_stores_nothing(sessions: async_sessionmaker[AsyncSession]) -> None:
    w = await seed(sessions)
    await _promise(sessions, w, "150.00", date(2026, 3, 3))
    report = await import_payments(sessions, csv_bytes("cpf;valor;data\n52998224725;150,00;03/03/2026\n"), source="d.csv",
                                   today=date(2026, 3, 20), dry_run=True)
    assert report.promises_kept == 1 and report.promises_broken == 0
    async with sessions() as db:
        assert (await db.execute(select(Payment))).first() is None
        assert (await db.execute(select(Promise.status))).scalar() is PromiseStatus.PENDING
