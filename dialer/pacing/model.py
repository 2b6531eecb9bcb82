"""The predictive model: how many agents will be free when the calls in flight answer.

For a grid of look-ahead horizons ``s`` it compares two random counts:

- demand D(s): answered calls waiting now, calls in AMD that will turn out human, calls
  ringing that will be answered by a person within ``s`` (their chance given how long
  they have rung already), plus the ``k`` new calls under consideration;
- supply S(s + τ): agents ready now plus busy agents (in talk or wrap-up) that will be
  free within ``s + τ`` given how long they have been busy (τ = connect window).

Each count is a sum of independent Bernoulli variables; X = D − S is approximated as a
normal. A new call answered by a person at horizon ``s`` is abandoned when the others
that reached an agent by then already took every agent free by ``s + τ``: roughly
when X(s) exceeds the abandons expected so far (the running maximum of E[X⁺]). The
pacer weighs that chance, over when the call may be answered, against its threshold.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from dialer.pacing.stats import LogNormalFit, StatsSummary

# Look-ahead horizons in seconds after now; denser where most people answer
HORIZONS: tuple[float, ...] = (0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 12.0, 15.0, 18.0, 22.0, 26.0)
_N = len(HORIZONS)
_RING_BIN_S = 0.5
_TALK_BIN_S = 2.0
_WRAP_BIN_S = 1.0
_MAX_BUSY_S = 4 * 3600.0
_WRAP_POINTS = 8  # quantile points standing for the wrap-up distribution
_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
# Keeps the normal approximation from turning into a step when nothing is uncertain
_VAR_FLOOR = 0.05


def expected_positive_part(mean: float, var: float) -> float:
    """E[max(X, 0)] for X normal with this mean and variance."""
    if var <= 1e-12:
        return mean if mean > 0.0 else 0.0
    sd = math.sqrt(var)
    z = mean / sd
    return sd * _INV_SQRT_2PI * math.exp(-0.5 * z * z) + mean * 0.5 * math.erfc(-z / _SQRT2)


@dataclass(frozen=True, slots=True)
class Outlook:
    """Demand minus supply per horizon (mean and variance) before any new call."""

    mean: tuple[float, ...]
    var: tuple[float, ...]
    new_call: tuple[float, ...]  # chance a new call is a person answered by each horizon

    @property
    def new_call_live(self) -> float:
        """Chance a new call is answered by a person at all."""
        return self.new_call[-1]

    def drop_chance(self, k: int) -> float:
        """Chance that one more call, after ``k`` new ones, adds an abandon.

        A person answering at horizon ``s`` adds one abandon when, at ``s`` or any later
        horizon, demand minus supply reaches the abandons already expected before ``s``:
        either it finds no agent, or it takes the agent a later call needed.
        """
        zs = []
        for m, v, a in zip(self.mean, self.var, self.new_call):
            zs.append((m + k * a + 0.5, math.sqrt(v + k * a * (1.0 - a) + _VAR_FLOOR), expected_positive_part(m + k * a, v + k * a * (1.0 - a))))
        total = 0.0
        before = 0.0  # chance the call is a person answered by the previous horizon
        running = 0.0  # abandons expected among the other calls before this horizon
        for j, a in enumerate(self.new_call):
            w = a - before
            before = a
            if w > 0.0:
                z = max((m - running) / sd for m, sd, _ in zs[j:])
                total += w * 0.5 * math.erfc(-z / _SQRT2)
            if zs[j][2] > running:
                running = zs[j][2]
        return total

    def expected_drops(self, k: int) -> float:
        """Expected calls left without an agent if ``k`` new calls are launched now."""
        worst = 0.0
        for m, v, a in zip(self.mean, self.var, self.new_call):
            e = expected_positive_part(m + k * a, v + k * a * (1.0 - a))
            if e > worst:
                worst = e
        return worst


class AvailabilityModel:
    """Tables of answer and release chances for the current statistics, memoised per bin."""

    def __init__(self, stats: StatsSummary, *, ring_timeout_s: float, connect_window_s: float) -> None:
        self.stats = stats
        self.ring_timeout_s = ring_timeout_s
        self.connect_window_s = connect_window_s
        answer = stats.answer_time
        self._answered_by_timeout = max(answer.cdf(ring_timeout_s), 1e-9)
        self._new_call = tuple(self._live_by(0.0, s) for s in HORIZONS)
        self._ring_rows: dict[int, tuple[tuple[float, ...], tuple[float, ...]]] = {}
        self._talk_rows: dict[int, tuple[tuple[float, ...], tuple[float, ...]]] = {}
        self._wrap_rows: dict[int, tuple[tuple[float, ...], tuple[float, ...]]] = {}
        w = stats.wrap
        self._wrap_points = tuple(w.quantile((i + 0.5) / _WRAP_POINTS) for i in range(_WRAP_POINTS))

    def matches(self, stats: StatsSummary, ring_timeout_s: float, connect_window_s: float) -> bool:
        """Whether these tables are still good for ``stats`` (small drift is ignored)."""
        a, b = self.stats, stats
        return (
            self.ring_timeout_s == ring_timeout_s
            and self.connect_window_s == connect_window_s
            and abs(a.p_live - b.p_live) < 0.002
            and abs(a.p_machine - b.p_machine) < 0.005
            and abs(a.p_fail - b.p_fail) < 0.005
            and abs(a.p_human_after_amd - b.p_human_after_amd) < 0.005
            and _close(a.answer_time, b.answer_time)
            and _close(a.fail_time, b.fail_time)
            and _close(a.talk, b.talk)
            and _close(a.wrap, b.wrap)
        )

    # -- demand -------------------------------------------------------------------

    def _unresolved_weight(self, e: float) -> float:
        """Relative chance a call is still unresolved after ringing ``e`` seconds."""
        st = self.stats
        answered_later = max(0.0, 1.0 - st.answer_time.cdf(e) / self._answered_by_timeout)
        ringing_out = st.p_no_answer if e < self.ring_timeout_s else 0.0
        return (st.p_live + st.p_machine) * answered_later + st.p_fail * st.fail_time.sf(e) + ringing_out

    def _live_by(self, e: float, s: float) -> float:
        """Chance a call that has rung ``e`` s is answered by a person within the next ``s`` s."""
        st = self.stats
        if e >= self.ring_timeout_s:
            return 0.0
        z = self._unresolved_weight(e)
        if z <= 1e-12:
            return 0.0
        end = min(e + s, self.ring_timeout_s)
        gained = (st.answer_time.cdf(end) - st.answer_time.cdf(e)) / self._answered_by_timeout
        return min(1.0, max(0.0, st.p_live * gained / z))

    def _ring_row(self, elapsed: float) -> tuple[tuple[float, ...], tuple[float, ...]]:
        b = int(elapsed / _RING_BIN_S)
        row = self._ring_rows.get(b)
        if row is None:
            e = (b + 0.5) * _RING_BIN_S
            p = tuple(self._live_by(e, s) for s in HORIZONS)
            row = (p, tuple(x * (1.0 - x) for x in p))
            self._ring_rows[b] = row
        return row

    # -- supply -------------------------------------------------------------------

    def _talk_row(self, elapsed: float) -> tuple[tuple[float, ...], tuple[float, ...]]:
        b = int(min(elapsed, _MAX_BUSY_S) / _TALK_BIN_S)
        row = self._talk_rows.get(b)
        if row is None:
            e = (b + 0.5) * _TALK_BIN_S
            talk = self.stats.talk
            alive = talk.sf(e)
            out = []
            for s in HORIZONS:
                h = s + self.connect_window_s
                if alive < 1e-12:
                    out.append(0.0)
                    continue
                total = 0.0
                for w in self._wrap_points:
                    if h > w:
                        total += (alive - talk.sf(e + h - w)) / alive
                out.append(min(1.0, max(0.0, total / _WRAP_POINTS)))
            p = tuple(out)
            row = (p, tuple(x * (1.0 - x) for x in p))
            self._talk_rows[b] = row
        return row

    def _wrap_row(self, elapsed: float) -> tuple[tuple[float, ...], tuple[float, ...]]:
        b = int(min(elapsed, _MAX_BUSY_S) / _WRAP_BIN_S)
        row = self._wrap_rows.get(b)
        if row is None:
            e = (b + 0.5) * _WRAP_BIN_S
            wrap = self.stats.wrap
            alive = wrap.sf(e)
            out = []
            for s in HORIZONS:
                h = s + self.connect_window_s
                out.append(0.0 if alive < 1e-12 else min(1.0, max(0.0, (alive - wrap.sf(e + h)) / alive)))
            p = tuple(out)
            row = (p, tuple(x * (1.0 - x) for x in p))
            self._wrap_rows[b] = row
        return row

    # -- outlook ------------------------------------------------------------------

    def outlook(
        self,
        *,
        agents_ready: int,
        talk_elapsed_s: Sequence[float],
        wrap_elapsed_s: Sequence[float],
        ringing_elapsed_s: Sequence[float],
        in_amd: int,
        answered_waiting: int,
    ) -> Outlook:
        """Demand minus supply per horizon for the calls and agents as they are now."""
        mean = [float(answered_waiting - agents_ready)] * _N
        var = [0.0] * _N
        rows = [self._ring_row(e) for e in ringing_elapsed_s]
        rows += [self._talk_row(e) for e in talk_elapsed_s]
        n_demand = len(ringing_elapsed_s)
        if in_amd:
            h = self.stats.p_human_after_amd
            for i in range(_N):
                mean[i] += in_amd * h
                var[i] += in_amd * h * (1.0 - h)
        rows += [self._wrap_row(e) for e in wrap_elapsed_s]
        if rows:
            demand_rows = rows[:n_demand]
            supply_rows = rows[n_demand:]
            if demand_rows:
                for i, col in enumerate(zip(*(r[0] for r in demand_rows))):
                    mean[i] += sum(col)
                for i, col in enumerate(zip(*(r[1] for r in demand_rows))):
                    var[i] += sum(col)
            if supply_rows:
                for i, col in enumerate(zip(*(r[0] for r in supply_rows))):
                    mean[i] -= sum(col)
                for i, col in enumerate(zip(*(r[1] for r in supply_rows))):
                    var[i] += sum(col)
        return Outlook(tuple(mean), tuple(var), self._new_call)


def _close(a: LogNormalFit, b: LogNormalFit) -> bool:
    return abs(a.mu - b.mu) < 0.01 and abs(a.sigma - b.sigma) < 0.01
