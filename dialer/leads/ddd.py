"""Cobra's own DDD table: area code → UF and UTC offset(s) (reference/ddd-timezones.md).

phonenumbers' time-zone metadata is wrong for Brazil (all of DDD 81 as Noronha,
DDD 93/94 as Manaus, DDD 97 wholly UTC-4), so we keep our own table. Brazil has
had no daylight saving time since 2019 (Decreto 9.772/2019), so fixed offsets are
exact.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from types import MappingProxyType

from dialer.errors import DialerError


class PhoneNumberError(DialerError, ValueError):
    """A number is not a Brazilian E.164 number we can place (bad shape or unknown DDD)."""


def _h(hours: int) -> timedelta:
    return timedelta(hours=hours)


UTC_MINUS_2 = _h(-2)
UTC_MINUS_3 = _h(-3)
UTC_MINUS_4 = _h(-4)
UTC_MINUS_5 = _h(-5)

_UF_BY_DDD: dict[str, str] = {
    **dict.fromkeys(("11", "12", "13", "14", "15", "16", "17", "18", "19"), "SP"),
    **dict.fromkeys(("21", "22", "24"), "RJ"),
    **dict.fromkeys(("27", "28"), "ES"),
    **dict.fromkeys(("31", "32", "33", "34", "35", "37", "38"), "MG"),
    **dict.fromkeys(("41", "42", "43", "44", "45", "46"), "PR"),
    **dict.fromkeys(("47", "48", "49"), "SC"),
    **dict.fromkeys(("51", "53", "54", "55"), "RS"),
    "61": "DF",  # also GO municipalities around Brasília, same offset
    **dict.fromkeys(("62", "64"), "GO"),
    "63": "TO",
    **dict.fromkeys(("65", "66"), "MT"),
    "67": "MS",
    "68": "AC",
    "69": "RO",
    **dict.fromkeys(("71", "73", "74", "75", "77"), "BA"),
    "79": "SE",
    **dict.fromkeys(("81", "87"), "PE"),
    "82": "AL",
    "83": "PB",
    "84": "RN",
    **dict.fromkeys(("85", "88"), "CE"),
    **dict.fromkeys(("86", "89"), "PI"),  # 86 also covers a few MA municipalities (same offset)
    **dict.fromkeys(("91", "93", "94"), "PA"),
    **dict.fromkeys(("92", "97"), "AM"),
    "95": "RR",
    "96": "AP",
    **dict.fromkeys(("98", "99"), "MA"),
}

UFS = frozenset(
    "AC AL AM AP BA CE DF ES GO MA MG MS MT PA PB PE PI PR RJ RN RO RR RS SC SE SP TO".split()
)
"""The 27 federative units."""

UF_BY_DDD: Mapping[str, str] = MappingProxyType(_UF_BY_DDD)
"""All 67 geographic DDDs → UF of the area (for state law and state holidays)."""

_DDD_OFFSETS: dict[str, tuple[timedelta, ...]] = {ddd: (UTC_MINUS_3,) for ddd in _UF_BY_DDD}
_DDD_OFFSETS.update(
    {
        **dict.fromkeys(("65", "66", "67", "69", "92", "95"), (UTC_MINUS_4,)),
        "68": (UTC_MINUS_5,),
        "81": (UTC_MINUS_3, UTC_MINUS_2),  # Fernando de Noronha
        "97": (UTC_MINUS_4, UTC_MINUS_5),  # 11 western AM municipalities
    }
)

DDD_OFFSETS: Mapping[str, tuple[timedelta, ...]] = MappingProxyType(_DDD_OFFSETS)
"""Every offset a DDD spans; a DDD with two returns both (the stricter window wins)."""

# Landline prefixes (first 4 digits of the 8-digit subscriber number) that settle
# a two-offset DDD. Mobiles are portable, so their prefix proves nothing.
NORONHA_PREFIXES = frozenset({"3619"})
"""(81) landlines on Fernando de Noronha, UTC-2."""

WESTERN_AM_PREFIXES = frozenset(
    {"3463", "3417", "3415", "3451", "3453", "3481", "3483", "3485", "3482", "3484", "3458", "3431"}
)
"""(97) landlines of the 11 municipalities at UTC-5 (Benjamin Constant, Eirunepé, ...)."""

_E164_BR = re.compile(r"\+55([0-9]{2})([0-9]{8,9})")


def _split(e164: str) -> tuple[str, str]:
    match = _E164_BR.fullmatch(e164)
    if match is None:
        raise PhoneNumberError(f"not a Brazilian E.164 number (+55, DDD, 8 or 9 digits): {e164!r}")
    ddd, subscriber = match.groups()
    if ddd not in _UF_BY_DDD:
        raise PhoneNumberError(f"unknown DDD {ddd} in {e164!r}")
    return ddd, subscriber


def ddd_of(e164: str) -> str:
    """The two-digit area code of a Brazilian E.164 number (``+5511987654321`` → ``"11"``)."""
    return _split(e164)[0]


def uf_of_ddd(ddd: str) -> str:
    """The UF of an area code; raises :class:`PhoneNumberError` for a DDD that doesn't exist."""
    try:
        return _UF_BY_DDD[ddd]
    except KeyError:
        raise PhoneNumberError(f"unknown DDD {ddd!r}") from None


def uf_of(e164: str) -> str:
    """The UF of a number's area code."""
    return _UF_BY_DDD[ddd_of(e164)]


def is_mobile(e164: str) -> bool:
    """True for a 9-digit subscriber number (all Brazilian mobiles since 2016)."""
    return len(_split(e164)[1]) == 9


def offsets_for(e164: str) -> tuple[timedelta, ...]:
    """Every UTC offset the number may be in, settled by landline prefix where possible.

    One element for almost every number. DDD 81 and 97 mobiles get two (mobiles are
    portable, so nothing in the number tells where the callee is): a call must then
    be allowed under both, i.e. the stricter window wins.
    """
    ddd, subscriber = _split(e164)
    if len(subscriber) == 8:  # landline: the prefix belongs to one exchange
        prefix = subscriber[:4]
        if ddd == "81":
            return (UTC_MINUS_2,) if prefix in NORONHA_PREFIXES else (UTC_MINUS_3,)
        if ddd == "97":
            return (UTC_MINUS_5,) if prefix in WESTERN_AM_PREFIXES else (UTC_MINUS_4,)
    return _DDD_OFFSETS[ddd]
