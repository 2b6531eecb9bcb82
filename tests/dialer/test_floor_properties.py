"""Random interleavings of agent commands, leg changes and call events: the floor's invariants hold (hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.agents.desktop import Disposition
from dialer.agents.services import AgentError
from dialer.agents.state import AgentState, InvalidTransition, PauseReason
from dialer.calls.events import (
    AgentLegDown,
    AgentLegUp,
    CallAnswered,
    CallConnected,
    CallEnded,
)
from dialer.floor import effects as fx
from dialer.floor.model import Floor
from dialer.floor.settings import DialerSettings
from tests.dialer.test_floor_model import BOOK, Clocks, a_call, agent, campaign

AGENTS = (1, 2)
STEPS = 50  # moves per example; each picked among the moves that make sense then (no step wasted on a no-op)


class Harness:
    def __init__(self) -> None:
        self.clocks = Clocks()
        self.floor = Floor(
            DialerSettings(recording=False, wrapup_max_s=5.0), wall=self.clocks.wall, mono=self.clocks.mono, scripts=BOOK
        )
        self.floor.running = self.floor.link_up = True
        self.floor.campaign_changed(campaign())
        for n in AGENTS:
            self.floor.add_agent(agent(n))
        self.legs = {n: 0 for n in AGENTS}  # legs in the conference, as the PBX sees them
        self.calls = 0
        self.keys = 0

    def moves(self) -> list[tuple[str, int]]:
        """Every (kind, k) that would do something now."""
        f = self.floor
        out: list[tuple[str, int]] = [("claim", 0), ("time", 1), ("time", 3)]
        for i, n in enumerate(AGENTS):
            s = f.agents.get(n)
            assert s is not None
            out += [("ready", i), ("pause", i)]
            if s.leg_action_id is not None and not s.leg_up:
                out.append(("leg_up", i))
            if s.leg_up:
                out.append(("leg_down", i))
            if s.call_id is not None:
                out += [("dispose", i), ("wrapup", i)]
        for j, call in enumerate(f.calls.values()):
            if not call.answered:
                out.append(("answer", j))
            if call.agent_id is not None and not call.connected:
                out.append(("connect", j))
            if call.answered:
                out.append(("end", j))
        return out

    def do(self, op: str, k: int) -> list[fx.Effect]:
        f, t = self.floor, self.clocks.t
        n = AGENTS[k % len(AGENTS)]
        s = f.agents.get(n)
        assert s is not None
        live = list(f.calls.values())
        call = live[k % len(live)] if live else None
        try:
            if op == "ready":
                return f.go_ready(n)
            if op == "leg_up" and s.leg_action_id is not None and not s.leg_up:
                self.legs[n] += 1
                return f.apply_events([AgentLegUp(s.extension, f"Local/{s.extension}@agent-sim-{t};1", t)])
            if op == "leg_down" and s.leg_up:
                self.legs[n] -= 1
                return f.apply_events([AgentLegDown(s.extension, t, 16, "")])
            if op == "claim":
                self.calls += 1
                return f.claimed(fx.ClaimRequest(1, 1), [a_call(f"c{self.calls}", f.campaigns[1])])
            if op == "answer" and call is not None and not call.answered:
                return f.apply_events([CallAnswered(call.id, f"Local/x@cust-sim-{call.id};1", f"u{call.id}", t)])
            if op == "connect" and call is not None and call.agent_id is not None and not call.connected:
                ext = f.agents.get(call.agent_id).extension  # type: ignore[union-attr]
                return f.apply_events([CallConnected(call.id, ext, f"agent{ext}", t, 0.1)])
            if op == "end" and call is not None and call.answered:
                return f.apply_events([CallEnded(call.id, 16, "", t, True, call.connected, False, 1.0, 0.5)])
            if op == "dispose" and s.call_id is not None:
                self.keys += 1
                return f.dispose_done(f.begin_dispose(n, Disposition(s.call_id, "RECUSA", f"k{self.keys}")))
            if op == "pause":
                return f.pause(n, PauseReason.OUTROS)
            if op == "time":
                self.clocks.t += k
            if op == "wrapup" and s.call_id is not None:
                return f.wrapup_expired(n, s.call_id)
        except (AgentError, InvalidTransition):
            pass
        return []


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_no_call_ever_reaches_an_agent_without_a_phone(data: st.DataObject) -> None:
    h = Harness()
    f = h.floor
    for _ in range(STEPS):
        op, k = data.draw(st.sampled_from(h.moves()))
        before = {n: (f.agents.get(n).leg_up, f.agents.get(n).leg_action_id) for n in AGENTS}  # type: ignore[union-attr]
        out = h.do(op, k)
        for e in out:
            if isinstance(e, (fx.NotifyPop, fx.StoreConnected)):
                uid = e.user_id if isinstance(e, fx.NotifyPop) else e.agent_id
                assert f.agents.get(uid).leg_up, f"{type(e).__name__} for agent {uid} with no leg"  # type: ignore[union-attr]
            if isinstance(e, fx.SendRedirect):
                target = next(a for a in f.agents if a.extension == e.action.exten)
                assert target.leg_up, "a customer redirected into an empty conference"
            if isinstance(e, fx.SendOriginate) and e.what.startswith("agent-leg-"):
                uid = int(e.what.rsplit("-", 1)[1])
                assert not before[uid][0], "a second leg originated for an agent whose phone is connected"
        for s in f.agents:
            if s.status.state in (AgentState.READY, AgentState.RESERVED, AgentState.ON_CALL):
                assert s.leg_up, f"agent {s.user_id} {s.status.state.value} without a leg"
            if s.status.state in (AgentState.RESERVED, AgentState.ON_CALL, AgentState.WRAP_UP):
                assert s.call_id in f.calls or s.call_id in f.wrapups, f"agent {s.user_id} on a call the floor lost"
            assert h.legs[s.user_id] <= 1
