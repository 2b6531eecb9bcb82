"""How old a debt is: aging buckets ("faixas de atraso") and prescription (SPEC §4)."""

from __future__ import annotations

from datetime import date, timedelta

CURRENT = "a vencer"
"""Not yet past due (due today or later)."""

BUCKETS: tuple[tuple[int, str], ...] = (
    (30, "1-30"),
    (60, "31-60"),
    (90, "61-90"),
    (180, "91-180"),
    (360, "181-360"),
)
OVER_360 = "360+"
BUCKET_LABELS: tuple[str, ...] = (CURRENT, *(label for _, label in BUCKETS), OVER_360)
"""Every label aging_bucket can return, youngest first (for segment filters and reports)."""

PRESCRIPTION_YEARS = 5
"""CC art. 206 §5 I: liquid debts in a written instrument prescribe in 5 years."""


def days_past_due(due_date: date, today: date) -> int:
    """Days since the due date (0 on the due date, negative before it)."""
    return (today - due_date).days


def aging_bucket(oldest_due_date: date, today: date) -> str:
    """The bucket of a customer by the oldest due date: ``1-30`` ... ``360+``, or ``a vencer``."""
    days = days_past_due(oldest_due_date, today)
    if days <= 0:
        return CURRENT
    for upper, label in BUCKETS:
        if days <= upper:
            return label
    return OVER_360


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29/02 → the next day when the year has none (CC art. 132 §3)
        return date(day.year + years, 3, 1)


def prescribed_from(due_date: date, years: int = PRESCRIPTION_YEARS) -> date:
    """The first day a debt is prescribed: the day after the term ends on the due date's anniversary."""
    return _add_years(due_date, years) + timedelta(days=1)


def is_prescribed(due_date: date, today: date, years: int = PRESCRIPTION_YEARS) -> bool:
    """True when a debt is more than ``years`` past due and may no longer be collected by phone or message."""
    return today >= prescribed_from(due_date, years)
