"""Monthly rate series: price indices (IPCA, IGP-M) and the "taxa legal".

The table is a CSV with one row per series and month::

    series,month,percent
    IPCA,2025-03,0.56
    TAXA_LEGAL,2024-09,0.456200

``percent`` is the month's variation (indices) or rate (taxa legal) in percent.
Lines starting with ``#`` are comments. BCB SGS series 433 is the IPCA and 189 the
IGP-M; the taxa legal is published by the BCB (Res. CMN 5.171/2024). The shipped
``scripting/data/indices.csv`` carries the format only: production imports the
published figures into a file of this format (no figure is invented here).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from importlib import resources
from pathlib import Path

HUNDRED = Decimal(100)


class Series(StrEnum):
    """The series a table may hold."""

    IPCA = "IPCA"
    IGPM = "IGP-M"
    TAXA_LEGAL = "TAXA_LEGAL"


class IndexTableError(ValueError):
    """A malformed table, or a month the calculation needs that the table lacks."""


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)

    @classmethod
    def parse(cls, text: str) -> Month:
        """``"2025-03"`` -> Month(2025, 3)."""
        try:
            year_text, month_text = text.strip().split("-")
            month = cls(int(year_text), int(month_text))
        except ValueError:
            raise ValueError(f"not a month (want YYYY-MM): {text!r}") from None
        if not 1 <= month.month <= 12:
            raise ValueError(f"not a month (want YYYY-MM): {text!r}")
        return month

    def next(self) -> Month:
        return Month(self.year + 1, 1) if self.month == 12 else Month(self.year, self.month + 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True)
class IndexTable:
    """Monthly percentages per series; look-ups of missing months raise IndexTableError."""

    rates: dict[tuple[Series, Month], Decimal] = field(default_factory=dict)

    def rate(self, series: Series, month: Month) -> Decimal:
        """The month's percentage for ``series``."""
        try:
            return self.rates[(series, month)]
        except KeyError:
            raise IndexTableError(
                f"{series.value} for {month} is not in the index table; import the published figure"
            ) from None

    def factor(self, series: Series, start: Month, end: Month) -> Decimal:
        """Accumulated factor: product of (1 + percent/100) for months start <= m < end.

        Convention: a debt due in March and paid in May is corrected by the March and
        April variations (the months that closed while it was overdue).
        """
        result = Decimal(1)
        month = start
        while month < end:
            result *= 1 + self.rate(series, month) / HUNDRED
            month = month.next()
        return result

    def months(self, series: Series) -> list[Month]:
        return sorted(m for s, m in self.rates if s == series)


def parse_index_table(text: str, source: str = "<text>") -> IndexTable:
    """Parses the CSV format above; errors name the source, line and column."""
    lines = [line for line in text.splitlines()]
    rates: dict[tuple[Series, Month], Decimal] = {}
    header_seen = False
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        row = next(csv.reader(io.StringIO(stripped)))
        if not header_seen:
            if [c.strip() for c in row] != ["series", "month", "percent"]:
                raise IndexTableError(f"{source}:{number}: header must be 'series,month,percent'")
            header_seen = True
            continue
        if len(row) != 3:
            raise IndexTableError(f"{source}:{number}: expected 3 columns, got {len(row)}")
        try:
            series = Series(row[0].strip())
        except ValueError:
            allowed = ", ".join(s.value for s in Series)
            raise IndexTableError(
                f"{source}:{number}: column series: unknown series {row[0]!r} (use {allowed})"
            ) from None
        try:
            month = Month.parse(row[1])
        except ValueError as exc:
            raise IndexTableError(f"{source}:{number}: column month: {exc}") from None
        try:
            percent = Decimal(row[2].strip())
        except InvalidOperation:
            raise IndexTableError(f"{source}:{number}: column percent: not a number: {row[2]!r}") from None
        if not percent.is_finite() or percent <= -100:
            raise IndexTableError(f"{source}:{number}: column percent: out of range: {row[2]!r}")
        if series is Series.TAXA_LEGAL and percent < 0:
            # Lei 14.905/2024 art. 406 §3: a negative result counts as zero; the BCB publishes >= 0.
            raise IndexTableError(f"{source}:{number}: column percent: taxa legal cannot be negative")
        if (series, month) in rates:
            raise IndexTableError(f"{source}:{number}: duplicate {series.value} {month}")
        rates[(series, month)] = percent
    if not header_seen:
        raise IndexTableError(f"{source}: no header 'series,month,percent'")
    return IndexTable(rates)


def load_index_table(path: str | Path | None = None) -> IndexTable:
    """Loads ``path``, or the table shipped in ``scripting/data/indices.csv``."""
    if path is None:
        text = resources.files("scripting").joinpath("data/indices.csv").read_text(encoding="utf-8")
        return parse_index_table(text, "scripting/data/indices.csv")
    return parse_index_table(Path(path).read_text(encoding="utf-8"), str(path))


def table_from_rows(rows: Iterable[tuple[Series, str, str]]) -> IndexTable:
    """Builds a table from (series, "YYYY-MM", "percent") rows (tests, imports)."""
    return IndexTable({(s, Month.parse(m)): Decimal(p) for s, m, p in rows})
