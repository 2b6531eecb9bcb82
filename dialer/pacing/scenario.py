"""Shift scenarios for the pacing simulator: parsed from JSON, validated, with clear errors.

The format is described in ``bench/scenarios/README.md`` (a copy of the shared pacing
README): agent groups, per-dial outcome probabilities (optionally changing by phase),
lognormal timings given by the mean and standard deviation of the lognormal itself.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from dialer.errors import DialerError

OUTCOME_KINDS = ("live", "machine", "busy", "congestion", "no_answer")


class ScenarioError(DialerError, ValueError):
    """A scenario file is unusable; the message names the file and the field."""


@dataclass(frozen=True, slots=True)
class LogNormal:
    """A lognormal distribution given by its own mean and standard deviation."""

    mean: float
    sd: float

    @property
    def mu(self) -> float:
        """Mean of the underlying normal."""
        return math.log(self.mean) - 0.5 * self.sigma**2

    @property
    def sigma(self) -> float:
        """Standard deviation of the underlying normal."""
        return math.sqrt(math.log1p((self.sd / self.mean) ** 2))


@dataclass(frozen=True, slots=True)
class AgentGroup:
    count: int
    login_s: float
    logout_s: float


@dataclass(frozen=True, slots=True)
class Outcomes:
    """Probabilities of each result of one dial attempt (they sum to 1)."""

    live: float
    machine: float
    busy: float
    congestion: float
    no_answer: float

    def cumulative(self) -> tuple[float, float, float, float]:
        """Upper bounds of live, machine, busy, congestion on [0, 1); the rest is no answer."""
        a = self.live
        b = a + self.machine
        c = b + self.busy
        d = c + self.congestion
        return (a, b, c, d)


@dataclass(frozen=True, slots=True)
class Phase:
    from_s: float
    outcomes: Outcomes


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    description: str
    seed: int
    duration_s: float
    agents: tuple[AgentGroup, ...]
    outcomes: Outcomes
    ring_to_answer_s: LogNormal
    ring_to_fail_s: LogNormal
    no_answer_timeout_s: float
    amd_detect_s: LogNormal
    talk_s: LogNormal
    wrap_s: LogNormal
    connect_window_s: float
    abandon_cap: float
    phases: tuple[Phase, ...] = ()
    # Share of answering machines AMD wrongly passes as humans (0 = perfect AMD)
    amd_miss_rate: float = 0.0
    # How long an agent stays on (then wraps up) a machine that AMD missed
    machine_talk_s: LogNormal = LogNormal(12.0, 6.0)
    machine_wrap_s: LogNormal = LogNormal(4.0, 2.0)

    def outcomes_at(self, t: float) -> Outcomes:
        """The outcome probabilities in force at second ``t`` of the shift."""
        current = self.outcomes
        for phase in self.phases:
            if t >= phase.from_s:
                current = phase.outcomes
        return current

    @property
    def total_agents(self) -> int:
        return sum(g.count for g in self.agents)

    def shortened(self, duration_s: float) -> Scenario:
        """The same scenario cut to its first ``duration_s`` seconds (logouts clipped)."""
        groups = tuple(
            AgentGroup(g.count, g.login_s, min(g.logout_s, duration_s))
            for g in self.agents
            if g.login_s < duration_s
        )
        return _replace(self, duration_s=duration_s, agents=groups)

    def with_amd_miss_rate(self, rate: float) -> Scenario:
        if not 0.0 <= rate < 1.0:
            raise ScenarioError(f"amd_miss_rate: must be in [0, 1), got {rate}")
        return _replace(self, amd_miss_rate=rate)


def _replace(s: Scenario, **changes: Any) -> Scenario:
    return replace(s, **changes)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate one scenario JSON file."""
    p = Path(path)
    try:
        raw = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(f"{p}: cannot read: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"{p}: not JSON: line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    try:
        return parse_scenario(raw)
    except ScenarioError as exc:
        raise ScenarioError(f"{p}: {exc}") from None


def parse_scenario(raw: Any) -> Scenario:
    """Validate a decoded scenario document; errors name the field (``agents[1].count``)."""
    if not isinstance(raw, dict):
        raise ScenarioError("the document must be a JSON object")
    r = _Reader(raw, "")
    duration = r.number("duration_s", positive=True)
    agents_raw = r.required("agents")
    if not isinstance(agents_raw, list) or not agents_raw:
        raise ScenarioError("agents: must be a non-empty list")
    groups = []
    for i, g in enumerate(agents_raw):
        gr = _Reader(g, f"agents[{i}].")
        count = gr.integer("count", minimum=1)
        login = gr.number("login_s", minimum=0.0)
        logout = gr.number("logout_s", minimum=0.0)
        if logout <= login:
            raise ScenarioError(f"agents[{i}].logout_s: must be after login_s ({login})")
        groups.append(AgentGroup(count, login, logout))
    phases = []
    phases_raw = raw.get("phases", [])
    if not isinstance(phases_raw, list):
        raise ScenarioError("phases: must be a list")
    for i, ph in enumerate(phases_raw):
        pr = _Reader(ph, f"phases[{i}].")
        phases.append(Phase(pr.number("from_s", minimum=0.0), _outcomes(pr, "outcomes")))
    if [p.from_s for p in phases] != sorted(p.from_s for p in phases):
        raise ScenarioError("phases: must be in increasing from_s order")
    window = r.number("connect_window_s", positive=True)
    cap = r.number("abandon_cap", positive=True)
    if cap >= 1.0:
        raise ScenarioError(f"abandon_cap: must be below 1, got {cap}")
    miss = float(raw.get("amd_miss_rate", 0.0))
    if not 0.0 <= miss < 1.0:
        raise ScenarioError(f"amd_miss_rate: must be in [0, 1), got {miss}")
    seed = r.required("seed")
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ScenarioError(f"seed: must be an integer, got {seed!r}")
    extra: dict[str, Any] = {}
    if "machine_talk_s" in raw:
        extra["machine_talk_s"] = r.lognormal("machine_talk_s")
    if "machine_wrap_s" in raw:
        extra["machine_wrap_s"] = r.lognormal("machine_wrap_s")
    return Scenario(
        name=str(r.required("name")),
        description=str(raw.get("description", "")),
        seed=seed,
        duration_s=duration,
        agents=tuple(groups),
        outcomes=_outcomes(r, "outcomes"),
        ring_to_answer_s=r.lognormal("ring_to_answer_s"),
        ring_to_fail_s=r.lognormal("ring_to_fail_s"),
        no_answer_timeout_s=r.number("no_answer_timeout_s", positive=True),
        amd_detect_s=r.lognormal("amd_detect_s"),
        talk_s=r.lognormal("talk_s"),
        wrap_s=r.lognormal("wrap_s"),
        connect_window_s=window,
        abandon_cap=cap,
        phases=tuple(phases),
        amd_miss_rate=miss,
        **extra,
    )


def _outcomes(r: _Reader, key: str) -> Outcomes:
    sub = _Reader(r.required(key), f"{r.prefix}{key}.")
    if not isinstance(sub.raw, dict):
        raise ScenarioError(f"{r.prefix}{key}: must be an object")
    unknown = set(sub.raw) - set(OUTCOME_KINDS)
    if unknown:
        raise ScenarioError(f"{r.prefix}{key}: unknown outcome(s) {sorted(unknown)}; known: {list(OUTCOME_KINDS)}")
    values = {k: sub.number(k, minimum=0.0) if k in sub.raw else 0.0 for k in OUTCOME_KINDS}
    total = sum(values.values())
    if abs(total - 1.0) > 1e-6:
        raise ScenarioError(f"{r.prefix}{key}: probabilities must sum to 1, they sum to {total:.6f}")
    return Outcomes(**values)


class _Reader:
    """Typed access to one JSON object, with field paths in the error messages."""

    def __init__(self, raw: Any, prefix: str) -> None:
        self.raw = raw
        self.prefix = prefix

    def required(self, key: str) -> Any:
        if not isinstance(self.raw, dict):
            raise ScenarioError(f"{self.prefix.rstrip('.')}: must be an object")
        if key not in self.raw:
            raise ScenarioError(f"{self.prefix}{key}: missing")
        return self.raw[key]

    def number(self, key: str, *, positive: bool = False, minimum: float | None = None) -> float:
        v = self.required(key)
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise ScenarioError(f"{self.prefix}{key}: must be a number, got {v!r}")
        if positive and v <= 0:
            raise ScenarioError(f"{self.prefix}{key}: must be > 0, got {v}")
        if minimum is not None and v < minimum:
            raise ScenarioError(f"{self.prefix}{key}: must be >= {minimum}, got {v}")
        return float(v)

    def integer(self, key: str, *, minimum: int) -> int:
        v = self.required(key)
        if isinstance(v, bool) or not isinstance(v, int):
            raise ScenarioError(f"{self.prefix}{key}: must be an integer, got {v!r}")
        if v < minimum:
            raise ScenarioError(f"{self.prefix}{key}: must be >= {minimum}, got {v}")
        return v

    def lognormal(self, key: str) -> LogNormal:
        sub = _Reader(self.required(key), f"{self.prefix}{key}.")
        if not isinstance(sub.raw, dict):
            raise ScenarioError(f"{self.prefix}{key}: must be an object")
        dist = sub.required("dist")
        if dist != "lognormal":
            raise ScenarioError(f"{self.prefix}{key}.dist: only 'lognormal' is supported, got {dist!r}")
        return LogNormal(sub.number("mean", positive=True), sub.number("sd", positive=True))
