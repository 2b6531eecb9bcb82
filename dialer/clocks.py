"""The dialer's notion of "now": the real clock, or one moved into business hours.

The hopper calls nobody outside the calling windows (SPEC §4), so a demo started at night
or a test run on a Sunday would place no call at all. Both run on a clock that keeps real
speed but starts inside business hours; production always uses the real clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta, timezone

from dialer.leads.windows import holiday_on

BRASILIA = timezone(timedelta(hours=-3))  # no daylight saving since 2019
Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def _next_business_day(day: date, ufs: Iterable[str]) -> date:
    while day.weekday() >= 5 or holiday_on(day, tuple(ufs)) is not None:
        day += timedelta(days=1)
    return day


def business_clock(ufs: tuple[str, ...] = ("SP",), at: time = time(11), *, now: datetime | None = None) -> Clock:
    """A clock that starts at ``at`` (Brasília) of today, or of the next Monday–Friday that is
    no holiday of ``ufs``, and runs at real speed from there."""
    real = now or system_clock()
    day = _next_business_day(real.astimezone(BRASILIA).date(), ufs)
    offset = datetime.combine(day, at, tzinfo=BRASILIA) - real
    return lambda: system_clock() + offset


def demo_clock(ufs: tuple[str, ...] = ("SP",), *, now: datetime | None = None) -> tuple[Clock, bool]:
    """The real clock during business hours (Mon–Fri 09:00–18:00 Brasília, no holiday of
    ``ufs``), else one that starts at 10:00 of the next business day; the flag says whether
    it moved."""
    real = now or system_clock()
    local = real.astimezone(BRASILIA)
    if local.weekday() < 5 and time(9) <= local.time() < time(18) and holiday_on(local.date(), ufs) is None:
        return system_clock, False
    first = local.date() if local.time() < time(9) else local.date() + timedelta(days=1)
    offset = datetime.combine(_next_business_day(first, ufs), time(10), tzinfo=BRASILIA) - real
    return (lambda: system_clock() + offset), True
