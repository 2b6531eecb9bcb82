"""Checks on values handed to repositories, with errors that name the field."""

from __future__ import annotations

import enum
from typing import TypeVar

from storage.errors import InvalidValue

E = TypeVar("E", bound=enum.StrEnum)


def enum_value(enum_cls: type[E], value: E | str, field: str) -> E:
    """``value`` as a member of ``enum_cls``, or InvalidValue listing the allowed values."""
    try:
        return enum_cls(value)
    except ValueError:
        allowed = ", ".join(m.value for m in enum_cls)
        raise InvalidValue(f"{field} {value!r} is not one of: {allowed}") from None
