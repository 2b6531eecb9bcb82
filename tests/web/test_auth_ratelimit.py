from __future__ import annotations

import pytest

from web.auth.ratelimit import LoginRateLimiter


class Seconds:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock() -> Seconds:
    return Seconds()


@pytest.fixture
def limiter(clock: Seconds) -> LoginRateLimiter:
    return LoginRateLimiter(max_per_login=3, max_per_ip=5, window_s=600, clock=clock)


def test_blocks_a_login_after_its_limit_until_failures_age_out(limiter: LoginRateLimiter, clock: Seconds) -> None:
    for step in range(3):
        assert limiter.check("ana", "10.0.0.1").allowed
        limiter.record_failure("ana", "10.0.0.1")
        clock.t += 10 * (step + 1)  # failures at 1000, 1010, 1030
    verdict = limiter.check("ana", "10.0.0.2")
    assert (verdict.allowed, verdict.retry_after_s) == (False, 1000 + 600 - 1060)
    clock.t = 1600.5  # the first failure has aged out: 2 left, under the limit
    assert limiter.check("ana", "10.0.0.2").allowed


def test_logins_are_counted_case_insensitively(limiter: LoginRateLimiter) -> None:
    for login in ("ana", "ANA", "Ana"):
        limiter.record_failure(login, None)
    assert not limiter.check("aNa", None).allowed


def test_blocks_an_ip_that_tries_many_logins(limiter: LoginRateLimiter) -> None:
    for i in range(5):
        limiter.record_failure(f"user{i}", "10.0.0.9")
    assert not limiter.check("root", "10.0.0.9").allowed
    assert limiter.check("root", "10.0.0.10").allowed


def test_success_clears_the_login_but_not_the_ip(limiter: LoginRateLimiter) -> None:
    for _ in range(2):
        limiter.record_failure("ana", "10.0.0.9")
    for i in range(3):
        limiter.record_failure(f"x{i}", "10.0.0.9")
    limiter.record_success("ana")
    assert limiter.check("ana", "10.0.0.1").allowed
    assert not limiter.check("ana", "10.0.0.9").allowed


def test_rejects_nonsense_limits(clock: Seconds) -> None:
    with pytest.raises(ValueError):
        LoginRateLimiter(max_per_login=0, max_per_ip=5, window_s=60, clock=clock)
    with pytest.raises(ValueError):
        LoginRateLimiter(max_per_login=1, max_per_ip=5, window_s=0, clock=clock)
