"""Dates as Brazilian files write them: ``dd/mm/aaaa`` (or ISO ``aaaa-mm-dd``); formatting is ``scripting.money.format_date_br``."""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

from dialer.portfolio.errors import FieldError

_BR = re.compile(r"([0-9]{1,2})[/.\-]([0-9]{1,2})[/.\-]([0-9]{4})")
_ISO = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[T ]00:00(?::00(?:\.0+)?)?)?")


@lru_cache(maxsize=4096)  # due and birth dates repeat a lot in a file; errors are raised again, not cached
def parse_date(text: str) -> date:
    """``31/01/2025``, ``1/2/2025``, ``31-01-2025`` or ``2025-01-31`` → a real date; :class:`FieldError` otherwise.

    Two-digit years are refused (is ``01/02/25`` 1925 or 2025?); so are days that don't exist.
    """
    raw = (text or "").strip()
    if not raw:
        raise FieldError("data_vazia", "Data não informada.")
    if match := _BR.fullmatch(raw):
        day, month, year = (int(g) for g in match.groups())
    elif match := _ISO.fullmatch(raw):
        year, month, day = (int(g) for g in match.groups())
    else:
        raise FieldError("data_invalida", f"Data deve ser dd/mm/aaaa ou aaaa-mm-dd: {raw!r}.")
    try:
        return date(year, month, day)
    except ValueError:
        raise FieldError("data_inexistente", f"Data que não existe no calendário: {raw!r}.") from None
