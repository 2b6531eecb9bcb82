"""Online estimators the pacer reads, fed one completed call at a time.

Every estimator forgets: a sample weighs ``1 / min(n, memory)``, so the first samples
average plainly and later ones follow drift (an answer rate that falls after lunch).
Durations are fitted as lognormals from the moments of their logarithms, which is the
maximum-likelihood fit and matches the talk-time shape found in call-center data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum


class DialResult(str, Enum):
    """How one dial attempt ended, as the dialer sees it."""

    LIVE = "live"  # answered by a person (AMD verdict "human", or no AMD)
    MACHINE = "machine"  # AMD verdict "machine"
    BUSY = "busy"
    CONGESTION = "congestion"
    NO_ANSWER = "no_answer"  # rang until the ring timeout


@dataclass(frozen=True, slots=True)
class LogNormalFit:
    """A fitted lognormal: parameters of the underlying normal and how many samples fed it."""

    mu: float
    sigma: float
    samples: int

    @property
    def mean(self) -> float:
        return math.exp(self.mu + 0.5 * self.sigma**2)

    @classmethod
    def from_mean_sd(cls, mean: float, sd: float, samples: int = 0) -> LogNormalFit:
        """A fit from the lognormal's own mean and standard deviation (used for priors)."""
        sigma2 = math.log1p((sd / mean) ** 2)
        return cls(math.log(mean) - 0.5 * sigma2, math.sqrt(sigma2), samples)

    def cdf(self, x: float) -> float:
        if x <= 0.0:
            return 0.0
        return 0.5 * math.erfc(-(math.log(x) - self.mu) / (self.sigma * math.sqrt(2.0)))

    def sf(self, x: float) -> float:
        """Survival function 1 − cdf, computed without cancellation in the far tail."""
        if x <= 0.0:
            return 1.0
        return 0.5 * math.erfc((math.log(x) - self.mu) / (self.sigma * math.sqrt(2.0)))

    def quantile(self, p: float) -> float:
        from statistics import NormalDist

        return math.exp(self.mu + self.sigma * NormalDist().inv_cdf(p))


class LogNormalEstimator:
    """Running lognormal fit with forgetting, starting from a prior."""

    # A spread below this would make the model believe durations are exact
    MIN_SIGMA = 0.05

    def __init__(self, prior: LogNormalFit, memory: int) -> None:
        if memory < 1:
            raise ValueError(f"memory: must be >= 1, got {memory}")
        self._memory = memory
        self._n = 0
        self._m1 = prior.mu
        self._m2 = prior.sigma**2 + prior.mu**2

    def add(self, value: float) -> None:
        """Feed one observed duration in seconds (non-positive values are ignored)."""
        if not value > 0.0 or not math.isfinite(value):
            return
        self._n += 1
        w = 1.0 / min(self._n, self._memory)
        x = math.log(value)
        self._m1 += w * (x - self._m1)
        self._m2 += w * (x * x - self._m2)

    def fit(self) -> LogNormalFit:
        var = max(self._m2 - self._m1 * self._m1, self.MIN_SIGMA**2)
        return LogNormalFit(self._m1, math.sqrt(var), self._n)


class ShareEstimator:
    """Running shares of a fixed set of categories, with forgetting, from a prior."""

    def __init__(self, prior: dict[str, float], memory: int) -> None:
        total = sum(prior.values())
        if total <= 0:
            raise ValueError("prior: shares must add up to more than 0")
        self._memory = memory
        self._n = 0
        self._shares = {k: v / total for k, v in prior.items()}

    def add(self, category: str) -> None:
        if category not in self._shares:
            raise ValueError(f"unknown category {category!r}; known: {sorted(self._shares)}")
        self._n += 1
        w = 1.0 / min(self._n, self._memory)
        for k in self._shares:
            self._shares[k] += w * ((1.0 if k == category else 0.0) - self._shares[k])

    @property
    def samples(self) -> int:
        return self._n

    def share(self, category: str) -> float:
        return self._shares[category]


@dataclass(frozen=True, slots=True)
class StatsSummary:
    """What the pacer needs to know about recent calls, frozen at one instant."""

    p_live: float  # share of dial attempts answered by a person
    p_machine: float
    p_fail: float  # busy + congestion
    p_no_answer: float
    p_human_after_amd: float  # share of AMD verdicts "human" (calls still in AMD)
    answer_time: LogNormalFit  # dial → answer (live or machine)
    fail_time: LogNormalFit  # dial → busy/congestion
    talk: LogNormalFit
    wrap: LogNormalFit
    attempts: int  # dial results seen (all outcomes)
    answers: int  # live + machine answers seen

    @property
    def handles(self) -> int:
        """Completed agent handles (talk + wrap) seen."""
        return min(self.talk.samples, self.wrap.samples)


@dataclass(frozen=True, slots=True)
class StatsPriors:
    """Where the estimators start before any call completes (a typical collections list)."""

    p_live: float = 0.2
    p_machine: float = 0.1
    p_fail: float = 0.08
    p_no_answer: float = 0.62
    answer_time: LogNormalFit = LogNormalFit.from_mean_sd(9.0, 5.0)
    fail_time: LogNormalFit = LogNormalFit.from_mean_sd(5.0, 3.0)
    talk: LogNormalFit = LogNormalFit.from_mean_sd(180.0, 120.0)
    wrap: LogNormalFit = LogNormalFit.from_mean_sd(20.0, 10.0)


class CallStats:
    """Per-campaign online statistics, fed by completed calls (SPEC §2: dialer/pacing ← stats)."""

    def __init__(
        self,
        priors: StatsPriors | None = None,
        *,
        outcome_memory: int = 400,
        duration_memory: int = 300,
    ) -> None:
        p = priors or StatsPriors()
        self._outcomes = ShareEstimator(
            {
                DialResult.LIVE.value: p.p_live,
                DialResult.MACHINE.value: p.p_machine,
                "fail": p.p_fail,
                DialResult.NO_ANSWER.value: p.p_no_answer,
            },
            outcome_memory,
        )
        self._amd = ShareEstimator({"human": 0.0001, "machine": 0.9999}, outcome_memory)
        self._answer = LogNormalEstimator(p.answer_time, duration_memory)
        self._fail = LogNormalEstimator(p.fail_time, duration_memory)
        self._talk = LogNormalEstimator(p.talk, duration_memory)
        self._wrap = LogNormalEstimator(p.wrap, duration_memory)

    def record_dial_result(self, result: DialResult, seconds_to_result: float) -> None:
        """One attempt resolved: answered (and classified), failed, or rang out."""
        if result in (DialResult.BUSY, DialResult.CONGESTION):
            self._outcomes.add("fail")
            self._fail.add(seconds_to_result)
            return
        self._outcomes.add(result.value)
        if result in (DialResult.LIVE, DialResult.MACHINE):
            self._answer.add(seconds_to_result)

    def record_amd_verdict(self, human: bool) -> None:
        """AMD finished on an answered call (only calls that went through AMD)."""
        self._amd.add("human" if human else "machine")

    def record_handle(self, talk_s: float, wrap_s: float) -> None:
        """An agent finished a call: its talk and wrap-up durations."""
        self._talk.add(talk_s)
        self._wrap.add(wrap_s)

    def summary(self) -> StatsSummary:
        o = self._outcomes
        answer = self._answer.fit()
        return StatsSummary(
            p_live=o.share(DialResult.LIVE.value),
            p_machine=o.share(DialResult.MACHINE.value),
            p_fail=o.share("fail"),
            p_no_answer=o.share(DialResult.NO_ANSWER.value),
            p_human_after_amd=self._amd.share("human"),
            answer_time=answer,
            fail_time=self._fail.fit(),
            talk=self._talk.fit(),
            wrap=self._wrap.fit(),
            attempts=o.samples,
            answers=answer.samples,
        )
