"""Pix "copia e cola" (static BR Code, EMV QRCPS-MPM): building, parsing, checking.

Each field is TLV: 2-digit id, 2-digit length, value. The payload ends with field
63 (CRC): ``6304`` + 4 uppercase hex digits of CRC-16/CCITT-FALSE (poly 0x1021,
init 0xFFFF, no reflection, no final xor) computed over everything before it,
``6304`` included. Merchant name (<= 25) and city (<= 15) are normalised to
printable ASCII (accents removed) and truncated; the other fields are rejected
with a clear error when they do not fit.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

PIX_GUI = "br.gov.bcb.pix"
MAX_NAME = 25
MAX_CITY = 15
MAX_KEY = 77
MAX_TXID = 25
MAX_TEMPLATE = 99  # a TLV length has two digits
MAX_PAYLOAD = 512


class PixError(ValueError):
    """A value that cannot go into (or a payload that is not) a valid BR Code."""


def crc16_ccitt_false(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF (``b"123456789"`` -> 0x29B1)."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def tlv(field_id: str, value: str) -> str:
    if len(value) > MAX_TEMPLATE:
        raise PixError(f"field {field_id}: value longer than {MAX_TEMPLATE} characters")
    return f"{field_id}{len(value):02d}{value}"


def normalise_text(text: str, limit: int, field: str) -> str:
    """Printable ASCII without accents, single spaces, cut to ``limit`` characters."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c) and 32 <= ord(c) < 127)
    cleaned = " ".join(ascii_only.split())[:limit].rstrip()
    if not cleaned:
        raise PixError(f"{field}: empty after removing accents and symbols: {text!r}")
    return cleaned


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+55\d{10,11}$")
_EVP = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_TXID = re.compile(r"^[A-Za-z0-9]{1,25}$")


def _check_digits_ok(digits: str, first_weights: list[int]) -> bool:
    """Mod-11 check digits (CPF and CNPJ): the second digit's weights prepend first+1."""
    numbers = [int(c) for c in digits]
    second_weights = [first_weights[0] + 1, *first_weights]
    for weights in (first_weights, second_weights):
        position = len(weights)
        remainder = sum(n * w for n, w in zip(numbers, weights)) % 11
        if numbers[position] != (0 if remainder < 2 else 11 - remainder):
            return False
    return True


def is_valid_cpf(digits: str) -> bool:
    return len(digits) == 11 and digits.isdigit() and len(set(digits)) > 1 and _check_digits_ok(
        digits, list(range(10, 1, -1))
    )


def is_valid_cnpj(digits: str) -> bool:
    return len(digits) == 14 and digits.isdigit() and len(set(digits)) > 1 and _check_digits_ok(
        digits, [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]
    )


def normalise_key(key: str) -> str:
    """Validates a Pix key (CPF, CNPJ, e-mail, +55 phone, random EVP) and returns its canonical form."""
    key = key.strip()
    if "@" in key:
        if not _EMAIL.match(key) or len(key) > MAX_KEY:
            raise PixError(f"key: not a valid e-mail key (max {MAX_KEY} characters): {key!r}")
        return key.lower()
    if key.startswith("+"):
        if not _PHONE.match(key):
            raise PixError(f"key: a phone key is +55 followed by DDD and number (e.g. +5511987654321): {key!r}")
        return key
    if _EVP.match(key):
        return key.lower()
    digits = re.sub(r"[.\-/\s]", "", key)
    if digits.isdigit():
        if len(digits) == 11:
            if not is_valid_cpf(digits):
                raise PixError(f"key: CPF with wrong check digits: {key!r}")
            return digits
        if len(digits) == 14:
            if not is_valid_cnpj(digits):
                raise PixError(f"key: CNPJ with wrong check digits: {key!r}")
            return digits
    raise PixError(f"key: not a CPF, CNPJ, e-mail, +55 phone or random (EVP) key: {key!r}")


def format_amount(amount: Decimal) -> str:
    """``Decimal("1050.2")`` -> ``"1050.20"`` (dot decimal, no thousands separator)."""
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
        raise PixError(f"amount: must be a Decimal > 0, got {amount!r}")
    if amount != amount.quantize(Decimal("0.01")):
        raise PixError(f"amount: must be in whole cents, got {amount}")
    text = f"{amount:.2f}"
    if len(text) > 13:
        raise PixError(f"amount: too large for a BR Code: {text}")
    return text


def build_pix_payload(
    key: str,
    name: str,
    city: str,
    amount: Decimal | None = None,
    txid: str | None = None,
    description: str | None = None,
) -> str:
    """The static Pix "copia e cola" payload, CRC included."""
    key = normalise_key(key)
    account = tlv("00", PIX_GUI) + tlv("01", key)
    if description:
        text = normalise_text(description, MAX_TEMPLATE, "description")
        room = MAX_TEMPLATE - len(account) - 4
        if len(text) > room:
            raise PixError(f"description: at most {room} characters with this key, got {len(text)}")
        account += tlv("02", text)
    if txid is None or txid == "":
        txid = "***"
    elif not _TXID.match(txid):
        raise PixError(f"txid: 1 to {MAX_TXID} letters or digits (A-Z, a-z, 0-9), got {txid!r}")
    payload = tlv("00", "01") + tlv("26", account) + tlv("52", "0000") + tlv("53", "986")
    if amount is not None:
        payload += tlv("54", format_amount(amount))
    payload += tlv("58", "BR")
    payload += tlv("59", normalise_text(name, MAX_NAME, "name"))
    payload += tlv("60", normalise_text(city, MAX_CITY, "city"))
    payload += tlv("62", tlv("05", txid))
    payload += "6304"
    if len(payload) + 4 > MAX_PAYLOAD:
        raise PixError(f"payload: longer than {MAX_PAYLOAD} characters")
    return payload + f"{crc16_ccitt_false(payload.encode('ascii')):04X}"


def parse_tlv(text: str, where: str = "payload") -> list[tuple[str, str]]:
    """Splits TLV text into (id, value) pairs, in order."""
    fields: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        header = text[position : position + 4]
        if len(header) < 4 or not header.isdigit():
            raise PixError(f"{where}: bad field header {header!r} at position {position}")
        size = int(header[2:])
        value = text[position + 4 : position + 4 + size]
        if len(value) != size:
            raise PixError(f"{where}: field {header[:2]} at position {position} declares {size} characters, has {len(value)}")
        fields.append((header[:2], value))
        position += 4 + size
    return fields


@dataclass(frozen=True)
class PixCode:
    """A decoded static BR Code."""

    key: str
    name: str
    city: str
    amount: Decimal | None
    txid: str
    description: str | None
    crc: str


def decode_pix_payload(payload: str) -> PixCode:
    """Parses and checks a "copia e cola" payload (structure, GUI, CRC)."""
    payload = payload.strip()
    if len(payload) < 8 or payload[-8:-4] != "6304":
        raise PixError("payload: does not end with a CRC field (6304 + 4 hex digits)")
    expected = f"{crc16_ccitt_false(payload[:-4].encode('utf-8')):04X}"
    if payload[-4:].upper() != expected:
        raise PixError(f"payload: CRC is {payload[-4:]} but the content gives {expected}")
    fields = parse_tlv(payload)
    if not fields or fields[0] != ("00", "01"):
        raise PixError("payload: must start with field 00 = 01")
    top = dict(fields)
    for required in ("26", "52", "53", "58", "59", "60", "62"):
        if required not in top:
            raise PixError(f"payload: field {required} is missing")
    account = dict(parse_tlv(top["26"], "field 26"))
    if account.get("00", "").lower() != PIX_GUI:
        raise PixError(f"field 26: GUI is {account.get('00')!r}, expected {PIX_GUI}")
    if "01" not in account:
        raise PixError("field 26: no Pix key (sub-field 01)")
    if top["53"] != "986":
        raise PixError(f"field 53: currency {top['53']!r} is not BRL (986)")
    extra = dict(parse_tlv(top["62"], "field 62"))
    if "05" not in extra:
        raise PixError("field 62: no txid (sub-field 05)")
    amount = None
    if "54" in top:
        try:
            amount = Decimal(top["54"])
        except InvalidOperation:
            raise PixError(f"field 54: not an amount: {top['54']!r}") from None
    return PixCode(
        key=account["01"],
        name=top["59"],
        city=top["60"],
        amount=amount,
        txid=extra["05"],
        description=account.get("02"),
        crc=payload[-4:],
    )
