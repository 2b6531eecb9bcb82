"""Updated debt ("atualização do débito", reference §1.2-1.3): correction, fine, interest.

For a principal P due on V and computed on D (n = D - V days):

    correção    = P x (factor - 1)          factor: IPCA / IGP-M accumulated, or given
    P corrigido = P + correção              never below P (a negative index does not
                                            reduce the nominal debt)
    multa       = fine % x P (or x P corrigido, per terms); consumers capped at 2 %
                  (CDC art. 52 §1)
    juros       = P corrigido x rate % a.m. x days / 30   (simple, pro rata die)
    total       = P corrigido + multa + juros - descontos

Each item is rounded half-up to cents (see ``scripting.money``) and the total is the
sum of the rounded items, so the itemised lines read to the debtor always add up.
When the contract is silent on interest (``interest_pct_month=None``) days before
30/08/2024 accrue 1 % a.m. (CC art. 406 old wording + CTN art. 161 §1) and days from
30/08/2024 on accrue the monthly "taxa legal" of their month (Lei 14.905/2024,
Res. CMN 5.171/2024: simple interest, pro rata), looked up in the index table.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from scripting.indices import IndexTable, Month, Series
from scripting.money import (
    HUNDRED,
    ZERO,
    format_brl,
    format_date_br,
    format_decimal_br,
    format_percent_br,
    to_cents,
)

#: First day of the "taxa legal" regime (Lei 14.905/2024 in force 60 days after 01/07/2024).
TAXA_LEGAL_START = date(2024, 8, 30)
#: Default-interest rate before TAXA_LEGAL_START, in percent a month.
OLD_LEGAL_RATE_PCT = Decimal(1)
#: CDC art. 52 §1: the late fine on a consumer installment may not exceed 2 %.
CONSUMER_FINE_CAP_PCT = Decimal(2)
DAYS_PER_MONTH = Decimal(30)


class DebtError(ValueError):
    """Bad input to the debt calculation; the message names the field."""


class CorrectionIndex(StrEnum):
    NONE = "none"
    IPCA = "IPCA"
    IGPM = "IGP-M"

    @property
    def series(self) -> Series | None:
        return {CorrectionIndex.IPCA: Series.IPCA, CorrectionIndex.IGPM: Series.IGPM}.get(self)


class FineBase(StrEnum):
    ORIGINAL = "original"
    CORRECTED = "corrected"


@dataclass(frozen=True)
class ChargeTerms:
    """A creditor's or campaign's "encargos" parameters.

    ``interest_pct_month=None`` means the contract is silent: legal default applies.
    ``consumer=True`` caps the fine at 2 % (CDC art. 52 §1).
    """

    index: CorrectionIndex = CorrectionIndex.NONE
    fine_pct: Decimal = Decimal(2)
    fine_base: FineBase = FineBase.ORIGINAL
    interest_pct_month: Decimal | None = Decimal(1)
    consumer: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.fine_pct, Decimal) or not self.fine_pct.is_finite() or self.fine_pct < 0:
            raise DebtError(f"fine_pct: must be a Decimal >= 0, got {self.fine_pct!r}")
        if self.interest_pct_month is not None and (
            not isinstance(self.interest_pct_month, Decimal)
            or not self.interest_pct_month.is_finite()
            or self.interest_pct_month < 0
        ):
            raise DebtError(f"interest_pct_month: must be a Decimal >= 0 or None, got {self.interest_pct_month!r}")

    @property
    def effective_fine_pct(self) -> Decimal:
        return min(self.fine_pct, CONSUMER_FINE_CAP_PCT) if self.consumer else self.fine_pct


@dataclass(frozen=True)
class InterestPeriod:
    """Days (first..last, inclusive) accruing one monthly rate."""

    first: date
    last: date
    days: int
    pct_month: Decimal
    source: str  # "contrato", "legal_antigo" or "taxa_legal"


@dataclass(frozen=True)
class DebtBreakdown:
    """An itemised updated debt with the parameters that produced it (reproducible)."""

    principal: Decimal
    due_on: date
    computed_on: date
    terms: ChargeTerms
    correction_factor: Decimal
    factor_source: str  # "none", "informado", or "tabela IPCA 2025-03..2025-04"
    days_overdue: int
    correction: Decimal
    fine_pct: Decimal
    fine: Decimal
    interest: Decimal
    interest_periods: tuple[InterestPeriod, ...] = ()
    discount: Decimal = ZERO
    discount_note: str = ""

    @property
    def corrected_principal(self) -> Decimal:
        return self.principal + self.correction

    @property
    def charges(self) -> Decimal:
        """Correction + fine + interest (the "encargos")."""
        return self.correction + self.fine + self.interest

    @property
    def gross_total(self) -> Decimal:
        """The total before any discount."""
        return self.principal + self.charges

    @property
    def total(self) -> Decimal:
        return self.gross_total - self.discount

    def with_discount(self, amount: Decimal, note: str = "") -> DebtBreakdown:
        """The same debt with a discount (in R$) replacing any earlier one."""
        amount = to_cents(amount)
        if amount < 0 or amount > self.gross_total:
            raise DebtError(f"discount: must be between R$ 0,00 and {format_brl(self.gross_total)}, got {amount}")
        return replace(self, discount=amount, discount_note=note)

    def lines(self) -> list[tuple[str, Decimal]]:
        """The itemised lines in pt-BR, as SP Lei 14.953/2013 and RJ Lei 6.854/2014 ask."""
        out = [(f"Valor original (vencimento {format_date_br(self.due_on)})", self.principal)]
        if self.correction:
            out.append((f"Correção monetária ({self._index_label()})", self.correction))
        if self.fine:
            base = "valor original" if self.terms.fine_base is FineBase.ORIGINAL else "valor corrigido"
            out.append((f"Multa de {format_percent_br(self.fine_pct)} sobre o {base}", self.fine))
        if self.interest:
            out.append((f"Juros de mora ({self._interest_label()})", self.interest))
        if self.discount:
            label = f"Desconto ({self.discount_note})" if self.discount_note else "Desconto"
            out.append((label, -self.discount))
        return out

    def as_text(self) -> str:
        """Itemised pt-BR text, one line per item, then the total."""
        width = max(len(label) for label, _ in self.lines())
        rows = [f"{label.ljust(width)}  {format_brl(value)}" for label, value in self.lines()]
        rows.append(f"{('Total em ' + format_date_br(self.computed_on)).ljust(width)}  {format_brl(self.total)}")
        return "\n".join(rows)

    def as_sentence(self) -> str:
        """One sentence an agent can read aloud."""
        if self.days_overdue <= 0 and not self.discount:
            return f"O valor é de {format_brl(self.total)}, com vencimento em {format_date_br(self.due_on)}."
        parts = []
        if self.correction:
            parts.append(f"correção monetária de {format_brl(self.correction)}")
        if self.fine:
            parts.append(f"multa de {format_brl(self.fine)}")
        if self.interest:
            parts.append(f"juros de {format_brl(self.interest)}")
        if self.discount:
            parts.append(f"desconto de {format_brl(self.discount)}")
        items = ", ".join(parts[:-1]) + (" e " if len(parts) > 1 else "") + parts[-1] if parts else ""
        joined = f", com {items}," if items else ","
        return (
            f"O valor original é de {format_brl(self.principal)}{joined} "
            f"o total atualizado em {format_date_br(self.computed_on)} é de {format_brl(self.total)}."
        )

    def _index_label(self) -> str:
        factor = format_decimal_br(self.correction_factor, 6)
        if self.factor_source == "informado":
            return f"{self.terms.index.value}, fator informado {factor}"
        return f"{self.terms.index.value}, fator {factor}"

    def _interest_label(self) -> str:
        if self.terms.interest_pct_month is not None:
            return f"{self.days_overdue} dias a {format_percent_br(self.terms.interest_pct_month)} ao mês"
        sources = {p.source for p in self.interest_periods}
        if sources == {"legal_antigo"}:
            return f"{self.days_overdue} dias a 1,00% ao mês"
        if sources == {"taxa_legal"}:
            return f"{self.days_overdue} dias pela taxa legal"
        return f"{self.days_overdue} dias: 1,00% ao mês até 29/08/2024 e taxa legal a partir de 30/08/2024"

    def to_record(self) -> dict[str, Any]:
        """A JSON-ready record (Decimals and dates as strings) to store with an offer."""
        return {
            "principal": str(self.principal),
            "due_on": self.due_on.isoformat(),
            "computed_on": self.computed_on.isoformat(),
            "terms": {
                "index": self.terms.index.value,
                "fine_pct": str(self.terms.fine_pct),
                "fine_base": self.terms.fine_base.value,
                "interest_pct_month": None
                if self.terms.interest_pct_month is None
                else str(self.terms.interest_pct_month),
                "consumer": self.terms.consumer,
            },
            "correction_factor": str(self.correction_factor),
            "factor_source": self.factor_source,
            "days_overdue": self.days_overdue,
            "correction": str(self.correction),
            "fine_pct": str(self.fine_pct),
            "fine": str(self.fine),
            "interest": str(self.interest),
            "interest_periods": [
                {
                    "first": p.first.isoformat(),
                    "last": p.last.isoformat(),
                    "days": p.days,
                    "pct_month": str(p.pct_month),
                    "source": p.source,
                }
                for p in self.interest_periods
            ],
            "discount": str(self.discount),
            "discount_note": self.discount_note,
            "total": str(self.total),
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> DebtBreakdown:
        """Rebuilds a breakdown from :meth:`to_record` output, checking that it still adds up."""
        t = record["terms"]
        terms = ChargeTerms(
            index=CorrectionIndex(t["index"]),
            fine_pct=Decimal(t["fine_pct"]),
            fine_base=FineBase(t["fine_base"]),
            interest_pct_month=None if t["interest_pct_month"] is None else Decimal(t["interest_pct_month"]),
            consumer=bool(t["consumer"]),
        )
        breakdown = cls(
            principal=Decimal(record["principal"]),
            due_on=date.fromisoformat(record["due_on"]),
            computed_on=date.fromisoformat(record["computed_on"]),
            terms=terms,
            correction_factor=Decimal(record["correction_factor"]),
            factor_source=record["factor_source"],
            days_overdue=int(record["days_overdue"]),
            correction=Decimal(record["correction"]),
            fine_pct=Decimal(record["fine_pct"]),
            fine=Decimal(record["fine"]),
            interest=Decimal(record["interest"]),
            interest_periods=tuple(
                InterestPeriod(
                    first=date.fromisoformat(p["first"]),
                    last=date.fromisoformat(p["last"]),
                    days=int(p["days"]),
                    pct_month=Decimal(p["pct_month"]),
                    source=p["source"],
                )
                for p in record["interest_periods"]
            ),
            discount=Decimal(record["discount"]),
            discount_note=record["discount_note"],
        )
        if breakdown.total != Decimal(record["total"]):
            raise DebtError(f"total: record says {record['total']} but its items add up to {breakdown.total}")
        return breakdown


def update_debt(
    principal: Decimal,
    due_on: date,
    on: date,
    terms: ChargeTerms,
    *,
    indices: IndexTable | None = None,
    correction_factor: Decimal | None = None,
) -> DebtBreakdown:
    """Computes the itemised updated debt of ``principal`` due on ``due_on`` as of ``on``.

    ``correction_factor`` overrides the index table (e.g. a factor the creditor sent);
    otherwise the factor comes from ``indices`` for ``terms.index``. Paying on or
    before the due date owes exactly the principal.
    """
    if not isinstance(principal, Decimal) or not principal.is_finite() or principal < 0:
        raise DebtError(f"principal: must be a Decimal >= 0, got {principal!r}")
    if principal != to_cents(principal):
        raise DebtError(f"principal: must be in whole cents, got {principal}")
    days = (on - due_on).days
    if days <= 0:
        return DebtBreakdown(
            principal=principal,
            due_on=due_on,
            computed_on=on,
            terms=terms,
            correction_factor=Decimal(1),
            factor_source="none",
            days_overdue=max(days, 0),
            correction=ZERO,
            fine_pct=terms.effective_fine_pct,
            fine=ZERO,
            interest=ZERO,
        )
    factor, factor_source = _correction_factor(due_on, on, terms, indices, correction_factor)
    # A negative index never reduces the nominal debt below the principal.
    correction = max(ZERO, to_cents(principal * (factor - 1)))
    corrected = principal + correction
    fine_pct = terms.effective_fine_pct
    fine_base = principal if terms.fine_base is FineBase.ORIGINAL else corrected
    fine = to_cents(fine_base * fine_pct / HUNDRED)
    periods = _interest_periods(due_on, on, terms, indices)
    interest = to_cents(sum((corrected * p.pct_month / HUNDRED * p.days / DAYS_PER_MONTH for p in periods), ZERO))
    return DebtBreakdown(
        principal=principal,
        due_on=due_on,
        computed_on=on,
        terms=terms,
        correction_factor=factor,
        factor_source=factor_source,
        days_overdue=days,
        correction=correction,
        fine_pct=fine_pct,
        fine=fine,
        interest=interest,
        interest_periods=tuple(periods),
    )


def _correction_factor(
    due_on: date,
    on: date,
    terms: ChargeTerms,
    indices: IndexTable | None,
    given: Decimal | None,
) -> tuple[Decimal, str]:
    if terms.index is CorrectionIndex.NONE:
        if given is not None and given != 1:
            raise DebtError("correction_factor: given, but the terms use no correction index (index=none)")
        return Decimal(1), "none"
    if given is not None:
        if not isinstance(given, Decimal) or not given.is_finite() or given <= 0:
            raise DebtError(f"correction_factor: must be a Decimal > 0, got {given!r}")
        return given, "informado"
    if indices is None:
        raise DebtError(f"indices: terms use {terms.index.value} but no index table or factor was given")
    series = terms.index.series
    assert series is not None
    start, end = Month.of(due_on), Month.of(on)
    factor = indices.factor(series, start, end)
    return factor, f"tabela {series.value} {start}..{end}"


def _interest_periods(due_on: date, on: date, terms: ChargeTerms, indices: IndexTable | None) -> list[InterestPeriod]:
    first, last = due_on + timedelta(days=1), on
    if terms.interest_pct_month is not None:
        return [InterestPeriod(first, last, (last - first).days + 1, terms.interest_pct_month, "contrato")]
    periods: list[InterestPeriod] = []
    if first < TAXA_LEGAL_START:
        end = min(last, TAXA_LEGAL_START - timedelta(days=1))
        periods.append(InterestPeriod(first, end, (end - first).days + 1, OLD_LEGAL_RATE_PCT, "legal_antigo"))
    cursor = max(first, TAXA_LEGAL_START)
    while cursor <= last:
        if indices is None:
            raise DebtError("indices: the contract is silent on interest and the period needs the taxa legal table")
        month_end = cursor.replace(day=calendar.monthrange(cursor.year, cursor.month)[1])
        end = min(last, month_end)
        rate = indices.rate(Series.TAXA_LEGAL, Month.of(cursor))
        periods.append(InterestPeriod(cursor, end, (end - cursor).days + 1, rate, "taxa_legal"))
        cursor = end + timedelta(days=1)
    return periods


__all__ = [
    "CONSUMER_FINE_CAP_PCT",
    "TAXA_LEGAL_START",
    "ChargeTerms",
    "CorrectionIndex",
    "DebtBreakdown",
    "DebtError",
    "FineBase",
    "InterestPeriod",
    "update_debt",
]
