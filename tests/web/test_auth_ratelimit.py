from __future__ import annotations

import pytest

from web.auth.ratelimit import LoginRateLimiter, ThrottlePolicy


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
    return LoginRateLimiter(
        per_login=ThrottlePolicy(free_failures=3, max_delay_s=60),
        per_client=ThrottlePolicy(free_failures=5, max_delay_s=900),
        window_s=600,
        clock=clock,
    )


def fail(limiter: LoginRateLimiter, login: str, client: str | None, times: int) -> None:
    for _ in range(times):
        assert limiter.check(login, client).allowed
        limiter.record_failure(login, client)


def test_free_failures_then_a_wait_that_doubles_up_to_the_cap() -> None:
    policy = ThrottlePolicy(free_failures=3, max_delay_s=60, first_delay_s=1)
    assert [policy.delay_after(n) for n in range(10)] == [0, 0, 0, 1, 2, 4, 8, 16, 32, 60]
    assert policy.delay_after(10_000) == 60


def test_after_the_wait_the_next_attempt_is_allowed(limiter: LoginRateLimiter, clock: Seconds) -> None:
    fail(limiter, "ana", "10.0.0.1", 3)
    refused = limiter.check("ana", "10.0.0.1")
    assert (refused.allowed, refused.retry_after_s, refused.scope) == (False, 1, "login")
    clock.t += 1
    assert limiter.check("ana", "10.0.0.1").allowed  # the right password would get in now
    limiter.record_failure("ana", "10.0.0.1")  # a 4th failure: the wait doubles
    assert limiter.check("ana", "10.0.0.1").retry_after_s == 2
    clock.t += 2
    assert limiter.check("ana", "10.0.0.1").allowed


def test_refused_attempts_do_not_lengthen_the_wait(limiter: LoginRateLimiter, clock: Seconds) -> None:
    for _ in range(6):
        limiter.record_failure("ana", None)  # 3 over the free ones: wait 8 s
    first = limiter.check("ana", None)
    assert (first.retry_after_s, first.first_refusal) == (8, True)
    for _ in range(50):
        again = limiter.check("ana", None)
        assert not again.allowed and not again.first_refusal
    clock.t += 8
    assert limiter.check("ana", None).allowed


def test_an_attacker_never_locks_the_login_for_longer_than_its_cap(limiter: LoginRateLimiter, clock: Seconds) -> None:
    for i in range(200):  # guesses from many addresses, each as soon as allowed
        while not limiter.check("ana", f"10.1.{i % 250}.1").allowed:
            clock.t += 1
        limiter.record_failure("ana", f"10.1.{i % 250}.1")
    verdict = limiter.check("ana", "192.168.0.7")
    assert not verdict.allowed and verdict.retry_after_s <= 60
    clock.t += 60
    assert limiter.check("ana", "192.168.0.7").allowed


def test_one_client_guessing_many_logins_waits_alone(limiter: LoginRateLimiter) -> None:
    for i in range(5):
        limiter.record_failure(f"user{i}", "10.0.0.9")
    refused = limiter.check("root", "10.0.0.9")
    assert (refused.allowed, refused.scope) == (False, "client")
    assert limiter.check("root", "10.0.0.10").allowed


def test_logins_are_counted_case_insensitively(limiter: LoginRateLimiter) -> None:
    for login in ("ana", "ANA", "Ana"):
        limiter.record_failure(login, None)
    assert not limiter.check("aNa", None).allowed


def test_failures_are_forgotten_after_the_window(limiter: LoginRateLimiter, clock: Seconds) -> None:
    fail(limiter, "ana", "10.0.0.1", 3)
    clock.t += 600
    fail(limiter, "ana", "10.0.0.1", 3)  # three free failures again
    assert not limiter.check("ana", "10.0.0.1").allowed


def test_success_clears_the_login_but_not_the_client(limiter: LoginRateLimiter, clock: Seconds) -> None:
    fail(limiter, "ana", "10.0.0.9", 2)
    fail(limiter, "x", "10.0.0.9", 3)
    limiter.record_success("ana")
    assert limiter.check("ana", "10.0.0.1").allowed
    assert not limiter.check("ana", "10.0.0.9").allowed


def test_rejects_nonsense_limits(clock: Seconds) -> None:
    with pytest.raises(ValueError):
        ThrottlePolicy(free_failures=0, max_delay_s=5)
    with pytest.raises(ValueError):
        ThrottlePolicy(free_failures=1, max_delay_s=0.5, first_delay_s=1)
    with pytest.raises(ValueError):
        LoginRateLimiter(per_login=ThrottlePolicy(1, 5), per_client=ThrottlePolicy(1, 5), window_s=0, clock=clock)
