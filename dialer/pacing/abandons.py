"""Abandon accounting in the rolling windows the pacer and the regulator look at.

The dialer records every live answer (a person, as far as it can tell) and every
abandon; the ledger answers with counts for the last 15 minutes, the current day and
the last 30 days. Days are calendar days in the campaign's time zone, given as a fixed
offset from the clock the timestamps use (Brazil has had no daylight saving since 2019).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

SHORT_WINDOW_S = 15 * 60
LONG_WINDOW_DAYS = 30


@dataclass(frozen=True, slots=True)
class AbandonCounts:
    """Live answers and abandons in each window, plus the cap they are judged against."""

    cap: float
    live_15min: int = 0
    abandons_15min: int = 0
    live_today: int = 0
    abandons_today: int = 0
    live_30d: int = 0
    abandons_30d: int = 0

    def __post_init__(self) -> None:
        if not 0.0 < self.cap < 1.0:
            raise ValueError(f"cap: must be in (0, 1), got {self.cap}")
        for name in ("live_15min", "abandons_15min", "live_today", "abandons_today", "live_30d", "abandons_30d"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}: must be >= 0, got {getattr(self, name)}")

    @property
    def budget_30d(self) -> float:
        """Abandons still allowed before the 30-day rate reaches the cap (live × cap − abandons)."""
        return self.live_30d * self.cap - self.abandons_30d

    @property
    def budget_today(self) -> float:
        return self.live_today * self.cap - self.abandons_today

    @property
    def rate_15min(self) -> float:
        return self.abandons_15min / self.live_15min if self.live_15min else 0.0

    @property
    def rate_today(self) -> float:
        return self.abandons_today / self.live_today if self.live_today else 0.0

    @property
    def rate_30d(self) -> float:
        return self.abandons_30d / self.live_30d if self.live_30d else 0.0


class AbandonLedger:
    """Counts live answers and abandons per day and over the last 15 minutes."""

    def __init__(self, cap: float, *, utc_offset_s: float = 0.0) -> None:
        if not 0.0 < cap < 1.0:
            raise ValueError(f"cap: must be in (0, 1), got {cap}")
        self.cap = cap
        self._offset = utc_offset_s
        self._days: dict[int, list[int]] = {}  # day number -> [live, abandons]
        self._recent: deque[tuple[float, bool]] = deque()  # (t, is_abandon) in the short window
        self._recent_abandons = 0

    def day_of(self, t: float) -> int:
        """The calendar day number of timestamp ``t`` in the campaign's time zone."""
        return int((t + self._offset) // 86400)

    def load_day(self, day: int, live: int, abandons: int) -> None:
        """Restore a past day's totals (from storage, at start-up)."""
        if live < 0 or abandons < 0:
            raise ValueError(f"day {day}: counts must be >= 0 (live={live}, abandons={abandons})")
        self._days[day] = [live, abandons]

    def record_live_answer(self, t: float) -> None:
        self._days.setdefault(self.day_of(t), [0, 0])[0] += 1
        self._recent.append((t, False))

    def record_abandon(self, t: float) -> None:
        """An abandon; its call was already recorded as a live answer."""
        self._days.setdefault(self.day_of(t), [0, 0])[1] += 1
        self._recent.append((t, True))
        self._recent_abandons += 1

    def counts(self, now: float) -> AbandonCounts:
        recent = self._recent
        while recent and recent[0][0] <= now - SHORT_WINDOW_S:
            if recent.popleft()[1]:
                self._recent_abandons -= 1
        abandons_15 = self._recent_abandons
        today = self.day_of(now)
        live_today, abandons_today = self._days.get(today, (0, 0))
        live_30 = abandons_30 = 0
        for day, (live, abandons) in self._days.items():
            if today - LONG_WINDOW_DAYS < day <= today:
                live_30 += live
                abandons_30 += abandons
        return AbandonCounts(
            cap=self.cap,
            live_15min=len(recent) - abandons_15,
            abandons_15min=abandons_15,
            live_today=live_today,
            abandons_today=abandons_today,
            live_30d=live_30,
            abandons_30d=abandons_30,
        )
