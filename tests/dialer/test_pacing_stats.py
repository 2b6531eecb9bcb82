from __future__ import annotations

import math
import random

import pytest

from dialer.pacing.stats import CallStats, DialResult, LogNormalEstimator, LogNormalFit, ShareEstimator


def test_lognormal_fit_from_mean_and_sd_round_trips() -> None:
    fit = LogNormalFit.from_mean_sd(150.0, 100.0)
    assert fit.mean == pytest.approx(150.0)
    sd = math.sqrt((math.exp(fit.sigma**2) - 1.0) * math.exp(2 * fit.mu + fit.sigma**2))
    assert sd == pytest.approx(100.0)
    assert fit.cdf(fit.quantile(0.3)) == pytest.approx(0.3)
    assert fit.sf(1e9) + fit.cdf(1e9) == pytest.approx(1.0)
    assert fit.cdf(0.0) == 0.0 and fit.sf(-1.0) == 1.0


def test_lognormal_estimator_recovers_the_sampled_distribution() -> None:
    rng = random.Random(5)
    truth = LogNormalFit.from_mean_sd(240.0, 160.0)
    est = LogNormalEstimator(LogNormalFit.from_mean_sd(30.0, 5.0), memory=5000)
    for _ in range(4000):
        est.add(rng.lognormvariate(truth.mu, truth.sigma))
    fit = est.fit()
    assert fit.samples == 4000
    assert fit.mean == pytest.approx(240.0, rel=0.05)
    assert fit.sigma == pytest.approx(truth.sigma, rel=0.05)


def test_lognormal_estimator_ignores_nonsense_and_follows_drift() -> None:
    est = LogNormalEstimator(LogNormalFit.from_mean_sd(10.0, 2.0), memory=50)
    for bad in (0.0, -3.0, float("nan"), float("inf")):
        est.add(bad)
    assert est.fit().samples == 0
    for _ in range(500):
        est.add(100.0)
    assert est.fit().mean == pytest.approx(100.0, rel=0.01)  # the prior is forgotten
    assert est.fit().sigma == LogNormalEstimator.MIN_SIGMA


def test_share_estimator_forgets_with_its_memory() -> None:
    est = ShareEstimator({"a": 1.0, "b": 1.0}, memory=100)
    for _ in range(1000):
        est.add("a")
    for _ in range(100):
        est.add("b")
    # after one memory's worth of "b", a's share decays to about (1 - 1/100)^100 ≈ 0.37
    assert est.share("a") == pytest.approx(0.366, abs=0.01)
    with pytest.raises(ValueError, match="unknown category 'c'"):
        est.add("c")


def test_call_stats_summarise_completed_calls() -> None:
    stats = CallStats()
    for _ in range(30):
        stats.record_dial_result(DialResult.LIVE, 8.0)
    for _ in range(10):
        stats.record_dial_result(DialResult.MACHINE, 12.0)
    for _ in range(10):
        stats.record_dial_result(DialResult.BUSY, 4.0)
    for _ in range(50):
        stats.record_dial_result(DialResult.NO_ANSWER, 25.0)
    for _ in range(20):
        stats.record_handle(100.0, 15.0)
    stats.record_amd_verdict(True)
    s = stats.summary()
    assert (s.attempts, s.answers, s.handles) == (100, 40, 20)
    assert s.p_live == pytest.approx(0.30, abs=1e-9)
    assert s.p_live + s.p_machine + s.p_fail + s.p_no_answer == pytest.approx(1.0)
    assert s.fail_time.samples == 10
    assert s.talk.mean == pytest.approx(100.0, rel=0.01)
    assert s.p_human_after_amd == pytest.approx(1.0, abs=1e-3)
