"""Pure pieces of the agent desk's words: money figures, promise bounds, the greeting by local hour."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from scripting.debt import ChargeTerms, update_debt
from scripting.figures import figures_of
from scripting.promise import PromiseLimits, PromiseRefused
from scripting.render import greeting_at

TODAY = date(2026, 3, 2)


def test_figures_add_up_and_name_the_principal_the_charges_apply_to() -> None:
    breakdown = update_debt(Decimal("1234.56"), date(2025, 3, 10), TODAY, ChargeTerms())
    f = figures_of(breakdown)
    assert f.principal == Decimal("1234.56")
    assert f.charges == breakdown.correction + breakdown.fine + breakdown.interest > 0
    assert f.principal + f.charges == f.total == breakdown.total
    view = f.view()
    assert view["principal_text"] == "R$ 1.234,56" and view["total"] == str(breakdown.total)
    discounted = figures_of(breakdown.with_discount(Decimal("100.00")))
    assert discounted.principal + discounted.charges - discounted.discount == discounted.total


def test_promise_limits() -> None:
    limits = PromiseLimits.of(Decimal("1521.39"), Decimal("50.00"), TODAY, 15)
    limits.check(Decimal("50.00"), TODAY)
    limits.check(Decimal("1521.39"), date(2026, 3, 17))
    for amount, due, field in (
        (Decimal("999999.00"), TODAY, "promise_amount"),
        (Decimal("49.99"), TODAY, "promise_amount"),
        (Decimal("100.00"), date(2026, 3, 18), "promise_date"),
        (Decimal("100.00"), date(2026, 3, 1), "promise_date"),
    ):
        with pytest.raises(PromiseRefused) as refused:
            limits.check(amount, due)
        assert refused.value.field == field
    assert "R$ 1.521,39" in limits.text() and "17/03/2026" in limits.text()
    # a debt smaller than the policy's minimum payment can still be promised in full
    assert PromiseLimits.of(Decimal("30.00"), Decimal("50.00"), TODAY, 10).minimum == Decimal("30.00")


@pytest.mark.parametrize(("hour", "word"), [(5, "Bom dia"), (11, "Bom dia"), (12, "Boa tarde"), (17, "Boa tarde"),
                                            (18, "Boa noite"), (23, "Boa noite"), (2, "Boa noite")])
def test_greeting_by_the_customers_hour(hour: int, word: str) -> None:
    assert greeting_at(hour) == word
