from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialer.portfolio.cpf import check_digits, format_cpf, is_valid_cpf, make_cpf, mask_cpf, parse_cpf
from dialer.portfolio.errors import FieldError


@pytest.mark.parametrize("valid", ["52998224725", "529.982.247-25", " 529.982.247-25 ", "123.456.789-09", "222.333.666-38"])
def test_reference_valid_cpfs(valid: str) -> None:
    assert is_valid_cpf(valid)


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        ("", "cpf_ausente"),
        ("   ", "cpf_ausente"),
        ("11111111111", "cpf_digitos_repetidos"),
        ("000.000.000-00", "cpf_digitos_repetidos"),
        ("52998224724", "cpf_invalido"),
        ("191", "cpf_invalido"),  # validate-docbr would pad and accept it
        ("5299822472", "cpf_invalido"),
        ("529982247250", "cpf_invalido"),
        ("529.982.247-2X", "cpf_invalido"),
        ("5299822472\u0665", "cpf_invalido"),  # a non-ASCII digit
    ],
)
def test_invalid_cpfs_say_why(bad: str, code: str) -> None:
    with pytest.raises(FieldError) as caught:
        parse_cpf(bad)
    assert caught.value.code == code
    assert not is_valid_cpf(bad)


def test_short_cpf_hints_at_lost_leading_zeros() -> None:
    with pytest.raises(FieldError, match="zeros à esquerda"):
        parse_cpf("1234567890")


def test_format_and_mask() -> None:
    assert format_cpf("52998224725") == "529.982.247-25"
    assert mask_cpf("529.982.247-25") == "***.982.247-**"


def test_check_digits_of_the_worked_example() -> None:
    assert check_digits("123456789") == "09"
    with pytest.raises(ValueError):
        check_digits("12345678")


@given(st.from_regex(r"[0-9]{9}", fullmatch=True).filter(lambda base: len(set(base)) > 1))
def test_generated_cpfs_round_trip(base: str) -> None:
    cpf = make_cpf(base)
    assert parse_cpf(cpf) == cpf
    assert parse_cpf(format_cpf(cpf)) == cpf
    assert mask_cpf(cpf) == f"***.{cpf[3:6]}.{cpf[6:9]}-**"
    # any single changed check digit is caught
    wrong = cpf[:10] + str((int(cpf[10]) + 1) % 10)
    assert not is_valid_cpf(wrong)


def test_make_cpf_refuses_all_same_bases() -> None:
    with pytest.raises(ValueError, match="all-same"):
        make_cpf("111111111")
