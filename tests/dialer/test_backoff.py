"""The dialer's failure backoff (pure): waits double up to a ceiling, a success clears, one report per run."""

from __future__ import annotations

import pytest

from dialer.backoff import Backoff


def test_waits_double_up_to_the_ceiling_and_a_success_clears() -> None:
    b = Backoff(first_s=0.5, max_s=3.0)
    assert b.ready("c1", 0.0)
    waits = []
    now = 0.0
    for _ in range(5):
        failing = b.failed("c1", now)
        waits.append(failing.retry_at - now)
        assert not b.ready("c1", now) and b.ready("c1", failing.retry_at)
        now = failing.retry_at
    assert waits == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert b.ready("other", 0.0)  # keys are independent
    assert b.succeeded("c1") == 5
    assert b.ready("c1", 0.0) and b.succeeded("c1") == 0


def test_only_the_first_failure_of_a_run_counts_one() -> None:
    b = Backoff()
    assert b.failed(7, 0.0).count == 1
    assert b.failed(7, 100.0).count == 2
    b.succeeded(7)
    assert b.failed(7, 200.0).count == 1


def test_keep_only_drops_keys_that_are_gone() -> None:
    b = Backoff()
    b.failed(1, 0.0)
    b.failed(2, 0.0)
    b.keep_only({2, 3})
    assert set(b.failing) == {2}


def test_bad_bounds_are_refused() -> None:
    with pytest.raises(ValueError):
        Backoff(first_s=0)
    with pytest.raises(ValueError):
        Backoff(first_s=2, max_s=1)
