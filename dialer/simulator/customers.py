"""How simulated customers behave: the recorded last-digit convention, or a pacing scenario.

A customer is the ``;2`` half of ``Local/<number>@cust-sim``; its behaviour is the list of
dialplan steps it runs (what ``Newexten`` reports) plus what ``AMD()`` concludes on it.

Default (no scenario) — exactly the ``cust-sim`` context of the recorded extensions.conf,
chosen by the number's last digit: 1 (and 0, 6-9) answers after 1 s of ringing and hangs up
4 s later, 2 busy, 3 rings without answer, 4 congestion, 5 answers then hangs up after 0.5 s.
Digit 3 is also the far end that stops ringing by itself: after 20 s it hangs up with cause 19,
which an Originate with a longer Timeout sees as Reason 0 (``no_answer_far_end.ami``, number
5511999990003, Timeout 25000); a shorter Timeout gives Reason 3 (``no_answer_timeout.ami``).
``AMD()`` on these hears silence and reports ``HANGUP`` when the customer hangs up, as in
``amd_on_silence.ami``.

With a pacing scenario (``/work/shared/pacing/*.json``) each dial draws an outcome from
``outcomes`` (or the ``phases`` entry in force at that simulated second), seeded:

| outcome    | steps on the ;2 half                                                  | AMD()            |
|------------|------------------------------------------------------------------------|------------------|
| live       | Ringing, Wait(ring_to_answer_s), Answer, Wait(3600), Hangup(16)       | HUMAN after amd_detect_s |
| machine    | Ringing, Wait(ring_to_answer_s), Answer, Wait(talk_s), Hangup(16)     | MACHINE after amd_detect_s |
| busy       | Ringing, Wait(ring_to_fail_s), Busy(3), Hangup(17)                     | —                |
| congestion | Ringing, Wait(ring_to_fail_s), Congestion(3), Hangup(34)               | —                |
| no_answer  | Ringing, Wait(no_answer_timeout_s), Hangup(19)                         | —                |

A live customer hangs up ``talk_s`` after joining an agent's conference (jumping to its
``Hangup(16)``); one never connected is hung up by ``cobra-outbound`` after the connect window.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from dialer.simulator.dialplan import Step, fmt_seconds

OUTCOMES = ("live", "machine", "busy", "congestion", "no_answer")


class ScenarioError(ValueError):
    """A pacing scenario that cannot drive the simulator (the message names the field)."""


@dataclass(frozen=True)
class AmdVerdict:
    status: str  # HUMAN / MACHINE
    cause: str  # e.g. HUMAN-300-800, LONGGREETING-1600-1500 (formats of app_amd)
    after_s: float


@dataclass(frozen=True)
class CustomerPlan:
    outcome: str
    steps: tuple[Step, ...]
    amd: AmdVerdict | None = None
    talk_s: float | None = None  # hang up this long after joining an agent (live only)


class CustomerModel(Protocol):
    connect_window_s: float | None

    def plan(self, number: str, now_s: float) -> CustomerPlan: ...


def _is(digit: str, label: str) -> Step:
    return Step("GotoIf", lambda ch: f"{int(ch.exten[-1:] == digit)}?{label}")


LAST_DIGIT_STEPS: tuple[Step, ...] = (
    Step("NoOp", lambda ch: f"customer {ch.exten}"),
    _is("2", "busy"),
    _is("3", "noanswer"),
    _is("4", "congest"),
    _is("5", "quickhang"),
    Step("Ringing"),
    Step("Wait", "1"),
    Step("Answer"),
    Step("Wait", "4"),
    Step("Hangup", "16"),
    Step("Busy", "3", label="busy"),
    Step("Hangup", "17"),
    Step("Ringing", label="noanswer"),
    Step("Wait", "20"),
    Step("Hangup", "19"),
    Step("Congestion", "3", label="congest"),
    Step("Hangup", "34"),
    Step("Ringing", label="quickhang"),
    Step("Wait", "1"),
    Step("Answer"),
    Step("Wait", "0.5"),
    Step("Hangup", "16"),
)

_LAST_DIGIT_OUTCOME = {"2": "busy", "3": "no_answer", "4": "congestion", "5": "live"}


class LastDigitCustomers:
    """The recorded ``cust-sim`` context: behaviour by the number's last digit."""

    connect_window_s: float | None = None
    agent_phone_s: float | None = None

    def plan(self, number: str, now_s: float) -> CustomerPlan:
        return CustomerPlan(_LAST_DIGIT_OUTCOME.get(number[-1:], "live"), LAST_DIGIT_STEPS)


@dataclass(frozen=True)
class Lognormal:
    """A lognormal given by its own mean and sd (not the underlying normal's)."""

    mean: float
    sd: float

    def draw(self, rng: random.Random) -> float:
        sigma2 = math.log(1.0 + (self.sd / self.mean) ** 2)
        return rng.lognormvariate(math.log(self.mean) - sigma2 / 2.0, math.sqrt(sigma2))


def _dist(raw: dict[str, Any], key: str) -> Lognormal:
    value = raw.get(key)
    if not isinstance(value, dict):
        raise ScenarioError(f"scenario field {key!r}: expected an object like "
                            '{"dist": "lognormal", "mean": M, "sd": S}')
    if value.get("dist") != "lognormal":
        raise ScenarioError(f"scenario field {key}.dist: only 'lognormal' is supported, got {value.get('dist')!r}")
    try:
        mean, sd = float(value["mean"]), float(value["sd"])
    except (KeyError, TypeError, ValueError):
        raise ScenarioError(f"scenario field {key}: 'mean' and 'sd' must be numbers") from None
    if mean <= 0 or sd < 0:
        raise ScenarioError(f"scenario field {key}: mean must be > 0 and sd >= 0")
    return Lognormal(mean, sd)


def _outcomes(raw: Any, where: str) -> dict[str, float]:
    if not isinstance(raw, dict):
        raise ScenarioError(f"scenario field {where}: expected an object of probabilities")
    unknown = set(raw) - set(OUTCOMES)
    if unknown:
        raise ScenarioError(f"scenario field {where}: unknown outcome(s) {sorted(unknown)}")
    try:
        probs = {k: float(raw.get(k, 0.0)) for k in OUTCOMES}
    except (TypeError, ValueError):
        raise ScenarioError(f"scenario field {where}: probabilities must be numbers") from None
    if any(p < 0 for p in probs.values()) or abs(sum(probs.values()) - 1.0) > 1e-6:
        raise ScenarioError(f"scenario field {where}: probabilities must be >= 0 and sum to 1")
    return probs


class ScenarioCustomers:
    """Customers drawn from a pacing scenario, repeatably (its ``seed``)."""

    def __init__(self, scenario: dict[str, Any]) -> None:
        if not isinstance(scenario, dict):
            raise ScenarioError("scenario: expected a JSON object")
        self.name = str(scenario.get("name", "scenario"))
        self.outcomes = _outcomes(scenario.get("outcomes"), "outcomes")
        self.phases: list[tuple[float, dict[str, float]]] = []
        for i, phase in enumerate(scenario.get("phases") or []):
            try:
                start = float(phase["from_s"])
            except (KeyError, TypeError, ValueError):
                raise ScenarioError(f"scenario field phases[{i}].from_s: expected a number") from None
            self.phases.append((start, _outcomes(phase.get("outcomes"), f"phases[{i}].outcomes")))
        self.phases.sort(key=lambda p: p[0])
        self.ring_to_answer = _dist(scenario, "ring_to_answer_s")
        self.ring_to_fail = _dist(scenario, "ring_to_fail_s")
        self.amd_detect = _dist(scenario, "amd_detect_s")
        self.talk = _dist(scenario, "talk_s")
        try:
            self.no_answer_timeout_s = float(scenario["no_answer_timeout_s"])
        except (KeyError, TypeError, ValueError):
            raise ScenarioError("scenario field 'no_answer_timeout_s': expected a number") from None
        window = scenario.get("connect_window_s")
        self.connect_window_s: float | None = None if window is None else float(window)
        # how long a simulated agent phone stays off-hook (None: the recorded dialplan's 600 s)
        phone = scenario.get("agent_phone_s")
        try:
            self.agent_phone_s: float | None = None if phone is None else float(phone)
        except (TypeError, ValueError):
            raise ScenarioError("scenario field 'agent_phone_s': expected a number") from None
        if self.agent_phone_s is not None and self.agent_phone_s <= 0:
            raise ScenarioError("scenario field 'agent_phone_s': must be above zero")
        self.rng = random.Random(scenario.get("seed", 0))

    @classmethod
    def from_file(cls, path: str | Path) -> ScenarioCustomers:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise ScenarioError(f"scenario file {path}: {exc.strerror or exc}") from None
        except json.JSONDecodeError as exc:
            raise ScenarioError(f"scenario file {path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
        return cls(data)

    def outcomes_at(self, now_s: float) -> dict[str, float]:
        current = self.outcomes
        for start, probs in self.phases:
            if now_s >= start:
                current = probs
        return current

    def draw_outcome(self, now_s: float) -> str:
        x = self.rng.random()
        acc = 0.0
        probs = self.outcomes_at(now_s)
        for name in OUTCOMES:
            acc += probs[name]
            if x < acc:
                return name
        return "no_answer"

    def plan(self, number: str, now_s: float) -> CustomerPlan:
        outcome = self.draw_outcome(now_s)
        head = [Step("NoOp", lambda ch: f"customer {ch.exten}"), Step("Ringing")]
        if outcome in ("live", "machine"):
            ring = self.ring_to_answer.draw(self.rng)
            detect = self.amd_detect.draw(self.rng)
            talk = self.talk.draw(self.rng)
            if outcome == "live":
                verdict = AmdVerdict("HUMAN", "HUMAN-300-800", detect)
                tail = [Step("Answer"), Step("Wait", "3600"), Step("Hangup", "16", label="bye")]
                return CustomerPlan(outcome, tuple(head + [Step("Wait", fmt_seconds(round(ring, 3)))] + tail), verdict, talk)
            verdict = AmdVerdict("MACHINE", "LONGGREETING-2000-1500", detect)
            tail = [Step("Answer"), Step("Wait", fmt_seconds(round(talk, 3))), Step("Hangup", "16", label="bye")]
            return CustomerPlan(outcome, tuple(head + [Step("Wait", fmt_seconds(round(ring, 3)))] + tail), verdict)
        if outcome in ("busy", "congestion"):
            ring = self.ring_to_fail.draw(self.rng)
            app, cause = ("Busy", "17") if outcome == "busy" else ("Congestion", "34")
            steps = head + [Step("Wait", fmt_seconds(round(ring, 3))), Step(app, "3"), Step("Hangup", cause)]
            return CustomerPlan(outcome, tuple(steps))
        steps = head + [Step("Wait", fmt_seconds(self.no_answer_timeout_s)), Step("Hangup", "19")]
        return CustomerPlan(outcome, tuple(steps))
