"""The simulated dialplan: the contexts of the recorded ``extensions.conf`` as data.

Each step is one priority: the application Asterisk would run and its data as Asterisk
prints it in ``Newexten`` (variables already substituted). ``cust-sim`` is not here: its
steps come from the customer model (:mod:`dialer.simulator.customers`), so a scenario can
decide how each customer behaves.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from dialer.simulator.channels import Channel

Data = str | Callable[[Channel], str]


@dataclass(frozen=True)
class Step:
    """One dialplan priority: ``exten => X,n(label),App(data)``."""

    app: str
    data: Data = ""
    label: str | None = None

    def render(self, ch: Channel) -> str:
        return self.data(ch) if callable(self.data) else self.data


def var(ch: Channel, name: str) -> str:
    return ch.variables.get(name, "")


def pattern_matches(pattern: str, exten: str) -> bool:
    """Asterisk extension matching for the patterns we use (``_X.``, ``_7XXX``, literals)."""
    if not pattern.startswith("_"):
        return pattern == exten
    rx = ""
    for c in pattern[1:]:
        rx += {"X": "[0-9]", "Z": "[1-9]", "N": "[2-9]", ".": ".+", "!": ".*"}.get(c, re.escape(c))
    return re.fullmatch(rx, exten) is not None


def _fmt_seconds(s: float) -> str:
    return str(int(s)) if float(s).is_integer() else f"{s:g}"


def outbound_steps(connect_window_s: float) -> list[Step]:
    """``cobra-outbound``: the answered customer waits for an agent; past the window it is abandoned."""
    return [
        Step("NoOp", lambda ch: f"answered {var(ch, 'COBRA_CALL')}"),
        Step("Set", "CDR_PROP(disable)=1"),
        Step("Wait", _fmt_seconds(connect_window_s)),
        Step("NoOp", lambda ch: f"abandoned {var(ch, 'COBRA_CALL')}"),
        Step("Hangup", "16"),
    ]


# The recording rig's agent phone stays off-hook for 600 s (extensions.conf.txt); a floor that
# runs longer (the demo, a shift) sets ``agent_phone_s`` in its scenario
RECORDED_AGENT_PHONE_S = 600.0


def agent_sim_steps(off_hook_s: float = RECORDED_AGENT_PHONE_S) -> list[Step]:
    """``agent-sim``: a simulated agent phone answers at once and hangs up after ``off_hook_s``."""
    return [Step("Answer"), Step("Wait", _fmt_seconds(off_hook_s)), Step("Hangup")]


AGENT_SIM = agent_sim_steps()
AGENT_BRIDGE = [
    Step("NoOp", lambda ch: f"agent bridge {ch.exten}"),
    Step("ConfBridge", lambda ch: f"agent{ch.exten}"),
    Step("Hangup"),
]
# As shipped in dialer/asterisk/extensions.conf: MACHINE hangs up, anything else waits for
# an agent. The recording's context ended with a bare Hangup() after the NoOp; its first
# three steps (all that amd_on_silence.ami shows) are the same.
AMD_STEPS = [
    Step("Answer"),
    Step("AMD"),
    Step("NoOp", lambda ch: f"AMD {var(ch, 'AMDSTATUS')} {var(ch, 'AMDCAUSE')}"),
    Step("GotoIf", lambda ch: f"{int(var(ch, 'AMDSTATUS') == 'MACHINE')}?machine"),
    Step("Goto", "cobra-outbound,s,1"),
    Step("Hangup", "16", label="machine"),
]

CUSTOMER_CONTEXT = "cust-sim"


class Dialplan:
    """Context name → extension pattern → steps."""

    def __init__(self, connect_window_s: float = 3.0, agent_phone_s: float = RECORDED_AGENT_PHONE_S) -> None:
        self.contexts: dict[str, list[tuple[str, list[Step]]]] = {
            "agent-sim": [("_7XXX", agent_sim_steps(agent_phone_s))],
            "cobra-outbound": [("s", outbound_steps(connect_window_s))],
            "cobra-agent-bridge": [("_X.", AGENT_BRIDGE)],
            "cobra-amd": [("s", AMD_STEPS)],
        }

    def has_context(self, context: str) -> bool:
        return context == CUSTOMER_CONTEXT or context in self.contexts

    def lookup(self, context: str, exten: str) -> list[Step] | None:
        """The steps for ``exten@context`` (``cust-sim`` excluded), or None if there are none."""
        for pattern, steps in self.contexts.get(context, []):
            if pattern_matches(pattern, exten):
                return steps
        return None


def fmt_seconds(s: float) -> str:
    """Seconds as a dialplan argument: ``3``, ``0.5``."""
    return _fmt_seconds(s)
