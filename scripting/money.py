"""Money and date helpers shared by the negotiation math (pure, Decimal only).

Rounding rule: every amount shown to a debtor is rounded to cents **half-up**
(``ROUND_HALF_UP``, "arredondamento comercial"): 0,165 -> 0,17. Truncation, which
some boleto calculators use, is deliberately not used; the tests pin the case
R$ 100,00 x 1 %/30 x 5 days = R$ 0,17 (truncation would give 0,16).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)


def to_cents(value: Decimal) -> Decimal:
    """Rounds to cents, half-up (the project's one rounding rule for money)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def to_cents_up(value: Decimal) -> Decimal:
    """Rounds up to the next cent: for minimums (a down payment must reach the minimum %)."""
    return value.quantize(CENT, rounding=ROUND_CEILING)


def format_brl(value: Decimal) -> str:
    """``Decimal("1234.56")`` -> ``"R$ 1.234,56"``; negatives as ``"-R$ 1.234,56"``.

    The space after ``R$`` is a plain ASCII space (Babel would emit U+00A0).
    """
    cents = to_cents(value)
    sign = "-" if cents < 0 else ""
    integer, _, fraction = f"{abs(cents):.2f}".partition(".")
    groups = []
    while len(integer) > 3:
        groups.insert(0, integer[-3:])
        integer = integer[:-3]
    groups.insert(0, integer)
    return f"{sign}R$ {'.'.join(groups)},{fraction}"


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


_BR_MONEY = re.compile(r"^-?\d{1,3}(\.\d{3})*(,\d{1,2})?$|^-?\d+(,\d{1,2})?$")
_PLAIN_MONEY = re.compile(r"^-?\d+(\.\d{1,2})?$")


def parse_money(text: str) -> Decimal:
    """Parses ``"1234.56"``, ``"1234,56"``, ``"1.234,56"`` or ``"R$ 1.234,56"`` into a Decimal.

    Raises ValueError naming the text when it is not an amount of money.
    """
    cleaned = text.strip().replace("R$", "").replace("\u00a0", "").replace(" ", "")
    try:
        if _PLAIN_MONEY.match(cleaned):
            return Decimal(cleaned)
        if _BR_MONEY.match(cleaned):
            return Decimal(cleaned.replace(".", "").replace(",", "."))
    except InvalidOperation:
        pass
    raise ValueError(f"not an amount of money: {text!r} (use 1234.56 or 1.234,56)")
