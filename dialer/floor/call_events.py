"""The floor's answers to what the PBX reports: answers, AMD verdicts, connects, ends, failures, legs (pure)."""

from __future__ import annotations

import logging
from datetime import datetime

from dialer.agents.desktop import CallPhase
from dialer.agents.services import AgentSession
from dialer.agents.state import AgentState, Trigger
from dialer.ami.actions import Hangup
from dialer.calls.events import (
    AgentLegDown,
    AgentLegFailed,
    AgentLegUp,
    AmdDetected,
    CallAnswered,
    CallConnected,
    CallEnded,
    CallFailed,
    CallRinging,
    DomainEvent,
)
from dialer.floor import effects as fx
from dialer.floor.base import (
    _FAILED_AS,
    AMD_PERSON,
    LEG_LOST_MESSAGE,
    OFFER_WINDOW_SHARE,
)
from dialer.floor.calls import FloorCall
from dialer.floor.recording import RecordingMoves
from dialer.pacing.stats import DialResult

log = logging.getLogger(__name__)


class CallEvents(RecordingMoves):
    """Domain events from the tracker, applied to the floor."""

    def apply_events(self, events: list[DomainEvent]) -> list[fx.Effect]:
        """Apply tracker events (what :meth:`ami_event` does after feeding the tracker); the effects."""
        self._handle_all(events)
        return self._flush()

    def _handle_all(self, events: list[DomainEvent]) -> None:
        for e in events:
            try:
                self._handle(e)
            except Exception:
                log.exception("floor: handling %r failed", e)

    def _handle(self, e: DomainEvent) -> None:
        if isinstance(e, CallAnswered):
            self._on_answered(e)
        elif isinstance(e, CallConnected):
            self._on_connected(e)
        elif isinstance(e, CallEnded):
            self._on_ended(e)
        elif isinstance(e, CallFailed):
            self._on_failed(e)
        elif isinstance(e, AmdDetected):
            self._on_amd(e)
        elif isinstance(e, AgentLegUp):
            self._on_leg_up(e)
        elif isinstance(e, (AgentLegDown, AgentLegFailed)):
            self._on_leg_gone(e)
        elif isinstance(e, CallRinging):
            self._on_ringing(e)
        # CallAbandoned (the CallEnded that follows carries it), RecordingStarted: nothing to do

    def _on_ringing(self, e: CallRinging) -> None:
        call = self.calls.get(e.attempt_id)
        if call is not None and call.ringing_at is None:
            call.ringing_at = self.wall_at(e.at)  # stored with the call's end (one write, not one more per call)

    def _on_leg_up(self, e: AgentLegUp) -> None:
        s = self.agents.by_extension(e.extension)
        if s is None:
            return
        adopted = s.leg_up and s.leg_channel == e.channel  # a leg found in the conference at start-up
        s.leg_up = True
        s.leg_channel = e.channel
        if s.status.state is AgentState.OFFLINE and not adopted:
            # logged out while the phone was still being called: hang it up now
            self._out.append(fx.SendHangup(Hangup(channel=e.channel), f"leg of agent {s.user_id} after logout"))
            return
        if s.status.state is AgentState.CONNECTING:
            self._try_change(s, Trigger.LEG_UP, self.wall_at(e.at))

    def _on_leg_gone(self, e: AgentLegDown | AgentLegFailed) -> None:
        s = self.agents.by_extension(e.extension)
        if s is None:
            return
        had_leg = s.leg_up
        s.leg_up = False
        s.leg_channel = None
        s.leg_action_id = None
        state = s.status.state
        if state is AgentState.OFFLINE:
            return
        at = self.wall_at(e.at)
        call = self.calls.get(s.call_id or "")
        self._release_preview(s)
        self._try_change(s, Trigger.LEG_DOWN, at)
        if isinstance(e, AgentLegFailed):
            log.warning("agent %s: calling the phone %s failed (%s)", s.user_id, s.endpoint, e.reason.value)
            self._out.append(
                fx.NotifyError(
                    s.user_id,
                    "agent_leg_failed",
                    f"Não foi possível chamar o seu telefone ({s.endpoint}). Verifique o aparelho e clique em Disponível de novo.",
                )
            )
        elif had_leg:
            log.warning("agent %s: phone leg lost while %s (cause %s)", s.user_id, state.value, e.cause)
            self._out.append(fx.NotifyError(s.user_id, "agent_leg_lost", LEG_LOST_MESSAGE))
        if call is not None and not call.preview and call.agent_id == s.user_id:
            self._customer_without_agent(call, s)

    def _customer_without_agent(self, call: FloorCall, s: AgentSession) -> None:
        """The agent's leg went while their customer was on the line: the stated rule of the module doc."""
        if call.channel is None:
            return
        if call.connected:
            call.hangup_by = "system"
            self._out.append(fx.SendHangup(Hangup(channel=call.channel), f"agent {s.user_id} lost their leg mid-call"))
            return
        call.agent_id = None
        if s.call_id == call.id and s.status.state is not AgentState.WRAP_UP:
            s.call_id = None
            s.pop = None
            self.sessions.pop(s.user_id, None)
        now = self._mono()
        in_window = (
            call.routable_at is not None
            and now - call.routable_at < self.settings.connect_window_loop_s * OFFER_WINDOW_SHARE
        )
        if in_window and self._route(call, self.now()):
            return
        self._give_up(call)
        call.hangup_by = "system"
        self._out.append(
            fx.SendHangup(Hangup(channel=call.channel), f"agent {s.user_id} lost their leg before the connect")
        )

    def _on_answered(self, e: CallAnswered) -> None:
        call = self.calls.get(e.attempt_id)
        if call is None:
            return
        call.channel = e.channel
        call.answered = True
        call.answered_at = e.at
        if call.adopted:
            return  # its answer is stored already; it only waits for its end
        at = self.wall_at(e.at)
        if call.preview:
            if call.agent_id is not None:
                self._out.append(fx.NotifyPhase(call.agent_id, call.id, CallPhase.CONNECTING, at))
        elif call.amd:
            call.amd_pending = True  # AMD listens first; the verdict decides (SPEC §5)
        else:
            self.pacing.dial_result(call, DialResult.LIVE, e.at)
            call.routable_at = e.at
            self._route(call, at)
        self._out.append(fx.StoreAnswered(call.id, at, e.channel, e.uniqueid, call.agent_id))

    def _on_amd(self, e: AmdDetected) -> None:
        call = self.calls.get(e.attempt_id)
        if call is None:
            return
        self._out.append(fx.StoreAmd(call.id, e.status[:20], e.cause[:80] or None))
        call.amd_machine = e.is_machine
        if not call.amd_pending:
            return
        call.amd_pending = False
        answered_at = call.answered_at if call.answered_at is not None else e.at
        if e.is_machine:
            # the dialplan hangs up on a machine: not a live answer, not an abandon
            self.pacing.dial_result(call, DialResult.MACHINE, answered_at)
            self.pacing.amd_verdict(call, human=False)
            return
        if e.status not in AMD_PERSON:
            return  # HANGUP: the customer left while AMD listened; CallEnded follows
        self.pacing.dial_result(call, DialResult.LIVE, answered_at)
        self.pacing.amd_verdict(call, human=True)
        call.routable_at = e.at
        self._route(call, self.wall_at(e.at))

    def _on_connected(self, e: CallConnected) -> None:
        call = self.calls.get(e.attempt_id)
        if call is None:
            return
        if call.adopted:
            call.connected = True
            return
        at = self.wall_at(e.at)
        s = self.agents.by_extension(e.agent_extension)
        if s is None or s.call_id != call.id or not s.leg_up:
            # nobody is there to talk to: never "connected" to an empty conference
            log.warning("call %s joined conference %s with no agent on it: hung up", call.id, e.conference)
            if call.channel is not None:
                self._out.append(fx.SendHangup(Hangup(channel=call.channel), f"call {call.id} alone in {e.conference}"))
            return
        call.connected = True
        self._out.append(fx.CancelConnectTimer(call.id))
        self.pacing.connected(call, e.at)
        self.count_for_agent(s.user_id, contact=1)
        self._try_change(s, Trigger.CONNECT, at)
        self._out.append(fx.NotifyPhase(s.user_id, call.id, CallPhase.CONNECTED, at))
        path = self._start_recording(call, e.at, at)
        self._out.append(fx.StoreConnected(call.id, at, s.user_id, s.leg_channel, path))
        self._sync_recording(call, self.sessions.get(s.user_id))  # a call may connect on a sensitive step

    def _finish_for_agent(self, call: FloorCall, result: str, cause: int | None, at: datetime) -> None:
        """The call is over: its agent (if any) goes to wrap-up, or back to ready if never connected."""
        for held in self.agents:
            if held.held_for == call.id:
                held.held_for = None
        if call.agent_id is None:
            return
        s = self.agents.get(call.agent_id)
        if s is None or s.call_id != call.id:
            return
        self._out.append(fx.NotifyEnded(s.user_id, call.id, result, cause, at))
        if s.status.state is AgentState.ON_CALL or (s.status.state is AgentState.WRAP_UP and call.connected):
            self._try_change(s, Trigger.CALL_END, at)
            self.wrapups[call.id] = call
            if self.settings.wrapup_max_s is not None and not s.wrapup_timer:
                s.wrapup_timer = True
                self._out.append(fx.StartWrapupTimer(s.user_id, call.id, self.settings.wrapup_max_s))
        elif s.status.state is AgentState.RESERVED:
            self._try_change(s, Trigger.RELEASE, at)

    def _on_ended(self, e: CallEnded) -> None:
        call = self.calls.pop(e.attempt_id, None)
        if call is None:
            return
        if call.agent_id is not None and not call.preview and not call.connected:
            self._out.append(fx.CancelConnectTimer(call.id))
        at = self.wall_at(e.at)
        if e.abandoned:
            result = "abandoned"
        elif e.connected:
            result = "connected"
        elif call.amd_machine:
            result = "machine"
        else:
            result = "answered"
        call.ended_at = e.at
        call.talk_s = self.pacing.pbx_s(e.talk_s)
        self._end_recording(call, e.at)
        self._finish_for_agent(call, result, e.cause, at)
        duration_s = self.pacing.pbx_s(e.duration_s)
        self.pacing.call_ended(call, e, duration_s)
        side = call.hangup_by or "customer"
        self._out.append(fx.StoreEnded(
            call.ref, at, e.cause, e.connected, e.abandoned, duration_s, call.amd_machine, call.ringing_at, side
        ))

    def _on_failed(self, e: CallFailed) -> None:
        call = self.calls.pop(e.attempt_id, None)
        if call is None:
            return
        at = self.wall_at(e.at)
        failed_as = _FAILED_AS.get(e.reason)
        if failed_as is not None:
            self.pacing.dial_result(call, failed_as, e.at)
        self._finish_for_agent(call, e.reason.value, None, at)
        self._out.append(fx.StoreFailed(call.ref, e.reason.value, e.originate_reason, e.cause, at, call.ringing_at))
