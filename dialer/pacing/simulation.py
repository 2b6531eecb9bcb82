"""A discrete-event shift simulator on a virtual clock: the pacer's proving ground.

Events sit in a heap ordered by (time, sequence), so a run is a pure function of the
scenario, the algorithm and the seed. Every algorithm is asked once per simulated
second how many calls to launch. The n-th call placed is the same customer whatever
the algorithm (common random numbers): its outcome, ring, talk and wrap-up times are
drawn from a stream that only the call's rank decides, so algorithms are compared on
the same list.

Ground truth and the dialer's view are kept apart: a machine that AMD misses is a
"person" to the dialer (it counts in its live answers and, if nobody takes it in time,
in its abandons) but not to the regulator's figures.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol

from dialer.pacing.abandons import AbandonLedger
from dialer.pacing.pacer import Pacer, PacingConfig, PacingSnapshot
from dialer.pacing.scenario import LogNormal, Scenario
from dialer.pacing.stats import CallStats, DialResult

WINDOW_15MIN_S = 900.0

# Event kinds, in the order they are handled when two fall on the same instant
_LOGIN, _LOGOUT, _RESULT, _AMD, _EXPIRE, _TALK_END, _WRAP_END = range(7)


@dataclass(slots=True)
class _Call:
    id: int
    dialled_at: float
    kind: str  # live, machine, busy, congestion, no_answer
    ring_s: float
    amd_s: float
    amd_missed: bool
    talk_s: float
    wrap_s: float
    answered_at: float = -1.0
    queued_at: float = -1.0
    state: str = "ringing"  # ringing, amd, waiting, connected, done


@dataclass(slots=True)
class _Agent:
    id: int
    logout_at: float
    state: str = "out"  # out, ready, talk, wrap
    since: float = 0.0
    logged_in_at: float = 0.0
    leaving: bool = False


class SimView:
    """What a pacing algorithm may look at on a tick (the dialer's view, no ground truth)."""

    __slots__ = ("_sim", "now")

    def __init__(self, sim: ShiftSimulation, now: float) -> None:
        self._sim = sim
        self.now = now

    @property
    def ready(self) -> int:
        return len(self._sim.idle)

    @property
    def talking(self) -> int:
        return self._sim.n_talk

    @property
    def wrapping(self) -> int:
        return self._sim.n_wrap

    @property
    def logged_in(self) -> int:
        return len(self._sim.idle) + self._sim.n_talk + self._sim.n_wrap

    @property
    def ringing(self) -> int:
        return len(self._sim.ringing)

    @property
    def in_amd(self) -> int:
        return self._sim.n_amd

    @property
    def waiting(self) -> int:
        return len(self._sim.queue)

    @property
    def in_progress(self) -> int:
        """Ringing, in AMD or answered and waiting: calls the baselines subtract."""
        return len(self._sim.ringing) + self._sim.n_amd + len(self._sim.queue)

    def talk_elapsed(self) -> tuple[float, ...]:
        now = self.now
        return tuple(now - a.since for a in self._sim.agents if a.state == "talk")

    def wrap_elapsed(self) -> tuple[float, ...]:
        now = self.now
        return tuple(now - a.since for a in self._sim.agents if a.state == "wrap")

    def ringing_elapsed(self) -> tuple[float, ...]:
        now = self.now
        return tuple(now - c.dialled_at for c in self._sim.ringing.values())


class Algorithm(Protocol):
    """A pacing algorithm under test: told about calls as the dialer would be, asked each tick."""

    name: str

    def calls_to_place(self, view: SimView) -> int: ...

    def on_dial_result(self, now: float, result: DialResult, seconds_to_result: float) -> None: ...

    def on_amd_verdict(self, now: float, human: bool) -> None: ...

    def on_live_answer(self, now: float) -> None: ...

    def on_abandon(self, now: float) -> None: ...

    def on_handle_done(self, now: float, talk_s: float, wrap_s: float) -> None: ...


class _Quiet:
    """Default no-op notifications for algorithms that only look at the tick's view."""

    def on_dial_result(self, now: float, result: DialResult, seconds_to_result: float) -> None:
        pass

    def on_amd_verdict(self, now: float, human: bool) -> None:
        pass

    def on_live_answer(self, now: float) -> None:
        pass

    def on_abandon(self, now: float) -> None:
        pass

    def on_handle_done(self, now: float, talk_s: float, wrap_s: float) -> None:
        pass


class Progressive(_Quiet):
    """One call per ready agent: ready − calls in progress."""

    name = "progressive"

    def calls_to_place(self, view: SimView) -> int:
        return view.ready - view.in_progress


class FixedRatio(_Quiet):
    """⌊R × ready⌋ − calls in progress."""

    def __init__(self, ratio: float) -> None:
        if ratio < 1.0:
            raise ValueError(f"fixed ratio: must be >= 1.0, got {ratio}")
        self.ratio = ratio
        self.name = f"fixed-{ratio:.1f}"

    def calls_to_place(self, view: SimView) -> int:
        return math.floor(self.ratio * view.ready + 1e-9) - view.in_progress


class VicidialAdaptTapered:
    """VICIdial's ADAPT_TAPERED, from ``reference/vicidial-adapt.md`` (not from its code).

    Lines = round(level × (ready + talking)) − (ringing + in AMD + waiting + talking): the
    connected calls count among the lines, as in VICIdial's auto-dial loop, so level 1.0 is
    progressive. The level adapts every 15 s from 1 s samples and is braked by the drop
    rate since the shift began, tapering towards the end of the shift.
    """

    name = "vicidial-adapt-tapered"

    def __init__(self, *, shift_end_s: float, drop_cap: float, max_level: float = 3.0) -> None:
        self.shift_end_s = shift_end_s
        self.drop_cap = drop_cap
        self.max_level = max_level
        self.level = 1.0
        self._samples: deque[tuple[int, int, int]] = deque(maxlen=15)
        self._ticks = 0
        self._calls_today = 0
        self._answers_today = 0
        self._drops_today = 0
        self._recent: deque[tuple[float, str]] = deque()  # (t, "call" | "answer" | "drop") last 60 s

    def calls_to_place(self, view: SimView) -> int:
        now = view.now
        self._samples.append((view.logged_in, view.ready, view.waiting))
        self._ticks += 1
        if self._ticks % 15 == 0:
            self._adapt(now)
        goal = math.floor(self.level * (view.ready + view.talking) + 0.5)
        n = goal - (view.in_progress + view.talking)
        for _ in range(max(0, n)):
            self._calls_today += 1
            self._recent.append((now, "call"))
        return n

    def _adapt(self, now: float) -> None:
        n = len(self._samples)
        a = sum(s[0] for s in self._samples) / n
        r = sum(s[1] for s in self._samples) / n
        w = sum(s[2] for s in self._samples) / n
        differential = r - w
        m = differential / a if a and differential else 0.0
        level = self.level * (1.0 + m)
        level = max(1.0, min(self.max_level, level))
        recent = self._recent
        while recent and recent[0][0] <= now - 60.0:
            recent.popleft()
        calls_1m = sum(1 for _, k in recent if k == "call")
        answers_1m = sum(1 for _, k in recent if k == "answer")
        drops_1m = sum(1 for _, k in recent if k == "drop")
        if calls_1m > 20 and answers_1m and drops_1m / answers_1m > 0.5:
            level /= 2.0
        if self._calls_today > 50 and self._answers_today and self._drops_today / self._answers_today > self.drop_cap:
            hours_left = (self.shift_end_s - now) / 3600.0
            level = 1.0 if hours_left < 0 else level * min(1.0, hours_left / 10.0)
        self.level = max(1.0, level)

    def on_dial_result(self, now: float, result: DialResult, seconds_to_result: float) -> None:
        pass

    def on_amd_verdict(self, now: float, human: bool) -> None:
        pass

    def on_live_answer(self, now: float) -> None:
        self._answers_today += 1
        self._recent.append((now, "answer"))

    def on_abandon(self, now: float) -> None:
        self._drops_today += 1
        self._recent.append((now, "drop"))

    def on_handle_done(self, now: float, talk_s: float, wrap_s: float) -> None:
        pass


class CobraPacing:
    """The production pacer, fed the snapshot and the statistics it gets in production."""

    name = "cobra"

    def __init__(self, config: PacingConfig, cap: float) -> None:
        self.pacer = Pacer(config)
        self.stats = CallStats()
        self.ledger = AbandonLedger(cap)
        self.states: dict[str, int] = {}

    def calls_to_place(self, view: SimView) -> int:
        now = view.now
        snap = PacingSnapshot(
            agents_ready=view.ready,
            talk_elapsed_s=view.talk_elapsed(),
            wrap_elapsed_s=view.wrap_elapsed(),
            ringing_elapsed_s=view.ringing_elapsed(),
            stats=self.stats.summary(),
            abandons=self.ledger.counts(now),
            in_amd=view.in_amd,
            answered_waiting=view.waiting,
            dialing_for_s=now,
        )
        decision = self.pacer.decide(snap)
        self.states[decision.state.value] = self.states.get(decision.state.value, 0) + 1
        return decision.calls

    def on_dial_result(self, now: float, result: DialResult, seconds_to_result: float) -> None:
        self.stats.record_dial_result(result, seconds_to_result)

    def on_amd_verdict(self, now: float, human: bool) -> None:
        self.stats.record_amd_verdict(human)

    def on_live_answer(self, now: float) -> None:
        self.ledger.record_live_answer(now)

    def on_abandon(self, now: float) -> None:
        self.ledger.record_abandon(now)

    def on_handle_done(self, now: float, talk_s: float, wrap_s: float) -> None:
        self.stats.record_handle(talk_s, wrap_s)


ALGORITHMS = ("cobra", "progressive", "fixed-2.0", "vicidial-adapt-tapered")


def make_algorithm(name: str, scenario: Scenario, pacing: PacingConfig | None = None) -> Algorithm:
    """Build an algorithm by its benchmark name (``fixed-R`` takes any ratio R >= 1)."""
    if name == "cobra":
        cfg = pacing or PacingConfig(
            ring_timeout_s=scenario.no_answer_timeout_s, connect_window_s=scenario.connect_window_s
        )
        return CobraPacing(cfg, scenario.abandon_cap)
    if name == "progressive":
        return Progressive()
    if name.startswith("fixed-"):
        try:
            ratio = float(name[len("fixed-") :])
        except ValueError:
            raise ValueError(f"algorithm {name!r}: fixed-R needs a number R, e.g. fixed-2.0") from None
        return FixedRatio(ratio)
    if name == "vicidial-adapt-tapered":
        return VicidialAdaptTapered(shift_end_s=scenario.duration_s, drop_cap=scenario.abandon_cap)
    raise ValueError(f"unknown algorithm {name!r}; known: {', '.join(ALGORITHMS)} (or fixed-R)")


@dataclass(frozen=True, slots=True)
class ShiftResult:
    """One algorithm's figures over one simulated shift."""

    scenario: str
    algorithm: str
    seed: int
    occupancy: float  # (talk + wrap) ÷ logged-in time
    abandon_rate: float  # true: abandoned persons ÷ persons who answered
    measured_abandon_rate: float  # what the dialer sees (AMD misses count as persons)
    max_abandon_rate_15min: float  # worst fixed 15-minute window, true
    connects_per_agent_hour: float  # persons connected to an agent per logged-in hour
    agent_wait_p50_s: float  # agent ready → next connect
    agent_wait_p95_s: float
    calls_placed: int
    live_answers: int
    abandoned: int
    amd_misses: int

    def as_dict(self) -> dict[str, object]:
        return {
            "scenario": self.scenario,
            "algorithm": self.algorithm,
            "seed": self.seed,
            "occupancy": round(self.occupancy, 4),
            "abandon_rate": round(self.abandon_rate, 4),
            "measured_abandon_rate": round(self.measured_abandon_rate, 4),
            "max_abandon_rate_15min": round(self.max_abandon_rate_15min, 4),
            "connects_per_agent_hour": round(self.connects_per_agent_hour, 2),
            "agent_wait_p50_s": round(self.agent_wait_p50_s, 1),
            "agent_wait_p95_s": round(self.agent_wait_p95_s, 1),
            "calls_placed": self.calls_placed,
            "live_answers": self.live_answers,
            "abandoned": self.abandoned,
            "amd_misses": self.amd_misses,
        }


class _Draws:
    """Per-call random draws that depend only on the seed and the call's rank."""

    def __init__(self, scenario: Scenario, seed: int) -> None:
        self._rng = random.Random(seed)
        s = scenario
        self._ring = _params(s.ring_to_answer_s)
        self._fail = _params(s.ring_to_fail_s)
        self._amd = _params(s.amd_detect_s)
        self._talk = _params(s.talk_s)
        self._wrap = _params(s.wrap_s)
        self._mtalk = _params(s.machine_talk_s)
        self._mwrap = _params(s.machine_wrap_s)

    def next(self) -> tuple[float, float, float, float, float, float, float, float, float]:
        """u for the outcome, answer time, fail time, AMD time, u for an AMD miss, talk, wrap, machine talk/wrap."""
        r = self._rng
        u = r.random()
        g = r.gauss
        answer = math.exp(self._ring[0] + self._ring[1] * g(0.0, 1.0))
        fail = math.exp(self._fail[0] + self._fail[1] * g(0.0, 1.0))
        amd = math.exp(self._amd[0] + self._amd[1] * g(0.0, 1.0))
        miss = r.random()
        talk = math.exp(self._talk[0] + self._talk[1] * g(0.0, 1.0))
        wrap = math.exp(self._wrap[0] + self._wrap[1] * g(0.0, 1.0))
        mtalk = math.exp(self._mtalk[0] + self._mtalk[1] * g(0.0, 1.0))
        mwrap = math.exp(self._mwrap[0] + self._mwrap[1] * g(0.0, 1.0))
        return u, answer, fail, amd, miss, talk, wrap, mtalk, mwrap


def _params(d: LogNormal) -> tuple[float, float]:
    return d.mu, d.sigma


def _percentile(sorted_values: list[float], q: float) -> float:
    """Linear-interpolated percentile of an already sorted list (0 for an empty one)."""
    if not sorted_values:
        return 0.0
    pos = q * (len(sorted_values) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


@dataclass
class ShiftSimulation:
    """One shift of one scenario under one algorithm."""

    scenario: Scenario
    algorithm: Algorithm
    seed: int
    agents: list[_Agent] = field(default_factory=list)
    idle: deque[_Agent] = field(default_factory=deque)
    ringing: dict[int, _Call] = field(default_factory=dict)
    queue: deque[_Call] = field(default_factory=deque)
    n_talk: int = 0
    n_wrap: int = 0
    n_amd: int = 0

    def run(self) -> ShiftResult:
        s = self.scenario
        algo = self.algorithm
        end = s.duration_s
        draws = _Draws(s, self.seed)
        heap: list[tuple[float, int, int, object]] = []
        seq = 0

        def push(t: float, kind: int, obj: object) -> None:
            nonlocal seq
            seq += 1
            heapq.heappush(heap, (t, kind, seq, obj))

        for group in s.agents:
            for _ in range(group.count):
                agent = _Agent(len(self.agents), group.logout_s)
                self.agents.append(agent)
                push(group.login_s, _LOGIN, agent)
                push(group.logout_s, _LOGOUT, agent)

        busy_s = 0.0
        logged_s = 0.0
        waits: list[float] = []
        live = abandoned = measured_live = measured_abandoned = connects = placed = misses = 0
        buckets = math.ceil(end / WINDOW_15MIN_S)
        live_by_window = [0] * buckets
        abandons_by_window = [0] * buckets
        timeout = s.no_answer_timeout_s
        window = s.connect_window_s
        next_id = 0

        def connect(call: _Call, agent: _Agent, now: float) -> None:
            nonlocal connects, busy_s
            waits.append(now - agent.since)
            agent.state = "talk"
            agent.since = now
            self.n_talk += 1
            call.state = "connected"
            if call.kind == "live":
                connects += 1
            # for an AMD miss, talk_s holds the time the agent spends on the machine
            push(now + call.talk_s, _TALK_END, (agent, call))

        def offer(call: _Call, now: float) -> None:
            """A call the dialer believes is a person: to an agent now, or into the queue."""
            nonlocal measured_live, live
            measured_live += 1
            algo.on_live_answer(now)
            if call.kind == "live":
                live += 1
                live_by_window[min(int(now // WINDOW_15MIN_S), buckets - 1)] += 1
            if self.idle:
                connect(call, self.idle.popleft(), now)
            else:
                call.state = "waiting"
                call.queued_at = now
                self.queue.append(call)
                push(now + window, _EXPIRE, call)

        def agent_ready(agent: _Agent, now: float) -> None:
            if agent.leaving:
                log_out(agent, now)
                return
            agent.state = "ready"
            agent.since = now
            while self.queue:
                call = self.queue.popleft()
                if call.state == "waiting":
                    connect(call, agent, now)
                    return
            self.idle.append(agent)

        def log_out(agent: _Agent, now: float) -> None:
            nonlocal logged_s
            logged_s += min(now, end) - agent.logged_in_at
            agent.state = "out"

        tick = 0.0
        while True:
            next_event = heap[0][0] if heap else math.inf
            if tick <= next_event and tick < end:
                now = tick
                n = algo.calls_to_place(SimView(self, now))
                outcomes = s.outcomes_at(now)
                cum = outcomes.cumulative()
                for _ in range(max(0, n)):
                    u, answer, fail, amd, miss, talk, wrap, mtalk, mwrap = draws.next()
                    if u < cum[0]:
                        kind = "live"
                    elif u < cum[1]:
                        kind = "machine"
                    elif u < cum[2]:
                        kind = "busy"
                    elif u < cum[3]:
                        kind = "congestion"
                    else:
                        kind = "no_answer"
                    if kind in ("live", "machine") and answer >= timeout:
                        kind = "no_answer"  # nobody picks up before the ring timeout
                    if kind in ("live", "machine"):
                        ring = answer
                    elif kind == "no_answer":
                        ring = timeout
                    else:
                        ring = min(fail, timeout)
                    missed = kind == "machine" and miss < s.amd_miss_rate
                    call = _Call(
                        next_id, now, kind, ring, amd, missed,
                        mtalk if missed else talk, mwrap if missed else wrap,
                    )
                    next_id += 1
                    placed += 1
                    self.ringing[call.id] = call
                    push(now + ring, _RESULT, call)
                tick += 1.0
                continue
            if not heap or next_event >= end:
                break
            now, event, _, obj = heapq.heappop(heap)
            if event == _RESULT:
                call = obj  # type: ignore[assignment]
                del self.ringing[call.id]
                result = DialResult(call.kind)
                algo.on_dial_result(now, result, call.ring_s)
                if call.kind == "live":
                    call.answered_at = now
                    offer(call, now)
                elif call.kind == "machine":
                    call.answered_at = now
                    call.state = "amd"
                    self.n_amd += 1
                    push(now + call.amd_s, _AMD, call)
                else:
                    call.state = "done"
            elif event == _AMD:
                call = obj  # type: ignore[assignment]
                self.n_amd -= 1
                algo.on_amd_verdict(now, call.amd_missed)
                if call.amd_missed:
                    misses += 1
                    offer(call, now)
                else:
                    call.state = "done"
            elif event == _EXPIRE:
                call = obj  # type: ignore[assignment]
                if call.state == "waiting":
                    call.state = "done"
                    self.queue.remove(call)
                    measured_abandoned += 1
                    algo.on_abandon(now)
                    if call.kind == "live":
                        abandoned += 1
                        abandons_by_window[min(int(call.answered_at // WINDOW_15MIN_S), buckets - 1)] += 1
            elif event == _TALK_END:
                agent, call = obj  # type: ignore[misc]
                self.n_talk -= 1
                self.n_wrap += 1
                agent.state = "wrap"
                agent.since = now
                busy_s += call.talk_s
                push(now + call.wrap_s, _WRAP_END, (agent, call))
            elif event == _WRAP_END:
                agent, call = obj  # type: ignore[misc]
                self.n_wrap -= 1
                busy_s += call.wrap_s
                call.state = "done"
                algo.on_handle_done(now, call.talk_s, call.wrap_s)
                agent_ready(agent, now)
            elif event == _LOGIN:
                agent = obj  # type: ignore[assignment]
                agent.logged_in_at = now
                agent_ready(agent, now)
            elif event == _LOGOUT:
                agent = obj  # type: ignore[assignment]
                if agent.state == "ready":
                    self.idle.remove(agent)
                    log_out(agent, now)
                elif agent.state in ("talk", "wrap"):
                    agent.leaving = True

        # The shift is over: count busy time up to the end and close the agents' sessions
        for agent in self.agents:
            if agent.state == "out":
                continue
            if agent.state in ("talk", "wrap"):
                busy_s += end - agent.since
            logged_s += end - agent.logged_in_at
        waits.sort()
        rates = [a / n for a, n in zip(abandons_by_window, live_by_window) if n]
        hours = logged_s / 3600.0
        return ShiftResult(
            scenario=s.name,
            algorithm=algo.name,
            seed=self.seed,
            occupancy=busy_s / logged_s if logged_s else 0.0,
            abandon_rate=abandoned / live if live else 0.0,
            measured_abandon_rate=measured_abandoned / measured_live if measured_live else 0.0,
            max_abandon_rate_15min=max(rates, default=0.0),
            connects_per_agent_hour=connects / hours if hours else 0.0,
            agent_wait_p50_s=_percentile(waits, 0.5),
            agent_wait_p95_s=_percentile(waits, 0.95),
            calls_placed=placed,
            live_answers=live,
            abandoned=abandoned,
            amd_misses=misses,
        )


def simulate(
    scenario: Scenario,
    algorithm: str,
    *,
    seed: int | None = None,
    pacing: PacingConfig | None = None,
) -> ShiftResult:
    """Run one shift of ``scenario`` under ``algorithm`` (seed: the scenario's own by default)."""
    algo = make_algorithm(algorithm, scenario, pacing)
    return ShiftSimulation(scenario, algo, scenario.seed if seed is None else seed).run()

