from datetime import date

from scripting.business_days import BusinessCalendar, add_months


def test_weekends_and_national_holidays_are_skipped() -> None:
    calendar = BusinessCalendar()
    assert calendar.on_or_after(date(2025, 5, 9)) == date(2025, 5, 9)  # a Friday
    assert calendar.on_or_after(date(2025, 5, 10)) == date(2025, 5, 12)  # Saturday -> Monday
    assert calendar.on_or_after(date(2025, 11, 20)) == date(2025, 11, 21)  # Consciência Negra (Lei 14.759/2023)
    assert calendar.on_or_after(date(2025, 4, 18)) == date(2025, 4, 22)  # Good Friday, weekend, Tiradentes
    assert calendar.on_or_after(date(2025, 12, 25)) == date(2025, 12, 26)


def test_state_holidays_only_with_a_subdivision() -> None:
    assert BusinessCalendar().is_business_day(date(2025, 7, 9))
    assert not BusinessCalendar(subdiv="SP").is_business_day(date(2025, 7, 9))


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2025, 11, 15), 3) == date(2026, 2, 15)
