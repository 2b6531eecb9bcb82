from __future__ import annotations

import math

import pytest

from dialer.pacing.model import HORIZONS, AvailabilityModel, expected_positive_part
from tests.dialer.test_pacing_pacer import warm_stats


def model() -> AvailabilityModel:
    return AvailabilityModel(warm_stats(p_live=0.25), ring_timeout_s=25.0, connect_window_s=2.0)


def test_expected_positive_part_of_a_normal() -> None:
    assert expected_positive_part(0.0, 1.0) == pytest.approx(1.0 / math.sqrt(2.0 * math.pi))
    assert expected_positive_part(3.0, 0.0) == 3.0
    assert expected_positive_part(-3.0, 0.0) == 0.0
    assert expected_positive_part(10.0, 1.0) == pytest.approx(10.0, abs=1e-6)
    assert expected_positive_part(-10.0, 1.0) == pytest.approx(0.0, abs=1e-6)


def test_a_new_call_is_a_person_by_the_ring_timeout_with_the_live_share() -> None:
    ol = model().outlook(agents_ready=0, talk_elapsed_s=(), wrap_elapsed_s=(), ringing_elapsed_s=(), in_amd=0, answered_waiting=0)
    assert ol.new_call_live == pytest.approx(0.25, abs=1e-6)
    assert list(ol.new_call) == sorted(ol.new_call)  # more likely answered the longer we look
    assert ol.new_call[0] == 0.0


def test_a_call_that_rang_long_is_less_likely_a_person_and_never_after_the_timeout() -> None:
    m = model()
    fresh = m.outlook(agents_ready=0, talk_elapsed_s=(), wrap_elapsed_s=(), ringing_elapsed_s=(2.0,), in_amd=0, answered_waiting=0)
    stale = m.outlook(agents_ready=0, talk_elapsed_s=(), wrap_elapsed_s=(), ringing_elapsed_s=(20.0,), in_amd=0, answered_waiting=0)
    dead = m.outlook(agents_ready=0, talk_elapsed_s=(), wrap_elapsed_s=(), ringing_elapsed_s=(26.0,), in_amd=0, answered_waiting=0)
    assert fresh.mean[-1] > stale.mean[-1] > 0.0
    assert dead.mean[-1] == 0.0


def test_busy_agents_free_up_more_surely_late_in_their_call_and_in_wrap_up() -> None:
    m = model()

    def supply(**kw: tuple[float, ...]) -> float:
        ol = m.outlook(agents_ready=0, ringing_elapsed_s=(), in_amd=0, answered_waiting=0, **{"talk_elapsed_s": (), "wrap_elapsed_s": (), **kw})
        return -ol.mean[-1]

    just_started, long_call, wrapping = supply(talk_elapsed_s=(5.0,)), supply(talk_elapsed_s=(200.0,)), supply(wrap_elapsed_s=(15.0,))
    assert 0.0 < just_started < long_call < wrapping <= 1.0


def test_ready_agents_and_waiting_calls_shift_the_whole_outlook() -> None:
    ol = model().outlook(agents_ready=3, talk_elapsed_s=(), wrap_elapsed_s=(), ringing_elapsed_s=(), in_amd=0, answered_waiting=1)
    assert ol.mean == (-2.0,) * len(HORIZONS)
    assert ol.var == (0.0,) * len(HORIZONS)


def test_drop_chance_grows_with_each_call_and_is_small_with_plenty_of_agents() -> None:
    m = model()
    ol = m.outlook(agents_ready=2, talk_elapsed_s=(150.0,) * 10, wrap_elapsed_s=(5.0,), ringing_elapsed_s=(1.0, 4.0), in_amd=0, answered_waiting=0)
    chances = [ol.drop_chance(k) for k in range(0, 30, 3)]
    assert chances == sorted(chances)
    assert chances[0] < 0.01 < chances[-1] <= ol.new_call_live
    roomy = m.outlook(agents_ready=40, talk_elapsed_s=(), wrap_elapsed_s=(), ringing_elapsed_s=(), in_amd=0, answered_waiting=0)
    assert roomy.drop_chance(10) < 1e-6
    assert roomy.expected_drops(10) < 1e-6


def test_tables_are_reused_while_the_statistics_barely_move() -> None:
    m = model()
    assert m.matches(warm_stats(p_live=0.2505), 25.0, 2.0)
    assert not m.matches(warm_stats(p_live=0.30), 25.0, 2.0)
    assert not m.matches(warm_stats(p_live=0.25), 30.0, 2.0)
