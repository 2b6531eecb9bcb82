"""Progressive pacing: ready agents − calls in progress; sharing among campaigns."""

from __future__ import annotations

import pytest

from dialer.campaigns.progressive import calls_to_place, share_out


@pytest.mark.parametrize(("ready", "in_progress", "expected"), [(3, 0, 3), (3, 1, 2), (2, 5, 0), (0, 0, 0)])
def test_one_call_per_ready_agent(ready: int, in_progress: int, expected: int) -> None:
    assert calls_to_place(ready, in_progress) == expected


def test_limit_caps_and_negative_inputs_are_refused() -> None:
    assert calls_to_place(10, 0, limit=4) == 4
    with pytest.raises(ValueError, match="must be >= 0"):
        calls_to_place(-1, 0)


def test_share_out_is_round_robin_from_the_start_index() -> None:
    assert share_out(3, [10, 20], start=0) == {10: 2, 20: 1}
    assert share_out(3, [10, 20], start=1) == {10: 1, 20: 2}
    assert share_out(2, []) == {}
