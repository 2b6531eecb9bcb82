"""Brazilian phone numbers → E.164 (``+55`` + DDD + 8-digit landline or 9-digit mobile).

``(11) 98765-4321``, ``11987654321``, ``+55 11 98765 4321``, ``011 98765-4321``,
``0xx11 98765-4321`` and ``5511987654321`` are all ``+5511987654321``. Only
geographic numbers of our DDD table are accepted: 0800, 0300, 0303 and foreign
numbers are refused (a collection call goes to a person's line).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

from dialer.leads.ddd import UF_BY_DDD
from dialer.portfolio.errors import FieldError

PHONE_SEPARATOR = "|"

_ALLOWED = re.compile(r"[0-9 \t().+\-/xX]+")  # ASCII digits only: these end up in AMI actions
_NATIONAL = re.compile(r"[0-9]{10,11}")
_TYPES = {
    PhoneNumberType.MOBILE: "movel",
    PhoneNumberType.FIXED_LINE: "fixo",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixo",
}


class PhoneType(StrEnum):
    MOBILE = "movel"
    LANDLINE = "fixo"


@dataclass(frozen=True, slots=True)
class NormalizedPhone:
    e164: str
    ddd: str
    type: PhoneType


def _parse_full(text: str) -> tuple[int, str] | None:
    """(national number, movel/fixo) through phonenumbers.parse; None unless a BR line or mobile."""
    try:
        number = phonenumbers.parse(text, "BR")
    except NumberParseException:
        return None
    if phonenumbers.region_code_for_number(number) != "BR":
        return None
    kind = _TYPES.get(phonenumbers.number_type(number))  # UNKNOWN for anything invalid
    national = number.national_number
    return (national, kind) if kind and national is not None else None


def _is_brazilian_number(text: str) -> bool:
    """Any valid Brazilian number at all (0800, 0303... included)."""
    try:
        number = phonenumbers.parse(text, "BR")
    except NumberParseException:
        return False
    return phonenumbers.region_code_for_number(number) == "BR" and phonenumbers.is_valid_number(number)


# The shapes nearly every file uses: optional +55/55 or trunk 0, DDD, 8 or 9 digits.
# phonenumbers.parse + number_type cost ~40 µs a phone, most of an import's time, so these
# shapes are judged here by the rules phonenumbers' Brazilian metadata encodes (a DDD it
# knows; landline 8 digits starting 2-5; mobile 9 digits starting 9, or a 7-prefixed
# 8-digit trunked-radio line); tests hold these rules to phonenumbers for every DDD and
# leading digits. Anything else still goes through phonenumbers.
_SIMPLE = re.compile(r"(?:\+?55|0)?([1-9][0-9])(9[0-9]{8}|[2-8][0-9]{7})")
_PUNCTUATION = re.compile(r"[ \t().\-/]")
_KNOWN_DDD = re.compile(r"[14689][1-9]|2[12478]|3[1-578]|5[13-5]|7[13-579]")
_KIND_BY_LEAD = {"2": "fixo", "3": "fixo", "4": "fixo", "5": "fixo", "7": "movel", "9": "movel"}


def _parse(text: str) -> tuple[int, str] | None:
    match = _SIMPLE.fullmatch(_PUNCTUATION.sub("", text))
    if match is None:
        return _parse_full(text)
    ddd, subscriber = match.groups()
    kind = _KIND_BY_LEAD.get(subscriber[0]) if _KNOWN_DDD.fullmatch(ddd) else None
    return (int(ddd + subscriber), kind) if kind else None


@lru_cache(maxsize=4096)  # a customer's rows repeat their phones; errors are raised again, not cached
def normalize_phone(text: str) -> NormalizedPhone:
    """A written Brazilian number → :class:`NormalizedPhone`; :class:`FieldError` when it isn't one."""
    raw = (text or "").strip()
    if not raw:
        raise FieldError("telefone_vazio", "Telefone vazio.")
    if _ALLOWED.fullmatch(raw) is None:
        raise FieldError("telefone_invalido", f"Telefone com caracteres inválidos: {raw!r}.")
    parsed = _parse(raw)
    if parsed is None:
        if _is_brazilian_number(raw):
            raise FieldError(
                "telefone_nao_geografico",
                f"Telefone não é fixo nem celular de um DDD (0800, 0303, serviço?): {raw!r}.",
            )
        digits = re.sub(r"[^0-9]", "", raw).lstrip("0").removeprefix("55" if raw.startswith("+") else "")
        if len(digits) == 12 and digits.startswith("55"):
            digits = digits[2:]
        if len(digits) == 10 and digits[:2] in UF_BY_DDD and digits[2] in "6789":
            # An 8-digit number starting 6-9 is a mobile from before the 9th digit (2012-2016);
            # guessing the 9 could ring a stranger, so we refuse it and say how to fix it.
            raise FieldError(
                "telefone_sem_nono_digito",
                f"Celular sem o 9º dígito: {raw!r} (escreva ({digits[:2]}) 9{digits[2:6]}-{digits[6:]} se for este).",
            )
        raise FieldError("telefone_invalido", f"Não é um telefone brasileiro válido (DDD + número): {raw!r}.")
    national, kind = str(parsed[0]), parsed[1]
    ddd = national[:2]
    if ddd not in UF_BY_DDD:  # phonenumbers knows no other geographic areas; kept as a guard
        raise FieldError("telefone_invalido", f"DDD {ddd} desconhecido: {raw!r}.")
    return NormalizedPhone(f"+55{national}", ddd, PhoneType(kind))


def _national(e164: str) -> str:
    national = e164.removeprefix("+55")
    if not e164.startswith("+55") or not _NATIONAL.fullmatch(national):
        raise ValueError(f"not a Brazilian E.164 number: {e164!r}")
    return national


def split_phones(cell: str) -> list[str]:
    """The numbers written in one cell, separated by ``|`` (empty parts dropped)."""
    return [part.strip() for part in (cell or "").split(PHONE_SEPARATOR) if part.strip()]


def mask_phone(e164: str) -> str:
    """``+5511987654321`` → ``(11) *****-4321``: what an agent sees before identity is confirmed."""
    national = _national(e164)
    hidden = "*" * (len(national) - 6)
    return f"({national[:2]}) {hidden}-{national[-4:]}"


def format_phone(e164: str) -> str:
    """``+5511987654321`` → ``(11) 98765-4321`` (national display form)."""
    national = _national(e164)
    return f"({national[:2]}) {national[2:-4]}-{national[-4:]}"
