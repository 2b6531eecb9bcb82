"""The floor's state and the moves every input shares: state changes, originates, routing (pure).

:class:`FloorBase` holds the one copy of agents, legs, calls and campaigns; the inputs are in
:mod:`dialer.floor.call_events` (what the PBX reports) and :mod:`dialer.floor.model` (agent
commands, dispositions, campaigns, reconciliation). See :mod:`dialer.floor.model` for the rules.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone

from dialer.agents.desktop import CallPhase, ScreenPop
from dialer.agents.routing import pick_agent
from dialer.agents.services import (
    AgentSession,
    AgentSessions,
    StateChange,
)
from dialer.agents.state import (
    AgentState,
    AgentStatus,
    InvalidTransition,
    PauseReason,
    Trigger,
)
from dialer.ami.actions import Originate, Redirect, new_action_id
from dialer.calls.events import (
    FailReason,
)
from dialer.calls.tracker import CALL_VARIABLE, CallTracker
from dialer.floor import effects as fx
from dialer.floor.calls import FloorCall
from dialer.floor.campaigns import CampaignInfo
from dialer.floor.monitoring import Monitors
from dialer.floor.pacing import FloorPacing
from dialer.floor.session import CallSession, ScriptBook, open_session
from dialer.floor.settings import FloorSettings
from dialer.pacing.stats import DialResult

log = logging.getLogger(__name__)

BRASILIA_TZ = timezone(timedelta(hours=-3))  # no daylight saving since 2019

AGENT_BRIDGE_CONTEXT = "cobra-agent-bridge"
OUTBOUND_CONTEXT = "cobra-outbound"
AMD_CONTEXT = "cobra-amd"
CONNECT_WINDOW_VARIABLE = "COBRA_CONNECT_WINDOW"
# AMD verdicts after which a person is listening and the call goes to an agent
AMD_PERSON = frozenset({"HUMAN", "NOTSURE"})
# A waiting call is offered to an agent who frees up only while this share of the connect
# window is left for the Redirect to land before the dialplan drops it
OFFER_WINDOW_SHARE = 0.75
CONNECT_GUARD_MIN_S = 5.0  # loop seconds an agent may stay reserved for a customer who never joins
LEG_LOST_MESSAGE = "Telefone desconectado: a sua linha caiu. Clique em Disponível para religar o seu telefone."

# How a failed originate feeds the pacer's statistics (LOST: nobody knows what happened)
_FAILED_AS: dict[FailReason, DialResult] = {
    FailReason.BUSY: DialResult.BUSY,
    FailReason.CONGESTION: DialResult.CONGESTION,
    FailReason.FAILED: DialResult.CONGESTION,
    FailReason.NO_ANSWER: DialResult.NO_ANSWER,
}


@dataclass(frozen=True, slots=True)
class KnownAgent:
    """An agent user as the database has them (for adopting legs and creating sessions)."""

    user_id: int
    name: str
    extension: str
    endpoint: str


class FloorBase:
    """The floor's state, clocks and shared moves; effects collect in ``_out`` until the input's end."""

    def __init__(
        self,
        settings: FloorSettings,
        *,
        wall: Callable[[], datetime],
        mono: Callable[[], float],
        scripts: ScriptBook | None = None,
    ) -> None:
        self.settings = settings
        self.scripts = scripts if scripts is not None else ScriptBook()
        self.sessions: dict[int, CallSession] = {}  # agent → the call session on their screen
        # (agent, local day) → (calls given to them, contacts): the wallboard's figures of the day
        self.day_counts: dict[tuple[int, date], tuple[int, int]] = {}
        self._wall_clock = wall
        self._mono = mono
        self.tracker = CallTracker(settings.connect_window_loop_s)
        self.agents = AgentSessions()
        self.calls: dict[str, FloorCall] = {}  # live: claimed, dialling, ringing, answered, connected
        self.wrapups: dict[str, FloorCall] = {}  # ended, waiting for their disposition
        self.campaigns: dict[int, CampaignInfo] = {}
        self.pacing = FloorPacing(settings, mono)
        self.monitors = Monitors()  # who listens to / whispers to / barges in on whom
        self.link_up = False
        self.running = False
        self._out: list[fx.Effect] = []
        self._rr = 0

    # ------------------------------------------------------------------ time

    def now(self) -> datetime:
        return self._wall_clock()

    def wall_at(self, at: float) -> datetime:
        """The instant on the dialer's clock of loop time ``at`` (when an AMI event was read)."""
        return self._wall_clock() - timedelta(seconds=self._mono() - at)

    def _flush(self) -> list[fx.Effect]:
        out, self._out = self._out, []
        return out

    # ------------------------------------------------------------------ queries

    def status(self, user_id: int) -> AgentStatus:
        s = self.agents.get(user_id)
        return AgentStatus() if s is None else s.status

    def current_pop(self, user_id: int) -> ScreenPop | None:
        s = self.agents.get(user_id)
        return None if s is None else s.pop

    def session_of(self, user_id: int, call_id: str) -> CallSession | None:
        """The call session of ``call_id`` if it is the agent's current call."""
        session = self.sessions.get(user_id)
        return session if session is not None and session.call_id == call_id else None

    def call_of(self, user_id: int) -> FloorCall | None:
        """The agent's current call (live or in wrap-up), if any."""
        s = self.agents.get(user_id)
        if s is None or s.call_id is None:
            return None
        return self.calls.get(s.call_id) or self.wrapups.get(s.call_id)

    # ------------------------------------------------------------------ internals: state changes

    def _change(
        self, s: AgentSession, trigger: Trigger, at: datetime | None = None, reason: PauseReason | None = None
    ) -> StateChange | None:
        """Apply ``trigger`` (raises InvalidTransition); store and notify a real change."""
        was_wrapup = s.status.state is AgentState.WRAP_UP
        change = self.agents.transition(s, trigger, at if at is not None else self.now(), self._mono(), reason)
        if change is None:
            return None
        if change.after.state is not AgentState.READY and s.held_for is not None:
            s.held_for = None  # the owner of a callback in flight is no longer free for it
        if was_wrapup and change.after.state is not AgentState.WRAP_UP and s.wrapup_timer:
            s.wrapup_timer = False
            self._out.append(fx.CancelWrapupTimer(s.user_id))
        if s.call_id is None:
            self.sessions.pop(s.user_id, None)  # the agent left the call: its session with it
        self._out.append(fx.NotifyState(s.user_id, change.after, change.at))
        before, after = change.before.state.value, change.after.state.value
        if before != after:
            why = change.after.pause_reason.value if change.after.pause_reason is not None else None
            self._out.append(fx.StoreStateChange(s.user_id, before, after, change.at, why))
            if change.after.state is AgentState.READY and self.running:
                self._offer_waiting()
        return change

    def _try_change(self, s: AgentSession, trigger: Trigger, at: datetime | None = None) -> StateChange | None:
        """For AMI-driven triggers: an impossible transition is logged, not raised."""
        try:
            return self._change(s, trigger, at)
        except InvalidTransition as exc:
            log.debug("agent %s: %s", s.user_id, exc)
            return None

    # ------------------------------------------------------------------ internals: originates

    def _originate_leg(self, s: AgentSession) -> None:
        action_id = new_action_id()
        channel_id = f"{action_id}-agent"
        s.leg_action_id = action_id
        self.tracker.expect_agent_leg(action_id, s.extension, channel_id=channel_id)
        action = Originate(
            channel=s.endpoint,
            context=AGENT_BRIDGE_CONTEXT,
            exten=s.extension,
            timeout_ms=int(self.settings.agent_ring_timeout_s * 1000),
            caller_id=f"Cobra <{s.extension}>",
            channel_id=channel_id,
            action_id=action_id,
        )
        self._out.append(fx.SendOriginate(action, f"agent-leg-{s.user_id}"))

    def _originate_customer(self, call: FloorCall, context: str, exten: str) -> None:
        digits = call.number.lstrip("+")
        attempt_id = call.id
        # an AMD call's connect window starts at the person verdict, not the answer (SPEC §5)
        self.tracker.expect_call(attempt_id, channel_id=attempt_id, other_channel_id=f"{attempt_id}-2", amd=call.amd)
        action = Originate(
            channel=call.campaign.dial_template.replace("{number}", digits),
            context=context,
            exten=exten,
            timeout_ms=int(self.settings.ring_timeout_s * 1000),
            caller_id=call.campaign.caller_id,
            variables={CALL_VARIABLE: attempt_id, CONNECT_WINDOW_VARIABLE: f"{self.settings.connect_window_s:g}"},
            channel_id=attempt_id,
            other_channel_id=f"{attempt_id}-2",
            action_id=attempt_id,
        )
        self._out.append(fx.SendOriginate(action, f"originate-{attempt_id}"))

    def _originate_claimed(self, call: FloorCall) -> None:
        if call.owner_id is not None:
            owner = self.agents.get(call.owner_id)
            if owner is not None and owner.status.state is AgentState.READY and owner.leg_up and owner.held_for is None:
                owner.held_for = call.id
            else:
                call.owner_id = None  # the owner left meanwhile: whoever is free takes it
        self.calls[call.id] = call
        call.originated = True
        call.dialled_at = self._mono()
        call.amd = call.campaign.amd_enabled
        self._originate_customer(call, AMD_CONTEXT if call.amd else OUTBOUND_CONTEXT, "s")

    def _start_preview(self, user_id: int, call: FloorCall) -> None:
        s = self.agents.get(user_id)
        if s is None or s.status.state is not AgentState.READY or not s.leg_up or s.held_for is not None:
            self._out.append(fx.StoreCancelled(call.ref, self.now()))  # the agent changed state while the lead was read
            return
        at = self.now()
        call.agent_id = user_id
        call.owner_id = None
        self.calls[call.id] = call
        self._change(s, Trigger.RESERVE, at)
        s.call_id = call.id
        self._pop_for(s, call, at)
        self._out.append(fx.NotifyPhase(user_id, call.id, CallPhase.PREVIEW, at))

    def count_for_agent(self, user_id: int, *, call: int = 0, contact: int = 0) -> None:
        """Add to the agent's figures of the day (Brasília); earlier days are dropped."""
        day = self.now().astimezone(BRASILIA_TZ).date()
        key = (user_id, day)
        if key not in self.day_counts:
            self.day_counts = {k: v for k, v in self.day_counts.items() if k[1] == day}
        calls, contacts = self.day_counts.get(key, (0, 0))
        self.day_counts[key] = (calls + call, contacts + contact)

    def _pop_for(self, s: AgentSession, call: FloorCall, at: datetime) -> None:
        """Put ``call`` on the agent's screen: the pop, and the call session its negotiation runs in."""
        self.count_for_agent(s.user_id, call=1)
        assert call.pop is not None, "an adopted call is never put on a screen"
        s.pop = replace(call.pop, created_at=at)
        script = self.scripts.for_campaign(call.campaign.id)
        self.sessions[s.user_id] = open_session(s.user_id, s.name, s.pop, script, at)
        self._out.append(fx.NotifyPop(s.user_id, s.pop))

    def _release_preview(self, s: AgentSession) -> None:
        """An agent leaving with a preview on screen that was never dialled gives the lead back."""
        call = self.calls.get(s.call_id or "")
        if call is None or not call.preview or call.originated:
            return
        self.calls.pop(call.id, None)
        self._out.append(fx.StoreCancelled(call.ref, self.now()))

    # ------------------------------------------------------------------ internals: routing

    def _route(self, call: FloorCall, at: datetime) -> bool:
        """Give an answered person to a free agent: pop, then Redirect. False when nobody is free."""
        user_id = pick_agent(self.agents.candidates(), call.id, call.owner_id)
        if call.owner_id is not None and user_id != call.owner_id:
            owner = self.agents.get(call.owner_id)
            if owner is not None and owner.held_for == call.id:
                owner.held_for = None
        call.owner_id = None
        if user_id is None or call.channel is None:
            # nobody free: it waits; past the connect window the dialplan drops it (abandon)
            return False
        s = self.agents.get(user_id)
        assert s is not None
        s.held_for = None
        self._change(s, Trigger.RESERVE, at)
        call.agent_id = user_id
        s.call_id = call.id
        # the pop goes out before the Redirect is even queued (SPEC §3)
        self._pop_for(s, call, at)
        self._out.append(fx.NotifyPhase(user_id, call.id, CallPhase.CONNECTING, at))
        self._out.append(
            fx.SendRedirect(
                Redirect(channel=call.channel, context=AGENT_BRIDGE_CONTEXT, exten=s.extension), call.id, user_id
            )
        )
        # the customer's join normally follows in milliseconds; if it never comes (the Redirect was lost, the
        # channel vanished without a word), the agent must not stay reserved for ever
        guard_s = max(CONNECT_GUARD_MIN_S, 3 * self.settings.connect_window_loop_s)
        self._out.append(fx.StartConnectTimer(user_id, call.id, guard_s))
        return True

    def _give_up(self, call: FloorCall) -> None:
        """No agent for ``call`` any more: it waits only for its end (not offered, not counted as waiting)."""
        call.agent_id = None
        call.routable_at = None
        call.given_up = True

    def _offer_waiting(self) -> None:
        """Agents just became ready: connect answered people still waiting within the window, oldest first."""
        now = self._mono()
        limit = self.settings.connect_window_loop_s * OFFER_WINDOW_SHARE
        waiting = sorted(
            (
                c
                for c in self.calls.values()
                if c.routable_at is not None
                and c.agent_id is None
                and not c.connected
                and not c.preview
                and now - c.routable_at < limit
            ),
            key=lambda c: c.routable_at or 0.0,
        )
        for call in waiting:
            if not self._route(call, self.now()):
                return
