from __future__ import annotations

import pytest

from dialer.pacing.abandons import AbandonCounts, AbandonLedger

DAY = 86400.0


def test_windows_count_the_last_15_minutes_today_and_30_days() -> None:
    ledger = AbandonLedger(0.03)
    for day in (0, 10, 40):
        t = day * DAY + 3600
        for _ in range(100):
            ledger.record_live_answer(t)
        ledger.record_abandon(t)
    now = 40 * DAY + 3600 + 60
    c = ledger.counts(now)
    assert (c.live_15min, c.abandons_15min) == (100, 1)
    assert (c.live_today, c.abandons_today) == (100, 1)
    assert (c.live_30d, c.abandons_30d) == (100, 1)  # day 10 is 30 days before day 40: out
    later = ledger.counts(now + 15 * 60)
    assert (later.live_15min, later.abandons_15min) == (0, 0)
    assert later.live_today == 100


def test_day_boundary_follows_the_campaign_time_zone() -> None:
    ledger = AbandonLedger(0.03, utc_offset_s=-3 * 3600)  # Brasília
    ledger.record_live_answer(DAY + 2 * 3600)  # 02:00 UTC = 23:00 the day before in Brasília
    assert ledger.counts(DAY + 2 * 3600).live_today == 1
    assert ledger.counts(DAY + 4 * 3600).live_today == 0  # 01:00 local: a new day
    assert ledger.counts(DAY + 4 * 3600).live_30d == 1


def test_history_loads_and_budget_is_live_times_cap_minus_abandons() -> None:
    ledger = AbandonLedger(0.03)
    ledger.load_day(-1, 1000, 20)
    c = ledger.counts(100.0)
    assert c.budget_30d == pytest.approx(1000 * 0.03 - 20)
    assert c.rate_30d == pytest.approx(0.02)
    assert c.rate_today == 0.0 and c.rate_15min == 0.0
    with pytest.raises(ValueError, match="day 3: counts must be >= 0"):
        ledger.load_day(3, -1, 0)


def test_counts_reject_a_bad_cap_or_negative_counts() -> None:
    with pytest.raises(ValueError, match="cap"):
        AbandonCounts(cap=0.0)
    with pytest.raises(ValueError, match="abandons_today"):
        AbandonCounts(cap=0.03, abandons_today=-1)
    with pytest.raises(ValueError, match="cap"):
        AbandonLedger(1.5)
