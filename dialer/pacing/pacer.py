"""The campaign pacer: given a snapshot of agents, calls and statistics, how many calls to launch now.

Pure: no clock, no I/O. The live dialer builds a :class:`PacingSnapshot` on every
pacing tick and launches ``decide(snapshot).calls`` calls; the shift simulator does
the same on a virtual clock.

Predictive mode, in order:

1. warm-up: progressive until the statistics are meaningful;
2. kill-switch: progressive while the last 15 minutes run far above the cap;
3. the model (:mod:`dialer.pacing.model`) adds calls beyond progressive one at a time
   while each one's chance of being an abandoned person, per chance of being a person,
   stays under a threshold ``alpha``, and their sum stays inside the abandon budget left
   (live answers × cap − abandons, over 30 days);
4. ``alpha`` follows an integral controller on today's measured abandons against a
   target below the cap, so the day's rate settles under the cap whatever the team size.

Never fewer calls than progressive, never negative, never beyond the supervisor's
maximum dial level × logged-in agents.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum

from dialer.pacing.abandons import AbandonCounts
from dialer.pacing.model import AvailabilityModel
from dialer.pacing.stats import StatsSummary


class PacingMode(str, Enum):
    MANUAL = "manual"
    PREVIEW = "preview"
    PROGRESSIVE = "progressive"
    PREDICTIVE = "predictive"


class PacingState(str, Enum):
    """Why the pacer launched what it did (shown on the wallboard)."""

    OFF = "off"  # manual or preview: agents dial
    PROGRESSIVE = "progressive"
    WARM_UP = "warm_up"  # predictive, but statistics not yet meaningful
    KILL_SWITCH = "kill_switch"  # predictive, fallen back: last 15 min ran over
    NO_BUDGET = "no_budget"  # predictive, but the abandon budget is spent
    PREDICTIVE = "predictive"


@dataclass(frozen=True, slots=True)
class PacingSnapshot:
    """Everything the pacer looks at, at one instant, for one campaign."""

    agents_ready: int
    talk_elapsed_s: tuple[float, ...]  # one entry per agent in a call: seconds talking
    wrap_elapsed_s: tuple[float, ...]  # one entry per agent in wrap-up: seconds in wrap-up
    ringing_elapsed_s: tuple[float, ...]  # one entry per call not yet answered: seconds since dialled
    stats: StatsSummary
    abandons: AbandonCounts
    in_amd: int = 0  # answered, AMD still listening
    answered_waiting: int = 0  # answered by a person, waiting for an agent
    dialing_for_s: float = 0.0  # how long the campaign has been dialing today (warm-up)

    def __post_init__(self) -> None:
        for name in ("agents_ready", "in_amd", "answered_waiting"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}: must be >= 0, got {getattr(self, name)}")

    @property
    def agents_logged_in(self) -> int:
        return self.agents_ready + len(self.talk_elapsed_s) + len(self.wrap_elapsed_s)

    @property
    def calls_in_progress(self) -> int:
        """Calls launched and not yet with an agent or over: ringing, in AMD, waiting."""
        return len(self.ringing_elapsed_s) + self.in_amd + self.answered_waiting


@dataclass(frozen=True, slots=True)
class PacingConfig:
    """Per-campaign pacing settings; the supervisor changes them live (SPEC §8)."""

    mode: PacingMode = PacingMode.PREDICTIVE
    # Most lines (ringing, in AMD, waiting) per logged-in agent
    max_dial_level: float = 6.0
    # Today's abandon rate the controller aims at, as a share of the cap (margin for noise)
    target_share_of_cap: float = 0.75
    ring_timeout_s: float = 25.0
    connect_window_s: float = 2.0
    warmup_min_s: float = 600.0
    warmup_min_answers: int = 30
    warmup_min_handles: int = 20
    # Kill-switch: back to progressive when the last 15 minutes have at least this many
    # abandons and run above kill_ratio × cap; resume once they are back under the cap
    kill_ratio: float = 2.0
    kill_min_abandons: int = 3
    # The predictive threshold: a new call's chance of being abandoned, per live answer
    alpha_start: float = 0.03
    alpha_min: float = 0.005
    alpha_max: float = 0.6
    # How strongly one abandon above (or below) target moves alpha (log scale)
    alpha_gain: float = 0.5
    # Abandon budget that may be spent ahead of the live answers the next minutes will bring
    borrow_window_s: float = 900.0

    def __post_init__(self) -> None:
        if not self.max_dial_level >= 1.0:
            raise ValueError(f"max_dial_level: must be >= 1.0, got {self.max_dial_level}")
        if not 0.0 < self.target_share_of_cap <= 1.0:
            raise ValueError(f"target_share_of_cap: must be in (0, 1], got {self.target_share_of_cap}")
        if not 0.0 < self.alpha_min <= self.alpha_start <= self.alpha_max:
            raise ValueError("alpha: need 0 < alpha_min <= alpha_start <= alpha_max")
        if self.ring_timeout_s <= 0 or self.connect_window_s <= 0:
            raise ValueError("ring_timeout_s and connect_window_s: must be > 0")


@dataclass(frozen=True, slots=True)
class PacingDecision:
    calls: int
    state: PacingState
    alpha: float = 0.0
    expected_abandons: float = 0.0  # from calls already in flight plus the new ones


@dataclass(slots=True)
class Pacer:
    """One campaign's pacer. Holds only the kill-switch latch and the model tables."""

    config: PacingConfig = field(default_factory=PacingConfig)
    _killed: bool = False
    _model: AvailabilityModel | None = None

    def reconfigure(self, config: PacingConfig) -> None:
        """Apply the supervisor's new settings from the next decision on."""
        self.config = config

    def decide(self, snap: PacingSnapshot) -> PacingDecision:
        cfg = self.config
        if cfg.mode in (PacingMode.MANUAL, PacingMode.PREVIEW):
            return PacingDecision(0, PacingState.OFF)
        in_progress = snap.calls_in_progress
        ceiling = max(0, math.floor(cfg.max_dial_level * snap.agents_logged_in + 1e-9) - in_progress)
        progressive = min(max(0, snap.agents_ready - in_progress), ceiling)
        if cfg.mode is PacingMode.PROGRESSIVE:
            return PacingDecision(progressive, PacingState.PROGRESSIVE)
        if self._kill_switch(snap.abandons):
            return PacingDecision(progressive, PacingState.KILL_SWITCH)
        if not self._warmed_up(snap):
            return PacingDecision(progressive, PacingState.WARM_UP)
        alpha = self.alpha(snap.abandons)
        model = self._model_for(snap.stats)
        outlook = model.outlook(
            agents_ready=snap.agents_ready,
            talk_elapsed_s=snap.talk_elapsed_s,
            wrap_elapsed_s=snap.wrap_elapsed_s,
            ringing_elapsed_s=snap.ringing_elapsed_s,
            in_amd=snap.in_amd,
            answered_waiting=snap.answered_waiting,
        )
        committed = outlook.expected_drops(0)
        allowance = self._budget(snap) - committed
        if allowance <= 0.0:
            return PacingDecision(progressive, PacingState.NO_BUDGET, alpha, committed)
        threshold = alpha * outlook.new_call_live
        k = progressive
        spent = 0.0
        while k < ceiling:
            risk = outlook.drop_chance(k)
            if risk > threshold or spent + risk > allowance:
                break
            spent += risk
            k += 1
        return PacingDecision(k, PacingState.PREDICTIVE, alpha, committed + spent)

    def alpha(self, counts: AbandonCounts) -> float:
        """The threshold for today's counts: lower after abandons, higher after clean answers."""
        cfg = self.config
        target = counts.cap * cfg.target_share_of_cap
        surplus = target * counts.live_today - counts.abandons_today
        a = cfg.alpha_start * math.exp(cfg.alpha_gain * surplus)
        return min(cfg.alpha_max, max(cfg.alpha_min, a))

    def _budget(self, snap: PacingSnapshot) -> float:
        """Abandons the 30-day cap still allows, counting live answers the next minutes will bring."""
        cfg = self.config
        st = snap.stats
        handle = st.talk.mean + st.wrap.mean
        upcoming = snap.agents_logged_in * cfg.borrow_window_s / handle if handle > 0 else 0.0
        return snap.abandons.budget_30d + snap.abandons.cap * upcoming

    def _kill_switch(self, counts: AbandonCounts) -> bool:
        cfg = self.config
        if self._killed:
            self._killed = counts.abandons_15min > 0 and counts.rate_15min > counts.cap
        else:
            self._killed = (
                counts.abandons_15min >= cfg.kill_min_abandons
                and counts.rate_15min > cfg.kill_ratio * counts.cap
            )
        return self._killed

    def _warmed_up(self, snap: PacingSnapshot) -> bool:
        cfg = self.config
        return (
            snap.dialing_for_s >= cfg.warmup_min_s
            and snap.stats.answers >= cfg.warmup_min_answers
            and snap.stats.handles >= cfg.warmup_min_handles
        )

    def _model_for(self, stats: StatsSummary) -> AvailabilityModel:
        cfg = self.config
        m = self._model
        if m is None or not m.matches(stats, cfg.ring_timeout_s, cfg.connect_window_s):
            m = AvailabilityModel(stats, ring_timeout_s=cfg.ring_timeout_s, connect_window_s=cfg.connect_window_s)
            self._model = m
        return m
