"""QA's pure parts: filters and cursor, scorecard scoring, automatic flags, the weekly sample."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from dialer.qa.flags import CallFacts, compute_flags
from dialer.qa.queue import sample_per_agent, week_of
from dialer.qa.records import (
    Cursor,
    InvalidFilter,
    decode_cursor,
    mask_name,
    parse_filters,
    talk_seconds,
)
from dialer.qa.scorecards import (
    DEFAULT_ITEMS,
    InvalidScorecard,
    ScoreItem,
    parse_items,
    score,
)

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def test_filters_turn_local_days_into_utc_bounds_and_parse_every_field() -> None:
    f = parse_filters({"from": "2026-03-01", "to": "2026-03-02", "agent": "ana", "outcome": "ACORDO", "campaign": "3",
                       "result": "connected", "min_talk": "10", "max_talk": "60", "min_amount": "1.000,50".replace(".", ""),
                       "max_amount": "2000", "flagged": "true", "reviewed": "false", "limit": "20"})
    assert f.start == datetime(2026, 3, 1, 3, 0, tzinfo=UTC) and f.end == datetime(2026, 3, 3, 3, 0, tzinfo=UTC)
    assert (f.agent, f.outcome, f.campaign_id, f.result) == ("ana", "ACORDO", 3, "connected")
    assert (f.min_talk_s, f.max_talk_s, f.min_amount, f.max_amount) == (10, 60, Decimal("1000.50"), Decimal("2000.00"))
    assert (f.flagged, f.reviewed, f.limit, f.cursor) == (True, False, 20, None)
    assert parse_filters({}).limit == 50


@pytest.mark.parametrize(
    ("params", "field"),
    [({"from": "01/03/2026"}, "from"), ({"to": "2026-02-30"}, "to"), ({"from": "2025-01-01", "to": "2026-03-01"}, "to"),
     ({"agent": "a b"}, "agent"), ({"outcome": "acordo"}, "outcome"), ({"min_talk": "1.5"}, "min_talk"),
     ({"min_talk": "9", "max_talk": "3"}, "max_talk"), ({"min_amount": "-1"}, "min_amount"),
     ({"max_amount": "NaN"}, "max_amount"), ({"min_amount": "5", "max_amount": "4"}, "max_amount"),
     ({"reviewed": "x"}, "reviewed"), ({"limit": "0"}, "limit"), ({"cursor": "!!"}, "cursor"), ({"page": "2"}, "page")],
)
def test_each_bad_parameter_is_named(params: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidFilter) as caught:
        parse_filters(params)
    assert caught.value.field == field and caught.value.message.startswith(field)


def test_the_cursor_round_trips_and_refuses_tampering() -> None:
    c = Cursor(T0, "ab" * 16)
    assert decode_cursor(c.encode()) == c
    assert parse_filters({"cursor": c.encode()}).cursor == c
    with pytest.raises(InvalidFilter):
        parse_filters({"cursor": c.encode()}, cursor_allowed=False)
    for bad in ("", "e30", c.encode()[:-3], "W1wiMjAyNi0wMy0wMlQxNTowMDowMFwiLFwiWlpaXCJdXQ"):
        with pytest.raises(InvalidFilter):
            decode_cursor(bad)


def test_masks_and_talk_time() -> None:
    assert mask_name("Maria Aparecida da Silva") == "Maria S." and mask_name("Cher") == "Cher" and mask_name("") == ""
    assert talk_seconds(T0, T0 + timedelta(seconds=59.9)) == 59
    assert talk_seconds(None, T0) is None


def test_a_score_is_the_weighted_share_of_yes_among_items_that_apply() -> None:
    items = (ScoreItem("a", "A", 3), ScoreItem("b", "B", 1), ScoreItem("c", "C", 4, critical=True))
    assert score(items, {"a": True, "b": False, "c": True}).value == Decimal("87.50")
    assert score(items, {"a": True, "b": None, "c": None}).value == Decimal("100.00")
    assert score(items, {"a": None, "b": None, "c": None}).value == Decimal("100.00")


def test_a_critical_no_zeroes_the_score() -> None:
    s = score(DEFAULT_ITEMS, {i.key: i.key != "identidade" for i in DEFAULT_ITEMS})
    assert (s.value, s.zeroed, s.failed_critical) == (Decimal("0.00"), True, ("identidade",))
    s = score(DEFAULT_ITEMS, {i.key: i.key != "divida_clara" for i in DEFAULT_ITEMS})
    assert (s.value, s.zeroed) == (Decimal("85.00"), False)


def test_answers_must_cover_the_card_and_nothing_else() -> None:
    with pytest.raises(InvalidScorecard) as caught:
        score(DEFAULT_ITEMS, {"identificou": True})
    assert caught.value.field == "answers.gravacao"
    with pytest.raises(InvalidScorecard) as caught:
        score(DEFAULT_ITEMS, {**{i.key: True for i in DEFAULT_ITEMS}, "extra": True})
    assert caught.value.field == "answers.extra"


def test_the_default_card_has_the_seven_items_and_items_are_validated() -> None:
    assert len(DEFAULT_ITEMS) == 7 and sum(i.weight for i in DEFAULT_ITEMS) == 100
    assert parse_items([{"key": "x", "label": " X ", "weight": 2}]) == (ScoreItem("x", "X", 2, False),)
    for raw, field in [([], "items"), ([{"key": "X", "label": "x", "weight": 1}], "items[0].key"),
                       ([{"key": "x", "label": "", "weight": 1}], "items[0].label"),
                       ([{"key": "x", "label": "x", "weight": True}], "items[0].weight"),
                       ([{"key": "x", "label": "x", "weight": 1, "critical": "sim"}], "items[0].critical")]:
        with pytest.raises(InvalidScorecard) as caught:
            parse_items(raw)
        assert caught.value.field == field


def test_flags_follow_the_data() -> None:
    clean = CallFacts(outcome="ACORDO", talk_s=300, identity_confirmed_at=T0, negotiated_at=T0 + timedelta(minutes=3),
                      discount_pct=Decimal(20), agent_limit_pct=Decimal(30), balance=Decimal(500))
    assert compute_flags(clean, short_call_s=30) == []
    codes = lambda facts: [f.code for f in compute_flags(facts, short_call_s=30)]
    assert codes(CallFacts(outcome="ACORDO", talk_s=300, negotiated_at=T0)) == ["divida_antes_identidade"]
    assert codes(CallFacts(outcome="ACORDO", identity_confirmed_at=T0, negotiated_at=T0 - timedelta(seconds=1))) == [
        "divida_antes_identidade"]
    assert codes(CallFacts(outcome="PROMESSA")) == ["divida_antes_identidade"]
    assert codes(CallFacts(outcome="RECUSA", talk_s=29)) == ["chamada_curta"]
    assert codes(CallFacts(outcome="RECADO", talk_s=5)) == []  # not the debtor: no right-party contact
    assert codes(CallFacts(outcome="RECUSA", talk_s=30)) == []
    assert codes(CallFacts(discount_pct=Decimal(35), agent_limit_pct=Decimal(30))) == ["desconto_sem_aprovacao"]
    assert codes(CallFacts(discount_pct=Decimal(35), agent_limit_pct=Decimal(30), approval_id=4)) == []
    flags = compute_flags(CallFacts(promise_amount=Decimal("1234.56"), balance=Decimal(1000)), short_call_s=30)
    assert [(f.code, f.detail) for f in flags] == [
        ("promessa_acima_saldo", "Promessa de R$ 1.234,56 acima do saldo de R$ 1.000,00.")]


def test_the_weekly_sample_is_per_agent_deterministic_and_changes_each_week() -> None:
    calls = [(agent, f"{agent}-{n}") for agent in (1, 2, 3) for n in range(20)]
    week, monday = week_of(T0)
    assert (week, monday.isoformat()) == ("2026-W10", "2026-03-02")
    a = sample_per_agent(calls, per_agent=2, seed=week)
    assert len(a) == 6 and all(sum(c.startswith(f"{g}-") for c in a) == 2 for g in (1, 2, 3))
    assert sample_per_agent(list(reversed(calls)), per_agent=2, seed=week) == a
    assert sample_per_agent(calls, per_agent=2, seed="2026-W11") != a
    assert sample_per_agent(calls[:1], per_agent=5, seed=week) == {"1-0"}
