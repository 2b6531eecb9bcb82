"""Offer simulation: cash with discount, and installment plans (optionally Price table).

Rules (SPEC §7): the cash discount never exceeds the bucket's cap; a plan's down
payment reaches the minimum %; every payment (down payment included) is at least
the bucket's minimum installment; payments sum exactly to the plan's total, the
last absorbing the rounding; every due date is a business day (weekends and
national holidays skipped). Discounts and installments are rounded *down* to the
cent (so a cap or a total is never exceeded); the last installment takes the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum
from typing import Any

from scripting.business_days import BusinessCalendar, add_months
from scripting.debt import DebtBreakdown
from scripting.money import CENT, HUNDRED, ZERO, format_brl, format_date_br, format_percent_br, to_cents, to_cents_up
from scripting.policy import BucketPolicy, DiscountBase


class OfferError(ValueError):
    """A request outside the policy; the message names the parameter."""


class OfferKind(StrEnum):
    CASH = "a_vista"
    INSTALLMENTS = "parcelado"


@dataclass(frozen=True)
class Installment:
    """One payment; number 0 is the down payment ("entrada")."""

    number: int
    due_on: date
    amount: Decimal


@dataclass(frozen=True)
class Offer:
    """A priced proposal, with the itemised debt (discount included) it was priced from."""

    kind: OfferKind
    debt: DebtBreakdown
    discount_pct: Decimal
    monthly_rate_pct: Decimal
    installments: tuple[Installment, ...]

    @property
    def total_payable(self) -> Decimal:
        return sum((i.amount for i in self.installments), ZERO)

    @property
    def financing_interest(self) -> Decimal:
        """What the Price table adds on top of the (discounted) debt."""
        return self.total_payable - self.debt.total

    @property
    def down_payment(self) -> Installment | None:
        first = self.installments[0]
        return first if first.number == 0 else None

    @property
    def regular_installments(self) -> tuple[Installment, ...]:
        return tuple(i for i in self.installments if i.number > 0)

    def describe(self) -> str:
        """A short pt-BR description with the kind: ``"À vista: R$ 945,18 com vencimento em ..."``."""
        label = "À vista" if self.kind is OfferKind.CASH else "Parcelado"
        return f"{label}: {self.summary()}"

    def summary(self) -> str:
        """The description without the kind, to read after "à vista," or "parcelado,"."""
        if self.kind is OfferKind.CASH:
            only = self.installments[0]
            text = f"{format_brl(only.amount)} com vencimento em {format_date_br(only.due_on)}"
            if self.debt.discount:
                text += f" (desconto de {format_brl(self.debt.discount)})"
            return text
        parts = []
        if self.down_payment is not None:
            parts.append(f"entrada de {format_brl(self.down_payment.amount)} em {format_date_br(self.down_payment.due_on)}")
        regular = self.regular_installments
        if len({i.amount for i in regular}) == 1:
            parts.append(f"{len(regular)}x de {format_brl(regular[0].amount)}")
        else:
            parts.append(f"{len(regular) - 1}x de {format_brl(regular[0].amount)} e 1x de {format_brl(regular[-1].amount)}")
        if len(regular) > 1:
            span = f"de {format_date_br(regular[0].due_on)} a {format_date_br(regular[-1].due_on)}"
        else:
            span = f"em {format_date_br(regular[0].due_on)}"
        text = " + ".join(parts) + f" ({span}); total {format_brl(self.total_payable)}"
        if self.monthly_rate_pct:
            text += f", juros de {format_percent_br(self.monthly_rate_pct)} ao mês"
        if self.debt.discount:
            text += f", desconto de {format_brl(self.debt.discount)}"
        return text

    def to_record(self) -> dict[str, Any]:
        """A JSON-ready record, with the debt calculation, to store with the offer."""
        return {
            "kind": self.kind.value,
            "discount_pct": str(self.discount_pct),
            "monthly_rate_pct": str(self.monthly_rate_pct),
            "total_payable": str(self.total_payable),
            "installments": [
                {"number": i.number, "due_on": i.due_on.isoformat(), "amount": str(i.amount)} for i in self.installments
            ],
            "debt": self.debt.to_record(),
        }


def _floor_cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_DOWN)


def discount_amount(debt: DebtBreakdown, policy: BucketPolicy, discount_pct: Decimal) -> Decimal:
    """The discount in R$ for ``discount_pct`` on the policy's base, rounded down to the cent."""
    base = debt.gross_total if policy.discount_base is DiscountBase.TOTAL else debt.charges
    return _floor_cents(base * discount_pct / HUNDRED)


def split_installments(financed: Decimal, count: int, monthly_rate_pct: Decimal) -> list[Decimal]:
    """Splits ``financed`` into ``count`` payments; with a rate, Price table (first due one month on).

    All payments but the last are the payment rounded down to the cent; the last takes
    the rest, so the sum is exactly the plan's total (``financed`` without a rate).
    """
    if count < 1:
        raise OfferError(f"count: must be >= 1, got {count}")
    if monthly_rate_pct:
        rate = monthly_rate_pct / HUNDRED
        payment = financed * rate / (1 - (1 + rate) ** -count)
        total = to_cents(payment * count)
    else:
        payment = financed / count
        total = financed
    each = _floor_cents(payment)
    return [each] * (count - 1) + [total - each * (count - 1)]


def simulate_offers(
    debt: DebtBreakdown,
    policy: BucketPolicy,
    today: date,
    *,
    business_calendar: BusinessCalendar | None = None,
    discount_pct: Decimal | None = None,
    first_due: date | None = None,
    down_payment: Decimal | None = None,
    installment_counts: list[int] | None = None,
) -> list[Offer]:
    """The cash offer followed by every installment plan the policy allows for ``debt``.

    ``discount_pct`` defaults to the bucket's cap; ``first_due`` to today (both moved to
    the next business day); ``down_payment`` to the bucket's minimum; plans whose
    payments would fall below the minimum installment are left out.
    """
    if debt.discount:
        raise OfferError("debt: already carries a discount; simulate from the undiscounted breakdown")
    calendar = business_calendar or BusinessCalendar()
    cash_pct = policy.max_cash_discount_pct if discount_pct is None else discount_pct
    if not 0 <= cash_pct <= policy.max_cash_discount_pct:
        raise OfferError(
            f"discount_pct: {format_percent_br(cash_pct)} is outside 0..{format_percent_br(policy.max_cash_discount_pct)}"
            f" (bucket {policy.name!r})"
        )
    anchor = today if first_due is None else first_due
    if anchor < today:
        raise OfferError(f"first_due: {format_date_br(anchor)} is before today {format_date_br(today)}")
    latest = today + timedelta(days=policy.first_due_max_days)
    if anchor > latest:
        raise OfferError(
            f"first_due: {format_date_br(anchor)} is after the bucket's limit {format_date_br(latest)}"
            f" ({policy.first_due_max_days} days)"
        )
    first_day = calendar.on_or_after(anchor)
    offers = [_cash_offer(debt, policy, cash_pct, first_day)]
    counts = installment_counts or list(range(1, policy.max_installments + 1))
    for count in counts:
        if not 1 <= count <= policy.max_installments:
            raise OfferError(f"installment_counts: {count} is outside 1..{policy.max_installments} (bucket {policy.name!r})")
        plan = _installment_offer(debt, policy, count, anchor, calendar, down_payment)
        if plan is not None:
            offers.append(plan)
    return offers


def _cash_offer(debt: DebtBreakdown, policy: BucketPolicy, pct: Decimal, due_on: date) -> Offer:
    discounted = debt.with_discount(discount_amount(debt, policy, pct), f"{format_percent_br(pct)} à vista")
    return Offer(
        kind=OfferKind.CASH,
        debt=discounted,
        discount_pct=pct,
        monthly_rate_pct=ZERO,
        installments=(Installment(1, due_on, discounted.total),),
    )


def _installment_offer(
    debt: DebtBreakdown,
    policy: BucketPolicy,
    count: int,
    anchor: date,
    calendar: BusinessCalendar,
    down_payment: Decimal | None,
) -> Offer | None:
    pct = policy.installment_discount_pct
    note = f"{format_percent_br(pct)} no parcelamento"
    discounted = debt.with_discount(discount_amount(debt, policy, pct), note) if pct else debt
    total = discounted.total
    payments: list[Installment] = []
    if down_payment is not None or policy.min_down_payment_pct > 0:
        minimum = max(to_cents_up(total * policy.min_down_payment_pct / HUNDRED), policy.min_installment)
        if down_payment is not None and down_payment < minimum:
            raise OfferError(f"down_payment: {format_brl(down_payment)} is below the minimum {format_brl(minimum)}")
        down = minimum if down_payment is None else to_cents(down_payment)
        if down >= total:
            return None
        payments.append(Installment(0, calendar.on_or_after(anchor), down))
        financed, offset = total - down, 1
    else:
        financed, offset = total, 0
    amounts = split_installments(financed, count, policy.monthly_rate_pct)
    for number, amount in enumerate(amounts, start=1):
        due_on = calendar.on_or_after(add_months(anchor, number - 1 + offset))
        payments.append(Installment(number, due_on, amount))
    if any(p.amount < policy.min_installment or p.amount <= 0 for p in payments):
        return None
    return Offer(
        kind=OfferKind.INSTALLMENTS,
        debt=discounted,
        discount_pct=pct,
        monthly_rate_pct=policy.monthly_rate_pct,
        installments=tuple(payments),
    )
