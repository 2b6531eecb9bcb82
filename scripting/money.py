"""Money and date helpers shared by the negotiation math (pure, Decimal only).

Rounding rule: every amount shown to a debtor is rounded to cents **half-up**
(``ROUND_HALF_UP``, "arredondamento comercial"): 0,165 -> 0,17. Truncation, which
some boleto calculators use, is deliberately not used; the tests pin the case
R$ 100,00 x 1 %/30 x 5 days = R$ 0,17 (truncation would give 0,16).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)


def to_cents(value: Decimal) -> Decimal:
    """Rounds to cents, half-up (the project's one rounding rule for money)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def to_cents_up(value: Decimal) -> Decimal:
    """Rounds up to the next cent: for minimums (a down payment must reach the minimum %)."""
    return value.quantize(CENT, rounding=ROUND_CEILING)


def format_brl(value: Decimal, *, nbsp: bool = False) -> str:
    """``Decimal("1234.56")`` -> ``"R$ 1.234,56"``; negatives as ``"-R$ 1.234,56"``.

    The space after ``R$`` is a plain ASCII space; ``nbsp=True`` gives U+00A0 (as Babel
    writes it), which keeps the amount on one line in HTML.
    """
    cents = to_cents(value)
    sign = "-" if cents < 0 else ""
    integer, _, fraction = f"{abs(cents):.2f}".partition(".")
    groups: list[str] = []
    while len(integer) > 3:
        groups.insert(0, integer[-3:])
        integer = integer[:-3]
    groups.insert(0, integer)
    space = "\u00a0" if nbsp else " "
    return f"{sign}R${space}{'.'.join(groups)},{fraction}"


def format_date_br(value: date) -> str:
    """``date(2025, 3, 10)`` -> ``"10/03/2025"``."""
    return value.strftime("%d/%m/%Y")


def format_percent_br(value: Decimal, places: int = 2) -> str:
    """A percentage given in percent units: ``Decimal("1.5")`` -> ``"1,50%"``."""
    quantum = Decimal(1).scaleb(-places)
    text = f"{value.quantize(quantum, rounding=ROUND_HALF_UP):.{places}f}"
    return text.replace(".", ",") + "%"


def format_decimal_br(value: Decimal, places: int) -> str:
    """A plain number with a decimal comma: ``Decimal("1.01")``, 4 -> ``"1,0100"``."""
    quantum = Decimal(1).scaleb(-places)
    return f"{value.quantize(quantum, rounding=ROUND_HALF_UP):.{places}f}".replace(".", ",")


class MoneyFormatError(ValueError):
    """A text that is not an amount of money; ``code`` for machines, ``message_pt`` for people."""

    def __init__(self, code: str, message_pt: str, text: str) -> None:
        super().__init__(f"not an amount of money: {text!r} ({message_pt})")
        self.code = code
        self.message_pt = message_pt


_CURRENCY = re.compile(r"^(-)?\s*(?:R\$)?\s*(-)?\s*", re.IGNORECASE)
_BR_THOUSANDS = re.compile(r"[0-9]{1,3}(?:\.[0-9]{3})+")  # 1.234 / 1.234.567
_US_THOUSANDS = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+")  # 1,234,567
_PLAIN = re.compile(r"[0-9]+")


def _integer_part(text: str, thousands: str) -> str | None:
    if _PLAIN.fullmatch(text):
        return text
    pattern = _BR_THOUSANDS if thousands == "." else _US_THOUSANDS
    return text.replace(thousands, "") if pattern.fullmatch(text) else None


def _split_number(body: str) -> tuple[str, str] | None:
    """(integer digits, decimal digits) of a number written with either convention."""
    comma, dot = body.rfind(","), body.rfind(".")
    if comma >= 0 and dot >= 0:  # both: the last one is the decimal separator
        decimal_sep, thousands = (",", ".") if comma > dot else (".", ",")
    elif comma >= 0:
        decimal_sep, thousands = ",", "."
        if body.count(",") > 1:  # 1,234,567 (thousands only)
            whole = _integer_part(body, ",")
            return (whole, "") if whole else None
    elif dot >= 0:
        if body.count(".") > 1 or _BR_THOUSANDS.fullmatch(body) and len(body) - dot == 4:
            whole = _integer_part(body, ".")  # 1.234 / 1.234.567: thousands dots
            return (whole, "") if whole else None
        decimal_sep, thousands = ".", ","
    else:
        return (body, "") if _PLAIN.fullmatch(body) else None
    whole_text, _, fraction = body.rpartition(decimal_sep)
    whole = _integer_part(whole_text, thousands) if whole_text else "0"
    if whole is None or not _PLAIN.fullmatch(fraction):
        return None
    return whole, fraction


def parse_money(text: str) -> Decimal:
    """A written amount -> Decimal with two places, as spreadsheets and people write it.

    Accepted: ``1.234,56``, ``1234,56``, ``1234.56``, ``1,234.56``, ``R$ 1.234,56``,
    ``1.234`` (thousands dot: a Brazilian file's "1.234" is one thousand two hundred and
    thirty-four), ``-10,00``. Refused with :class:`MoneyFormatError`: more than two decimal
    places, letters, separators in the wrong places.
    """
    raw = (text or "").strip().replace("\u00a0", " ")
    if not raw:
        raise MoneyFormatError("valor_vazio", "Valor não informado.", text)
    match = _CURRENCY.match(raw)
    assert match is not None  # every part of the pattern is optional
    negative = bool(match.group(1) or match.group(2))
    body = raw[match.end() :].replace(" ", "")
    parts = _split_number(body) if body else None
    if parts is None:
        raise MoneyFormatError("valor_invalido", f"Valor não é um número em reais: {raw!r}.", text)
    whole, fraction = parts
    if len(fraction) > 2:
        raise MoneyFormatError("valor_invalido", f"Valor com mais de 2 casas decimais: {raw!r}.", text)
    amount = Decimal(f"{whole}.{fraction or '0'}").quantize(CENT)
    return -amount if negative else amount
