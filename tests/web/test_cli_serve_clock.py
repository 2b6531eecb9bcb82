"""``COBRA_CLOCK`` for ``cobra serve``: the real clock unless a benchmark asks for business hours."""

from __future__ import annotations

from datetime import timedelta

import click
import pytest

from dialer.clocks import BRASILIA, system_clock
from web.cli.serve import CLOCK_ENV, _clock


def test_unset_or_system_is_the_real_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CLOCK_ENV, raising=False)
    assert _clock() is system_clock
    monkeypatch.setenv(CLOCK_ENV, "system")
    assert _clock() is system_clock


def test_business_runs_at_real_speed_inside_business_hours(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CLOCK_ENV, "business")
    clock = _clock()
    now = clock().astimezone(BRASILIA)
    assert now.weekday() < 5 and 11 <= now.hour < 12
    later = clock()
    assert timedelta(0) <= later - now < timedelta(seconds=5)  # the same clock, moving on


def test_anything_else_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CLOCK_ENV, "tomorrow")
    with pytest.raises(click.UsageError, match="COBRA_CLOCK"):
        _clock()
