"""Segment filters, ranks and validation (pure)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from dialer.leads.segments import (
    NO_SEGMENT_POSITION,
    SegmentError,
    SegmentFacts,
    SegmentFilter,
    SegmentSpec,
    bucket_due_range,
    check_boost,
    check_segments,
    classify,
    lead_priority,
    matches,
    parse_filter,
    position_of,
    priority_of,
)

TODAY = date(2026, 3, 3)


def facts(**kw: object) -> SegmentFacts:
    base: dict[str, object] = {"oldest_due_date": date(2026, 1, 20), "balance_total": Decimal("500.00")}
    base.update(kw)
    return SegmentFacts(**base)  # type: ignore[arg-type]


def test_higher_weight_plus_boost_ranks_first_then_position() -> None:
    assert priority_of(80, 1, 0) < priority_of(50, 0, 0)
    assert priority_of(50, 0, 0) < priority_of(50, 1, 0)
    assert priority_of(50, 1, 40) < priority_of(80, 0, 0)
    assert position_of(priority_of(50, 3, 7)) == 3
    assert position_of(priority_of(0, NO_SEGMENT_POSITION, 0)) == NO_SEGMENT_POSITION


@pytest.mark.parametrize(
    ("bucket", "expected"),
    [("a vencer", (TODAY, None)), ("1-30", (date(2026, 2, 1), date(2026, 3, 2))),
     ("31-60", (date(2026, 1, 2), date(2026, 1, 31))), ("360+", (None, date(2025, 3, 7)))],
)
def test_bucket_due_ranges_agree_with_aging(bucket: str, expected: tuple[date | None, date | None]) -> None:
    assert bucket_due_range(bucket, TODAY) == expected
    low, high = expected
    for due in (low, high):
        if due is not None:
            assert matches(SegmentFilter(buckets=(bucket,)), facts(oldest_due_date=due), TODAY)


def test_every_criterion_must_hold() -> None:
    flt = parse_filter({"buckets": ["31-60"], "balance_min": "100", "tags_any": ["vip"], "ufs": ["sp"]})
    assert matches(flt, facts(tags=frozenset({"vip"}), uf="SP"), TODAY)
    assert not matches(flt, facts(tags=frozenset({"vip"}), uf="RJ"), TODAY)
    assert not matches(flt, facts(uf="SP"), TODAY)
    assert not matches(flt, facts(tags=frozenset({"vip"}), uf="SP", balance_total=Decimal("99.99")), TODAY)
    assert not matches(SegmentFilter(buckets=("31-60",)), facts(oldest_due_date=None), TODAY)
    assert matches(SegmentFilter(promise_broken=True), facts(promise_broken=True), TODAY)
    assert not matches(SegmentFilter(callback_due=False), facts(callback_due=True), TODAY)


def test_first_matching_segment_wins() -> None:
    specs = [SegmentSpec("VIP", 10, SegmentFilter(tags_any=("vip",))), SegmentSpec("Todos", 90)]
    assert classify(specs, facts(tags=frozenset({"vip"})), TODAY) == 0
    assert lead_priority(specs, facts(), 5, TODAY) == priority_of(90, 1, 5)
    assert lead_priority([], facts(), 0, TODAY) == priority_of(0, NO_SEGMENT_POSITION, 0)


@pytest.mark.parametrize(
    ("data", "field"),
    [({"buckets": ["1-31"]}, "filters.buckets"), ({"balance_min": "-1"}, "filters.balance_min"),
     ({"balance_min": "10", "balance_max": "5"}, "filters.balance_max"), ({"ufs": ["XX"]}, "filters.ufs"),
     ({"promise_broken": "yes"}, "filters.promise_broken"), ({"colour": 1}, "filters.colour"),
     ({"score_min": 1.5}, "filters.score_min")],
)
def test_bad_filters_name_the_field(data: dict[str, object], field: str) -> None:
    with pytest.raises(SegmentError) as err:
        parse_filter(data)
    assert err.value.field == field


def test_round_trip_and_list_checks() -> None:
    flt = parse_filter({"buckets": ["1-30"], "balance_max": "1000", "tags_any": [" vip  ouro "]})
    assert parse_filter(flt.to_json()) == flt and flt.to_json()["balance_max"] == "1000.00"
    with pytest.raises(SegmentError, match="appears twice") as err:
        check_segments([SegmentSpec("A", 1), SegmentSpec("a", 2)])
    assert err.value.field == "segments[1].name"
    with pytest.raises(SegmentError) as err:
        check_segments([SegmentSpec("A", 1001)])
    assert err.value.field == "segments[0].weight"
    assert check_boost(-1000) == -1000
    with pytest.raises(SegmentError):
        check_boost(1001)
