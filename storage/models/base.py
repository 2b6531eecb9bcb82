"""Cobra's database schema: shared base, column types and conventions (SPEC §4, §6, §7, §8).

Conventions that hold for every table:

- datetimes are ``UtcDateTime``: aware datetimes in, aware UTC datetimes out, on SQLite and
  PostgreSQL alike; a naive datetime is refused rather than guessed;
- money is ``Numeric(14, 2)`` and comes back as ``Decimal``;
- closed vocabularies are ``StrEnum`` stored as VARCHAR plus a CHECK constraint (no native
  PostgreSQL enum types, so adding a value is a plain migration on both databases);
- relationships are ``lazy="raise"``: under asyncio a lazy load cannot run, so code that
  needs related rows loads them explicitly (``selectinload``) and forgetting to fails loudly;
- constraint and index names come from ``NAMING_CONVENTION`` so they are identical on both
  databases and Alembic can compare them.
"""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Dialect,
    Enum,
    MetaData,
    Numeric,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Money = Numeric(14, 2, asdecimal=True)


def utcnow() -> datetime:
    """The current time as an aware UTC datetime (the only kind the models accept)."""
    return datetime.now(UTC)


def new_attempt_id() -> str:
    """A fresh call-attempt id: 32 hex digits, safe as an AMI ActionID and in file names."""
    return uuid.uuid4().hex


class UtcDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and returns them aware (UTC) on every database.

    SQLite has no time-zone type and gives back naive values, so the UTC offset is
    stripped on the way in and put back on the way out; PostgreSQL uses ``timestamptz``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}: {value!r}")
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            raise ValueError(f"naive datetime {value.isoformat()} refused: give it a time zone (UTC)")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _str_enum(enum_cls: type[enum.StrEnum], name: str) -> Enum:
    """VARCHAR + CHECK storing the enum's values (not its member names)."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls),
        values_callable=lambda cls: [m.value for m in cls],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    """Declarative base carrying the shared metadata and naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UtcDateTime(), Decimal: Money, dict[str, Any]: JSON}
