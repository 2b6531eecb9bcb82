"""Business days for due dates: weekends and Brazilian holidays skipped (``holidays`` package)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta

import holidays


@dataclass
class BusinessCalendar:
    """National holidays (plus a state's, with ``subdiv="SP"`` etc.), loaded per year on demand."""

    subdiv: str | None = None
    _holidays: holidays.HolidayBase = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._holidays = holidays.country_holidays(
            "BR", subdiv=self.subdiv, categories=("public",), language="pt_BR"
        )

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self._holidays

    def holiday_name(self, day: date) -> str | None:
        return self._holidays.get(day)

    def on_or_after(self, day: date) -> date:
        """The first business day on or after ``day``."""
        while not self.is_business_day(day):
            day += timedelta(days=1)
        return day


def add_months(day: date, months: int) -> date:
    """Same day-of-month ``months`` later, clamped to the month's end (31/01 + 1 -> 28/02)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
