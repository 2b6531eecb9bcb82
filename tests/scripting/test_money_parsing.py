from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scripting.money import MoneyFormatError, format_brl, parse_money


@pytest.mark.parametrize(
    ("written", "amount"),
    [
        ("1.234,56", "1234.56"),
        ("1234,56", "1234.56"),
        ("1234.56", "1234.56"),
        ("R$ 1.234,56", "1234.56"),
        ("R$1.234,56", "1234.56"),
        ("r$ 1.234,56", "1234.56"),
        ("R$\u00a01.234,56", "1234.56"),
        ("1,234.56", "1234.56"),
        ("1.234", "1234.00"),
        ("1.234.567,8", "1234567.80"),
        ("12,5", "12.50"),
        ("0,01", "0.01"),
        ("1234", "1234.00"),
        ("-10,00", "-10.00"),
        ("R$ -5,00", "-5.00"),
        ("1 234,56", "1234.56"),
    ],
)
def test_amounts_as_spreadsheets_write_them(written: str, amount: str) -> None:
    assert parse_money(written) == Decimal(amount)


@pytest.mark.parametrize(
    ("bad", "code"),
    [("", "valor_vazio"), ("abc", "valor_invalido"), ("R$", "valor_invalido"), ("1.2345", "valor_invalido"),
     ("1,234", "valor_invalido"), ("12.34.56", "valor_invalido"), ("1,2,3", "valor_invalido"), ("1e5", "valor_invalido")],
)
def test_amounts_that_are_refused(bad: str, code: str) -> None:
    with pytest.raises(MoneyFormatError) as caught:
        parse_money(bad)
    assert caught.value.code == code


def test_format_brl() -> None:
    assert format_brl(Decimal("1234.56")) == "R$ 1.234,56"
    assert format_brl(Decimal("1234.56"), nbsp=True) == "R$\u00a01.234,56"  # as Babel writes it
    assert format_brl(Decimal("0")) == "R$ 0,00"
    assert format_brl(Decimal("1050.2")) == "R$ 1.050,20"
    assert format_brl(Decimal("1234567.891")) == "R$ 1.234.567,89"
    assert format_brl(Decimal("-1234.5")) == "-R$ 1.234,50"
    assert format_brl(Decimal("0.165")) == "R$ 0,17"  # half-up, not banker's


@given(st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("1e9"), places=2, allow_nan=False, allow_infinity=False))
def test_format_then_parse_round_trips(amount: Decimal) -> None:
    assert parse_money(format_brl(amount)) == amount
    assert parse_money(f"{amount:.2f}") == amount
    assert parse_money(f"{amount:.2f}".replace(".", ",")) == amount
