"""The payment-file import (SPEC §9): payments settle installments and promises; missed promises break.

API::

    report = await import_payments(sessions, stream, source="pagamentos.csv", today=system_clock().date())
    report.as_dict()   # counts and rejections (row, column, reason) for ``--json``

The file: CSV with a header, ``;`` or ``,`` (or tab), UTF-8 or Latin-1 (detected as for
portfolios), columns (any order, case-insensitive):

- ``cpf`` and/or ``contrato``: who paid (at least one per row; with a contract the payment
  goes to the agreements covering that contract);
- ``valor`` (or ``valor_pago``): ``1.234,56``, ``1234.56``, ``R$ 1.234,56``;
- ``data`` (or ``data_pagamento``): ``dd/mm/aaaa`` or ``aaaa-mm-dd``;
- ``id_pagamento`` (optional): the creditor's id of the payment.

Each payment is applied, oldest due first, to the open installments of the customer's
active agreements (an installment is paid once what it received reaches its amount; the
last one settles the agreement and its contracts), then to the customer's open promises
whose date is on or after the payment date (a promise paid in full by its date is
**kept**). After the file, every open promise whose date + ``grace_days`` is before
``today`` is **broken**: its customer's leads go back to the list now, ``boost`` higher,
with last result ``PROMESSA_QUEBRADA``. Everything is audited.

Idempotent: a payment's key is its ``id_pagamento`` or, without one, a hash of who, amount,
date and its occurrence number in the file, so importing the same file twice stores and
applies nothing the second time. Each good row is its own transaction: a bad row is
rejected (row, column, reason) and the good rows are kept.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, BinaryIO

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialer.clocks import Clock, system_clock
from dialer.portfolio.cpf import parse_cpf
from dialer.portfolio.csv_reader import detect_delimiter, detect_encoding
from dialer.portfolio.dates import parse_date
from dialer.portfolio.errors import FieldError, PortfolioFormatError
from scripting.money import MoneyFormatError, parse_money
from storage.models import PromiseStatus
from storage.repositories import audit
from storage.repositories.payments import (
    add_payment,
    credit_installment,
    customer_ids_by_cpf,
    debts_by_contract,
    open_installments,
    payment_by_key,
    pending_promises,
    promises_past_due,
    requeue_customer_leads,
)

BROKEN_PROMISE_BOOST = 10
BROKEN_PROMISE_REASON = "PROMESSA_QUEBRADA"

_ALIASES = {
    "cpf": "cpf",
    "contrato": "contrato",
    "valor": "valor",
    "valor_pago": "valor",
    "data": "data",
    "data_pagamento": "data",
    "id_pagamento": "id_pagamento",
}


class PaymentFileError(ValueError):
    """The file as a whole can't be read (empty, missing columns, repeated columns)."""


@dataclass(frozen=True, slots=True)
class Rejection:
    row: int
    column: str | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class PaymentLine:
    row: int
    key: str
    cpf: str | None
    contract: str | None
    amount: Decimal
    paid_on: date


@dataclass
class ImportReport:
    source: str
    encoding: str = ""
    delimiter: str = ""
    rows: int = 0
    stored: int = 0
    duplicates: int = 0
    amount_stored: Decimal = Decimal("0.00")
    installments_paid: int = 0
    agreements_settled: int = 0
    promises_kept: int = 0
    promises_broken: int = 0
    leads_requeued: int = 0
    rejected: list[Rejection] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "rows": self.rows,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "amount_stored": str(self.amount_stored),
            "installments_paid": self.installments_paid,
            "agreements_settled": self.agreements_settled,
            "promises_kept": self.promises_kept,
            "promises_broken": self.promises_broken,
            "leads_requeued": self.leads_requeued,
            "rejected": [r.as_dict() for r in self.rejected],
        }


def read_payment_lines(stream: BinaryIO, report: ImportReport) -> list[PaymentLine]:
    """Parse the file; bad rows go to ``report.rejected``. Raises PaymentFileError for an unreadable file."""
    try:
        encoding = detect_encoding(stream)
    except PortfolioFormatError as exc:  # UTF-16, refused by name
        raise PaymentFileError(str(exc)) from None
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")
    try:
        first = text.readline()
        if not first.strip():
            raise PaymentFileError("the file is empty or its first line (the header) is blank")
        delimiter = detect_delimiter(first)
        report.encoding, report.delimiter = encoding, delimiter
        header = next(csv.reader([first], delimiter=delimiter))
        names: list[str | None] = []
        seen: dict[str, int] = {}
        for position, raw in enumerate(header, start=1):
            name = _ALIASES.get(raw.strip().lstrip("\ufeff").strip().lower())
            if name is not None and name in seen:
                raise PaymentFileError(f"column {name!r} appears twice in the header (columns {seen[name]} and {position})")
            if name is not None:
                seen[name] = position
            names.append(name)
        missing = [c for c in ("valor", "data") if c not in seen]
        if "cpf" not in seen and "contrato" not in seen:
            missing.insert(0, "cpf or contrato")
        if missing:
            raise PaymentFileError(f"header lacks required column(s): {', '.join(missing)}; found: {', '.join(header)}")
        occurrences: Counter[tuple[str, str, str, str]] = Counter()
        lines: list[PaymentLine] = []
        row_number = 1
        for record in csv.reader(text, delimiter=delimiter):
            row_number += 1
            if not any(v.strip() for v in record):
                continue
            report.rows += 1
            values = {n: record[i].strip() if i < len(record) else "" for i, n in enumerate(names) if n}
            line = _parse_row(row_number, values, occurrences, report)
            if line is not None:
                lines.append(line)
        return lines
    finally:
        text.detach()


def _parse_row(
    row: int, values: dict[str, str], occurrences: Counter[tuple[str, str, str, str]], report: ImportReport
) -> PaymentLine | None:
    def reject(column: str | None, reason: str) -> None:
        report.rejected.append(Rejection(row, column, reason))

    cpf_text, contract = values.get("cpf", ""), values.get("contrato", "") or None
    cpf: str | None = None
    if not cpf_text and contract is None:
        reject("cpf", "Informe o CPF ou o contrato de quem pagou.")
        return None
    if cpf_text:
        try:
            cpf = parse_cpf(cpf_text)
        except FieldError as exc:
            reject("cpf", exc.message_pt)
            return None
    try:
        amount = parse_money(values.get("valor", ""))
    except MoneyFormatError as exc:
        reject("valor", exc.message_pt)
        return None
    if amount <= 0:
        reject("valor", f"Valor do pagamento deve ser maior que zero: {values.get('valor', '')!r}.")
        return None
    try:
        paid_on = parse_date(values.get("data", ""))
    except FieldError as exc:
        reject("data", exc.message_pt)
        return None
    given = values.get("id_pagamento", "")
    if given:
        key = hashlib.sha256(f"id|{given}".encode()).hexdigest()
    else:
        ident = (cpf or "", contract or "", str(amount), paid_on.isoformat())
        occurrences[ident] += 1
        key = hashlib.sha256("|".join((*ident, str(occurrences[ident]))).encode()).hexdigest()
    return PaymentLine(row, key, cpf, contract, amount, paid_on)


async def import_payments(
    sessions: async_sessionmaker[AsyncSession],
    stream: BinaryIO,
    *,
    source: str,
    today: date,
    grace_days: int = 0,
    boost: int = BROKEN_PROMISE_BOOST,
    dry_run: bool = False,
    clock: Clock = system_clock,
) -> ImportReport:
    """Import a payment file, then break the promises whose date has passed unpaid (see the module doc)."""
    report = ImportReport(source=source)
    lines = read_payment_lines(stream, report)
    for line in lines:
        async with sessions() as db:
            rejection = await _apply(db, line, report, source, clock())
            if rejection is not None:
                report.rejected.append(rejection)
                await db.rollback()
            elif dry_run:
                await db.rollback()
            else:
                await db.commit()
    report.rejected.sort(key=lambda r: r.row)
    if not dry_run:
        async with sessions() as db:
            await _break_missed_promises(db, report, today=today, grace_days=grace_days, boost=boost, now=clock())
            await db.commit()
    return report


async def _apply(db: AsyncSession, line: PaymentLine, report: ImportReport, source: str, now: datetime) -> Rejection | None:
    if await payment_by_key(db, line.key) is not None:
        report.duplicates += 1
        return None
    customer_id: int | None = None
    debt_id: int | None = None
    if line.contract is not None:
        debts = await debts_by_contract(db, line.contract)
        if line.cpf is not None:
            owners = set(await customer_ids_by_cpf(db, line.cpf))
            debts = [d for d in debts if d.customer_id in owners]
        if not debts:
            return Rejection(line.row, "contrato", f"Contrato {line.contract!r} não encontrado" + (" para este CPF." if line.cpf else "."))
        if len({d.customer_id for d in debts}) > 1:
            return Rejection(line.row, "contrato", f"Contrato {line.contract!r} pertence a mais de um cliente; informe o CPF.")
        customer_id, debt_id = debts[0].customer_id, debts[0].id
    else:
        assert line.cpf is not None  # the parser insists on one of the two
        ids = await customer_ids_by_cpf(db, line.cpf)
        if not ids:
            return Rejection(line.row, "cpf", "Nenhum cliente com este CPF.")
        if len(ids) > 1:
            return Rejection(line.row, "cpf", "Mais de um cliente com este CPF; informe o contrato.")
        customer_id = ids[0]
    left = line.amount
    paid_installments: list[int] = []
    for installment in await open_installments(db, customer_id, debt_id):
        if left <= 0:
            break
        share = min(left, installment.amount - installment.paid_amount)
        left -= share
        paid, settled = await credit_installment(db, installment, amount=share, paid_on=line.paid_on, now=now)
        if paid:
            paid_installments.append(installment.id)
            report.installments_paid += 1
        report.agreements_settled += int(settled)
    kept: list[int] = []
    for promise in await pending_promises(db, customer_id):
        if left <= 0:
            break
        if promise.due_date < line.paid_on:
            continue  # paid after the date: it does not keep that promise
        share = min(left, promise.amount - promise.paid_amount)
        left -= share
        promise.paid_amount = promise.paid_amount + share
        if promise.paid_amount >= promise.amount:
            promise.status = PromiseStatus.KEPT
            promise.resolved_at = now
            kept.append(promise.id)
            report.promises_kept += 1
            await audit.record(
                db, user_id=None, action="promise_kept", entity="promise", entity_id=promise.id, at=now,
                before={"status": PromiseStatus.PENDING.value}, after={"status": PromiseStatus.KEPT.value, "paid_on": line.paid_on.isoformat()},
            )
    payment = await add_payment(
        db,
        source_key=line.key,
        customer_id=customer_id,
        debt_id=debt_id,
        amount=line.amount,
        paid_on=line.paid_on,
        source=source,
        applied={"installments": paid_installments, "promises_kept": kept, "unapplied": str(left)},
        imported_at=now,
    )
    await audit.record(
        db, user_id=None, action="payment_imported", entity="payment", entity_id=payment.id, at=now,
        after={"customer_id": customer_id, "amount": str(line.amount), "paid_on": line.paid_on.isoformat(), "row": line.row,
               "source": source},
    )
    report.stored += 1
    report.amount_stored += line.amount
    return None


async def _break_missed_promises(
    db: AsyncSession, report: ImportReport, *, today: date, grace_days: int, boost: int, now: datetime
) -> None:
    for promise in await promises_past_due(db, today - timedelta(days=grace_days)):
        promise.status = PromiseStatus.BROKEN
        promise.resolved_at = now
        report.promises_broken += 1
        report.leads_requeued += await requeue_customer_leads(
            db, promise.customer_id, now=now, boost=boost, reason=BROKEN_PROMISE_REASON
        )
        await audit.record(
            db, user_id=None, action="promise_broken", entity="promise", entity_id=promise.id, at=now,
            before={"status": PromiseStatus.PENDING.value},
            after={"status": PromiseStatus.BROKEN.value, "due_date": promise.due_date.isoformat(),
                   "paid_amount": str(promise.paid_amount), "lead_boost": boost, "reason": BROKEN_PROMISE_REASON},
        )
    await db.flush()


__all__ = [
    "BROKEN_PROMISE_BOOST",
    "BROKEN_PROMISE_REASON",
    "ImportReport",
    "PaymentFileError",
    "Rejection",
    "import_payments",
    "read_payment_lines",
]
