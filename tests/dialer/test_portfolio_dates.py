from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialer.portfolio.dates import parse_date
from dialer.portfolio.errors import FieldError
from scripting.money import format_date_br


@pytest.mark.parametrize(
    ("written", "day"),
    [
        ("10/03/2025", date(2025, 3, 10)),
        ("1/2/2025", date(2025, 2, 1)),
        ("10-03-2025", date(2025, 3, 10)),
        ("10.03.2025", date(2025, 3, 10)),
        ("2025-03-10", date(2025, 3, 10)),
        ("2025-03-10T00:00:00", date(2025, 3, 10)),
        ("29/02/2024", date(2024, 2, 29)),
    ],
)
def test_dates_as_written(written: str, day: date) -> None:
    assert parse_date(written) == day


@pytest.mark.parametrize(
    ("bad", "code"),
    [("", "data_vazia"), ("31/02/2025", "data_inexistente"), ("29/02/2025", "data_inexistente"),
     ("13/13/2025", "data_inexistente"), ("01/02/25", "data_invalida"), ("2025/03/10", "data_invalida"),
     ("ontem", "data_invalida"), ("2025-03-10T12:30:00", "data_invalida")],
)
def test_not_a_real_date(bad: str, code: str) -> None:
    with pytest.raises(FieldError) as caught:
        parse_date(bad)
    assert caught.value.code == code


@given(st.dates(min_value=date(1000, 1, 1)))
def test_format_round_trips(day: date) -> None:
    assert parse_date(format_date_br(day)) == day
    assert parse_date(day.isoformat()) == day
