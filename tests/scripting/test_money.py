from datetime import date
from decimal import Decimal

import pytest

from scripting.money import format_brl, format_date_br, format_percent_br, parse_money, to_cents, to_cents_up


def test_rounding_is_half_up_and_pins_the_kobana_case() -> None:
    # R$ 100,00 x 1 % / 30 x 5 days = 0,1666...: half-up gives 0,17 (truncation would give 0,16).
    assert to_cents(Decimal(100) * Decimal("0.01") / 30 * 5) == Decimal("0.17")
    assert to_cents(Decimal("0.165")) == Decimal("0.17")
    assert to_cents(Decimal("0.125")) == Decimal("0.13")  # not banker's rounding
    assert to_cents(Decimal("-0.125")) == Decimal("-0.13")
    assert to_cents_up(Decimal("10.001")) == Decimal("10.01")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("1234.56"), "R$ 1.234,56"),
        (Decimal("0"), "R$ 0,00"),
        (Decimal("0.5"), "R$ 0,50"),
        (Decimal("999.999"), "R$ 1.000,00"),
        (Decimal("1234567.8"), "R$ 1.234.567,80"),
        (Decimal("-1234.5"), "-R$ 1.234,50"),
    ],
)
def test_format_brl(value: Decimal, text: str) -> None:
    assert format_brl(value) == text


def test_format_date_and_percent() -> None:
    assert format_date_br(date(2025, 3, 4)) == "04/03/2025"
    assert format_percent_br(Decimal("1.5")) == "1,50%"


@pytest.mark.parametrize(
    ("text", "value"),
    [("1234.56", "1234.56"), ("1234,56", "1234.56"), ("1.234,56", "1234.56"), ("R$ 1.234,56", "1234.56"), ("150", "150")],
)
def test_parse_money(text: str, value: str) -> None:
    assert parse_money(text) == Decimal(value)


@pytest.mark.parametrize("text", ["abc", "1,2,3", "12.345.6", ""])
def test_parse_money_rejects_with_the_text(text: str) -> None:
    with pytest.raises(ValueError, match="not an amount of money"):
        parse_money(text)
