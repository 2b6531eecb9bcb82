from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialer.leads.aging import BUCKET_LABELS, aging_bucket, days_past_due, is_prescribed, prescribed_from

TODAY = date(2025, 7, 10)


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (-10, "a vencer"),
        (0, "a vencer"),
        (1, "1-30"),
        (30, "1-30"),
        (31, "31-60"),
        (60, "31-60"),
        (61, "61-90"),
        (90, "61-90"),
        (91, "91-180"),
        (180, "91-180"),
        (181, "181-360"),
        (360, "181-360"),
        (361, "360+"),
        (5000, "360+"),
    ],
)
def test_bucket_boundaries(days: int, bucket: str) -> None:
    assert aging_bucket(TODAY - timedelta(days=days), TODAY) == bucket


@given(st.dates(), st.integers(-400, 4000))
def test_buckets_are_ordered_by_age(today: date, days: int) -> None:
    try:
        due, older = today - timedelta(days=days), today - timedelta(days=days + 1)
    except OverflowError:
        return
    assert BUCKET_LABELS.index(aging_bucket(older, today)) >= BUCKET_LABELS.index(aging_bucket(due, today))
    assert days_past_due(due, today) == days


def test_prescription_after_five_years() -> None:
    due = date(2020, 7, 10)
    assert prescribed_from(due) == date(2025, 7, 11)
    assert not is_prescribed(due, date(2025, 7, 10))
    assert is_prescribed(due, date(2025, 7, 11))
    assert is_prescribed(due, date(2025, 7, 11), years=5) and not is_prescribed(due, date(2025, 7, 11), years=6)


def test_prescription_of_a_leap_day_due_date() -> None:
    # CC art. 132 §3: no 29/02 in 2025, so the term ends on 01/03 and the debt is prescribed from 02/03
    assert prescribed_from(date(2020, 2, 29)) == date(2025, 3, 2)
