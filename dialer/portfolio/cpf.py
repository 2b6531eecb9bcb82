"""CPF: check digits, formatting and masking (reference/brazil-collection-rules.md §2.4)."""

from __future__ import annotations

import re
from functools import lru_cache

from dialer.portfolio.errors import FieldError

_DIGITS = re.compile(r"[0-9]+")

_SEPARATORS = re.compile(r"[\s.\-/]")


def check_digits(base9: str) -> str:
    """The two check digits of a 9-digit CPF base."""
    if len(base9) != 9 or not _DIGITS.fullmatch(base9):
        raise ValueError(f"a CPF base is 9 digits, got {base9!r}")
    # unrolled (an import checks one CPF per row): weights 10..2, then 11..2 over the first check digit
    d = [ord(c) - 48 for c in base9]
    first_sum = 10 * d[0] + 9 * d[1] + 8 * d[2] + 7 * d[3] + 6 * d[4] + 5 * d[5] + 4 * d[6] + 3 * d[7] + 2 * d[8]
    rest = first_sum % 11
    first = 0 if rest < 2 else 11 - rest
    second_sum = 11 * d[0] + 10 * d[1] + 9 * d[2] + 8 * d[3] + 7 * d[4] + 6 * d[5] + 5 * d[6] + 4 * d[7] + 3 * d[8]
    rest = (second_sum + 2 * first) % 11
    return f"{first}{0 if rest < 2 else 11 - rest}"


@lru_cache(maxsize=4096)  # a customer's rows repeat their CPF; errors are raised again, not cached
def parse_cpf(text: str) -> str:
    """The 11 digits of a valid CPF written with or without punctuation; :class:`FieldError` otherwise."""
    raw = (text or "").strip()
    if not raw:
        raise FieldError("cpf_ausente", "CPF não informado.")
    digits = _SEPARATORS.sub("", raw)
    if not _DIGITS.fullmatch(digits):
        raise FieldError("cpf_invalido", f"CPF com caracteres inválidos: {raw!r}.")
    if len(digits) != 11:
        hint = " (zeros à esquerda perdidos na planilha?)" if len(digits) in (9, 10) else ""
        raise FieldError("cpf_invalido", f"CPF deve ter 11 dígitos, tem {len(digits)}: {raw!r}{hint}.")
    if len(set(digits)) == 1:
        raise FieldError("cpf_digitos_repetidos", f"CPF com todos os dígitos iguais: {raw!r}.")
    if check_digits(digits[:9]) != digits[9:]:
        raise FieldError("cpf_invalido", f"CPF com dígitos verificadores errados: {raw!r}.")
    return digits


def is_valid_cpf(text: str) -> bool:
    try:
        parse_cpf(text)
    except FieldError:
        return False
    return True


def format_cpf(cpf: str) -> str:
    """``52998224725`` → ``529.982.247-25``."""
    d = parse_cpf(cpf)
    return f"{d[:3]}.{d[3:6]}.{d[6:9]}-{d[9:]}"


def mask_cpf(cpf: str) -> str:
    """``52998224725`` → ``***.982.247-**``: the only form an agent screen shows."""
    d = parse_cpf(cpf)
    return f"***.{d[3:6]}.{d[6:9]}-**"


def make_cpf(base9: str) -> str:
    """A valid CPF from any 9-digit base (for demo data and tests); all-same bases are refused."""
    cpf = base9 + check_digits(base9)
    if len(set(cpf)) == 1:
        raise ValueError(f"{base9!r} gives an all-same-digit CPF, which is never valid")
    return cpf
