from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.leads.ddd import UF_BY_DDD
from dialer.portfolio.errors import FieldError
from dialer.portfolio.phones import (
    PhoneType,
    _parse,
    _parse_full,
    format_phone,
    mask_phone,
    normalize_phone,
    split_phones,
)

SAME_NUMBER = [
    "(11) 98765-4321",
    "11987654321",
    "+55 11 98765 4321",
    "011 98765-4321",
    "5511987654321",
    "0xx11 98765-4321",
    "+55 (11) 98765-4321",
    " 11 9 8765 4321 ",
]


@pytest.mark.parametrize("written", SAME_NUMBER)
def test_every_way_of_writing_a_mobile_gives_the_same_e164(written: str) -> None:
    phone = normalize_phone(written)
    assert phone.e164 == "+5511987654321"
    assert phone.ddd == "11" and phone.type is PhoneType.MOBILE


def test_landlines() -> None:
    assert normalize_phone("(11) 3212-3456").e164 == "+551132123456"
    assert normalize_phone("(11) 3212-3456").type is PhoneType.LANDLINE
    assert normalize_phone("(81) 3619-1234").e164 == "+558136191234"


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        ("", "telefone_vazio"),
        ("abc", "telefone_invalido"),
        ("ramal 12", "telefone_invalido"),
        ("11 8765-4321", "telefone_sem_nono_digito"),
        ("(20) 98765-4321", "telefone_invalido"),
        ("(11) 1234-5678", "telefone_invalido"),
        ("+1 650 253 0000", "telefone_invalido"),
        ("0800 123 4567", "telefone_nao_geografico"),
        ("0303 123 4567", "telefone_nao_geografico"),
        ("(22) 1234", "telefone_invalido"),
        ("(11) 98765-432\u0661", "telefone_invalido"),  # an Arabic-Indic digit: ASCII only
        ("(11) 98765-4321 ramal 2", "telefone_invalido"),
    ],
)
def test_what_is_not_a_callable_brazilian_number(bad: str, code: str) -> None:
    with pytest.raises(FieldError) as caught:
        normalize_phone(bad)
    assert caught.value.code == code


def test_old_eight_digit_mobile_gets_a_hint_not_a_guess() -> None:
    with pytest.raises(FieldError, match=r"\(11\) 98765-4321"):
        normalize_phone("11 8765-4321")


def test_split_phones_on_pipes() -> None:
    assert split_phones("(11) 98765-4321| 11 3212-3456 ||") == ["(11) 98765-4321", "11 3212-3456"]
    assert split_phones("") == []


def test_display_and_mask() -> None:
    assert format_phone("+5511987654321") == "(11) 98765-4321"
    assert format_phone("+551132123456") == "(11) 3212-3456"
    assert mask_phone("+5511987654321") == "(11) *****-4321"
    assert mask_phone("+551132123456") == "(11) ****-3456"
    with pytest.raises(ValueError):
        mask_phone("11987654321")


@given(ddd=st.sampled_from(sorted(UF_BY_DDD)), rest=st.from_regex(r"9[6-9][0-9]{7}", fullmatch=True))
def test_written_forms_agree_for_any_mobile(ddd: str, rest: str) -> None:
    e164 = f"+55{ddd}{rest}"
    forms = [
        f"({ddd}) {rest[:5]}-{rest[5:]}",
        f"{ddd}{rest}",
        f"+55 {ddd} {rest[:5]} {rest[5:]}",
        f"0{ddd} {rest[:5]}-{rest[5:]}",
        f"55{ddd}{rest}",
    ]
    assert {normalize_phone(form).e164 for form in forms} == {e164}
    assert normalize_phone(format_phone(e164)).e164 == e164


@settings(max_examples=500)
@given(
    prefix=st.sampled_from(["", "+55", "55", "0", "+55 ", "0xx", "0 "]),
    ddd=st.integers(10, 99),
    subscriber=st.from_regex(r"[0-9]{7,10}", fullmatch=True),
    parenthesised=st.booleans(),
)
def test_fast_path_agrees_with_phonenumbers_parse(prefix: str, ddd: int, subscriber: str, parenthesised: bool) -> None:
    text = f"{prefix}({ddd}) {subscriber}" if parenthesised else f"{prefix}{ddd}{subscriber}"

    assert _parse(text) == _parse_full(text)


def test_fast_path_types_agree_with_phonenumbers_for_every_ddd_and_leading_digits() -> None:
    # The fast path judges DDD and number type by rules; phonenumbers' metadata is the reference
    for ddd in range(10, 100):
        for lead in range(100):
            for tail in ("0000000", "1234567", "9999999"):
                for subscriber in (f"{lead:02d}{tail[:6]}", f"{lead:02d}{tail}"):  # 8 and 9 digits
                    text = f"{ddd}{subscriber}"
                    assert _parse(text) == _parse_full(text), text
