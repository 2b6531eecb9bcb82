from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from dialer.clocks import BRASILIA, business_clock, demo_clock, system_clock


def _at(y: int, m: int, d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=BRASILIA)


def test_demo_clock_is_the_real_one_in_business_hours() -> None:
    clock, moved = demo_clock(now=_at(2026, 11, 24, 14))  # a Tuesday
    assert clock is system_clock and not moved


def test_demo_clock_at_night_starts_next_business_morning() -> None:
    real = _at(2026, 11, 27, 22)  # Friday night
    clock, moved = demo_clock(now=real)
    assert moved
    shown = clock().astimezone(BRASILIA)
    # the offset was taken against `real`; the clock runs from the actual now, so compare the offset
    offset = clock() - datetime.now(UTC)
    assert abs((real + offset) - _at(2026, 11, 30, 10)) < timedelta(seconds=5)  # Monday 10:00
    assert shown.tzinfo is not None


def test_demo_clock_skips_national_holidays() -> None:
    real = _at(2026, 12, 24, 20)  # Christmas Eve evening; 25/12 is a holiday
    clock, moved = demo_clock(now=real)
    offset = clock() - datetime.now(UTC)
    assert moved and abs((real + offset) - _at(2026, 12, 28, 10)) < timedelta(seconds=5)  # Monday 28


def test_demo_clock_early_morning_waits_for_ten_the_same_day() -> None:
    real = _at(2026, 11, 24, 6, 30)
    clock, moved = demo_clock(now=real)
    offset = clock() - datetime.now(UTC)
    assert moved and abs((real + offset) - _at(2026, 11, 24, 10)) < timedelta(seconds=5)


def test_business_clock_runs_at_real_speed_from_eleven() -> None:
    real = _at(2026, 11, 28, 3)  # Saturday
    clock = business_clock(now=real)
    offset = clock() - datetime.now(UTC)
    assert abs((real + offset) - datetime.combine(_at(2026, 11, 30, 0).date(), time(11), tzinfo=BRASILIA)) < timedelta(
        seconds=5
    )
