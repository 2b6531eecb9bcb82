"""The floor model: agents, their phone legs, live calls and campaigns, with one owner (pure).

Everything that changes the floor comes in through a method of :class:`Floor` — an agent
command, an AMI event (fed to the call tracker the floor owns), a batch of claimed leads,
a campaign change, a timer — and every consequence goes out as an effect
(:mod:`dialer.floor.effects`) in the order it must happen: the screen-pop before the
``Redirect`` (SPEC §3), a state change stored in the order it happened. No I/O, no
asyncio: time comes from the two injected clocks (``wall``: the dialer's "now", UTC;
``mono``: loop seconds, the clock AMI events are stamped with).

Rules kept here (SPEC §3, §5, §6):

- an agent is given a call only while READY with their leg in their conference;
- a leg lost while READY/PAUSED/RESERVED makes the agent offline at once; while on a call
  or in wrap-up the call can still be disposed, after which the agent is offline; the agent
  is told "telefone desconectado" either way;
- a customer whose agent's leg is gone is never left alone: an answered customer not yet
  connected goes to another free agent while the connect window lasts, else is hung up
  (and the tracker judges the abandon); a connected customer is hung up (the agent, who
  spoke to them, disposes the call);
- a person who joins the conference of an agent without a leg is hung up, never stored as
  "connected" to nobody;
- legs found in the agents' conferences at start-up or after a reconnect are adopted, so
  "Disponível" never rings a phone that is already connected.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from dialer.agents.desktop import CallPhase, Disposition, ScreenPop
from dialer.agents.routing import free_agents, pick_agent
from dialer.agents.services import (
    AgentSession,
    AgentSessions,
    DialerUnavailable,
    NotAllowedNow,
    NotOnCall,
    StateChange,
    WrongCall,
)
from dialer.agents.state import (
    AgentState,
    AgentStatus,
    InvalidTransition,
    PauseReason,
    Trigger,
)
from dialer.ami import events as ami
from dialer.ami.actions import Hangup, MixMonitor, Originate, Redirect, new_action_id
from dialer.calls.events import (
    AgentLegDown,
    AgentLegFailed,
    AgentLegUp,
    AmdDetected,
    CallAnswered,
    CallConnected,
    CallEnded,
    CallFailed,
    DomainEvent,
    FailReason,
)
from dialer.calls.refs import AttemptRef
from dialer.calls.tracker import CALL_VARIABLE, CallTracker
from dialer.campaigns.preview import agents_for_preview
from dialer.campaigns.progressive import calls_to_place, share_out
from dialer.floor import effects as fx
from dialer.floor.calls import FloorCall
from dialer.floor.campaigns import CampaignInfo, DialMode
from dialer.floor.dispose import validate_disposition
from dialer.floor.pacing import FloorPacing
from dialer.floor.settings import FloorSettings
from dialer.pacing.stats import DialResult

log = logging.getLogger(__name__)

AGENT_BRIDGE_CONTEXT = "cobra-agent-bridge"
OUTBOUND_CONTEXT = "cobra-outbound"
AMD_CONTEXT = "cobra-amd"
CONNECT_WINDOW_VARIABLE = "COBRA_CONNECT_WINDOW"
# AMD verdicts after which a person is listening and the call goes to an agent
AMD_PERSON = frozenset({"HUMAN", "NOTSURE"})
# A waiting call is offered to an agent who frees up only while this share of the connect
# window is left for the Redirect to land before the dialplan drops it
OFFER_WINDOW_SHARE = 0.75
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


class Floor:
    """The one owner of the floor's live state (see the module doc)."""

    def __init__(self, settings: FloorSettings, *, wall: Callable[[], datetime], mono: Callable[[], float]) -> None:
        self.settings = settings
        self._wall_clock = wall
        self._mono = mono
        self.tracker = CallTracker(settings.connect_window_s)
        self.agents = AgentSessions()
        self.calls: dict[str, FloorCall] = {}  # live: claimed, dialling, ringing, answered, connected
        self.wrapups: dict[str, FloorCall] = {}  # ended, waiting for their disposition
        self.campaigns: dict[int, CampaignInfo] = {}
        self.pacing = FloorPacing(settings, mono)
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

    def call_of(self, user_id: int) -> FloorCall | None:
        """The agent's current call (live or in wrap-up), if any."""
        s = self.agents.get(user_id)
        if s is None or s.call_id is None:
            return None
        return self.calls.get(s.call_id) or self.wrapups.get(s.call_id)

    # ------------------------------------------------------------------ agents

    def add_agent(self, agent: KnownAgent) -> AgentSession:
        """The agent's session, created on first use (a second caller gets the same one)."""
        s = self.agents.get(agent.user_id)
        if s is None:
            s = self.agents.add(AgentSession(agent.user_id, agent.name, agent.extension, agent.endpoint))
        return s

    def go_ready(self, user_id: int) -> list[fx.Effect]:
        """"Disponível": call the agent's phone into their conference (unless it is there), or leave a pause."""
        s = self.agents.require(user_id)
        state = s.status.state
        if state is AgentState.OFFLINE:
            if s.leg_up:  # adopted after a restart: the phone is already in the conference
                self._change(s, Trigger.GO_READY)
                self._change(s, Trigger.LEG_UP)
                return self._flush()
            if not self.link_up:
                raise DialerUnavailable("Sem conexão com a central telefônica; tente novamente em instantes.")
            self._change(s, Trigger.GO_READY)
            self._originate_leg(s)
            return self._flush()
        try:
            self._change(s, Trigger.GO_READY)
        except InvalidTransition:
            raise NotAllowedNow(f"Não é possível ficar disponível agora (estado: {state.value}).") from None
        return self._flush()

    def pause(self, user_id: int, reason: PauseReason) -> list[fx.Effect]:
        s = self.agents.require(user_id)
        try:
            self._change(s, Trigger.PAUSE, reason=reason)
        except InvalidTransition:
            raise NotAllowedNow(f"Não é possível pausar agora (estado: {s.status.state.value}).") from None
        return self._flush()

    def logout(self, user_id: int) -> list[fx.Effect]:
        """Leave the dialer: the agent's phone leg is hung up."""
        s = self.agents.get(user_id)
        if s is None:
            return []
        if s.status.state in (AgentState.RESERVED, AgentState.ON_CALL):
            raise NotAllowedNow("Encerre a chamada em andamento antes de sair.")
        if s.status.state is AgentState.WRAP_UP:
            raise NotAllowedNow("Registre o resultado da última chamada antes de sair.")
        self._release_preview(s)
        self._change(s, Trigger.LOGOUT)
        if s.leg_channel is not None:
            self._out.append(fx.SendHangup(Hangup(channel=s.leg_channel), f"logout of agent {user_id}"))
        return self._flush()

    def hangup(self, user_id: int, call_id: str) -> list[fx.Effect]:
        """"Desligar": hang up the customer; the agent's own leg stays up."""
        s = self.agents.require(user_id)
        if s.call_id is None:
            raise NotOnCall("Você não está em uma chamada.")
        if s.call_id != call_id:
            raise WrongCall("Esta não é a sua chamada atual.")
        call = self.calls.get(call_id)
        if call is None or call.channel is None:
            raise NotOnCall("A chamada já terminou.")
        return [fx.SendHangup(Hangup(channel=call.channel), f"agent {user_id} hung up call {call_id}")]

    def dial_preview(self, user_id: int, call_id: str) -> list[fx.Effect]:
        """"Ligar" on a preview: originate the customer straight into the agent's conference."""
        s = self.agents.require(user_id)
        if s.call_id != call_id:
            raise WrongCall("Esta não é a ficha que está na sua tela.")
        call = self.calls.get(call_id)
        if call is None or not call.preview:
            raise NotAllowedNow("Esta chamada não é de prévia.")
        if call.originated:
            raise NotAllowedNow("Esta chamada já foi discada.")
        if not s.leg_up:
            raise NotAllowedNow("Seu telefone não está conectado.")
        if not self.link_up:
            raise DialerUnavailable("Sem conexão com a central telefônica; tente novamente em instantes.")
        call.originated = True
        call.dialled_at = self._mono()
        at = self.now()
        self._out.append(fx.StoreOriginated(call_id, at))
        self._out.append(fx.NotifyPhase(user_id, call_id, CallPhase.DIALING, at))
        self._originate_customer(call, AGENT_BRIDGE_CONTEXT, s.extension)
        return self._flush()

    def callback_ref(self, user_id: int, customer_id: int) -> AttemptRef:
        """The attempt a callback is scheduled from: only the customer of the agent's current call (SPEC §11)."""
        call = self.call_of(self.agents.require(user_id).user_id)
        if call is None or call.ref.customer_id != customer_id:
            raise NotAllowedNow("Só é possível agendar retorno para o cliente da chamada atual.")
        return call.ref

    # ------------------------------------------------------------------ disposition (one owner for wrap-up)

    def begin_dispose(self, user_id: int, d: Disposition) -> fx.DisposeTicket:
        """Accept ``d`` for storing: the agent is in wrap-up on that call and no other disposition is being stored.

        While a ticket is out, the wrap-up maximum does not end the wrap-up: the disposition's
        commit does (:meth:`dispose_done`) or, if it fails, :meth:`dispose_aborted` reopens it.
        """
        at = self.now()
        validate_disposition(d, at)
        s = self.agents.require(user_id)
        call = self.wrapups.get(d.call_id)
        if s.call_id != d.call_id:
            raise WrongCall("Esta não é a sua chamada atual.")
        if call is None or s.status.state is not AgentState.WRAP_UP:
            raise NotAllowedNow("O resultado só pode ser registrado depois que a chamada terminar.")
        if s.disposing is not None and s.disposing != d.client_key:
            raise NotAllowedNow("Um resultado para esta chamada já está sendo registrado.")
        s.disposing = d.client_key
        return fx.DisposeTicket(user_id, call.ref, d, at)

    def dispose_done(self, ticket: fx.DisposeTicket) -> list[fx.Effect]:
        """The disposition of ``ticket`` is committed: the wrap-up ends (to ready, a pause, or offline without a leg)."""
        s = self.agents.get(ticket.user_id)
        call = self.wrapups.pop(ticket.ref.attempt_id, None)
        if call is not None:
            self.pacing.handle_done(call)
        if s is None or s.call_id != ticket.ref.attempt_id or s.status.state is not AgentState.WRAP_UP:
            return self._flush()
        at = self.now()
        d = ticket.disposition
        if d.pause_after is not None:
            self._change(s, Trigger.PAUSE, at, PauseReason(d.pause_after))
        self._change(s, Trigger.DISPOSE, at)
        return self._flush()

    def dispose_aborted(self, ticket: fx.DisposeTicket) -> None:
        """Storing failed: the agent may send it again (and the wrap-up maximum counts again)."""
        s = self.agents.get(ticket.user_id)
        if s is not None and s.disposing == ticket.disposition.client_key:
            s.disposing = None

    def wrapup_expired(self, user_id: int, call_id: str) -> list[fx.Effect]:
        s = self.agents.get(user_id)
        if s is None or s.call_id != call_id or s.status.state is not AgentState.WRAP_UP:
            return []
        s.wrapup_timer = False
        if s.disposing is not None:
            return []  # the disposition being stored ends the wrap-up; its handle time counts once
        at = self.now()
        call = self.wrapups.pop(call_id, None)
        if call is not None:
            self.pacing.handle_done(call)
        self._try_change(s, Trigger.DISPOSE, at)
        self._out.append(fx.StoreWrapupTimeout(call_id, at))
        return self._flush()

    # ------------------------------------------------------------------ campaigns

    def campaign_changed(self, info: CampaignInfo) -> list[fx.Effect]:
        """A campaign's settings or status changed: in force from now (previews on screen of a stopped one go back)."""
        before = self.campaigns.get(info.id)
        self.campaigns[info.id] = info
        self.pacing.configure(info)
        if before is not None and before.dialing_differs(info):
            log.info(
                "campaign %s (%s): %s/%s -> %s/%s", info.id, info.name, before.status, before.mode.value, info.status, info.mode.value
            )
        if not info.running or info.mode is not DialMode.PREVIEW:
            for s in self.agents:
                call = self.calls.get(s.call_id or "")
                if call is not None and call.campaign.id == info.id and call.preview and not call.originated:
                    self._release_preview(s)
                    self._try_change(s, Trigger.RELEASE)
        for call in self.calls.values():
            if call.campaign.id == info.id:
                call.campaign = info
        return self._flush()

    def plan_previews(self) -> list[fx.ClaimRequest]:
        """One preview claim per free ready agent, preview campaigns taking turns (first stage of a tick)."""
        if not self._dialing():
            return []
        previews = [c.id for c in self._running() if c.mode is DialMode.PREVIEW]
        return [fx.ClaimRequest(cid, 1, (uid,), uid) for uid, cid in agents_for_preview(self.agents.candidates(), previews)]

    def plan_progressive(self) -> list[fx.ClaimRequest]:
        """Progressive campaigns' claims: free ready agents − calls in progress, shared round-robin
        over every dialing campaign (predictive ones take their share through their pacer)."""
        if not self._dialing():
            return []
        dialers = [c.id for c in self._running() if c.dials]
        progressive = [c.id for c in self._running() if c.dials and c.mode is DialMode.PROGRESSIVE]
        if not dialers:
            return []
        self._rr += 1
        if not progressive:
            return []
        free = free_agents(self.agents.candidates())
        n = calls_to_place(len(free), sum(1 for c in self.calls.values() if c.waiting))
        shares = share_out(n, dialers, self._rr)
        owners = tuple(a.user_id for a in free)
        return [fx.ClaimRequest(cid, shares[cid], owners) for cid in progressive if shares[cid] > 0]

    def predictive_order(self) -> list[int]:
        """Predictive campaigns in this tick's turn; ask :meth:`plan_predictive` for each after the previous one's claims."""
        if not self._dialing():
            return []
        ids = [c.id for c in self._running() if c.dials and c.mode is DialMode.PREDICTIVE]
        return [ids[(self._rr + i) % len(ids)] for i in range(len(ids))]

    def plan_predictive(self, campaign_id: int) -> fx.ClaimRequest | None:
        """What the campaign's pacer launches now, for the floor as it is (calls just placed included)."""
        info = self.campaigns.get(campaign_id)
        if info is None or not self._dialing() or not info.dials or info.mode is not DialMode.PREDICTIVE:
            return None
        n = self.pacing.calls_to_place(info, list(self.agents), list(self.calls.values()))
        if n <= 0:
            return None
        return fx.ClaimRequest(campaign_id, n, tuple(a.user_id for a in free_agents(self.agents.candidates())))

    def _dialing(self) -> bool:
        return self.running and self.link_up

    def _running(self) -> list[CampaignInfo]:
        return [c for c in sorted(self.campaigns.values(), key=lambda c: c.id) if c.running]

    def claimed(self, request: fx.ClaimRequest, calls: list[FloorCall]) -> list[fx.Effect]:
        """Leads claimed for ``request``: show the preview, originate, or give back what can no longer be used."""
        for call in calls:
            campaign = self.campaigns.get(call.campaign.id, call.campaign)
            call.campaign = campaign
            if request.preview_for is not None:
                self._start_preview(request.preview_for, call)
            elif not self.running or not self.link_up or not campaign.dials:
                # stopped, link lost, or paused / switched while the lead was read
                self._out.append(fx.StoreCancelled(call.ref, self.now()))
            else:
                self._originate_claimed(call)
        return self._flush()

    # ------------------------------------------------------------------ AMI in

    def ami_event(self, event: ami.AmiEvent | None, at: float) -> list[fx.Effect]:
        self._handle_all(self.tracker.feed(event, at))
        return self._flush()

    def originate_refused(self, action: Originate) -> list[fx.Effect]:
        """Asterisk never took ``action``: the tracker reports it as failed (Reason 0)."""
        response = ami.OriginateResponse(action.action_id, False, 0, action.channel, action.context or "", action.exten or "", None)
        return self.ami_event(response, self._mono())

    def reconcile(self, channels: list[ami.CoreShowChannel], agents: Iterable[KnownAgent]) -> list[fx.Effect]:
        """After start-up or an AMI reconnect: settle calls and legs against ``CoreShowChannels``.

        Tracked attempts and legs follow the tracker's rules. A channel in ``agent<ext>``'s
        conference whose name is the phone endpoint of the agent with that extension is that
        agent's leg: adopted when the agent has none, hung up when it would be a second one.
        """
        at = self._mono()
        self._handle_all(self.tracker.reconcile(channels, at))
        tracked = set(self.tracker.agent_extensions())
        by_extension = {a.extension: a for a in agents}
        for row in channels:
            conference = row.application_data.split(",", 1)[0] if row.application == "ConfBridge" else ""
            agent = by_extension.get(conference[len("agent") :]) if conference.startswith("agent") else None
            if agent is None or not row.ch.channel.startswith(f"{agent.endpoint}-"):
                continue
            s = self.add_agent(agent)
            if s.leg_up and s.leg_channel == row.ch.channel:
                continue
            if s.leg_up or agent.extension in tracked:
                self._out.append(fx.SendHangup(Hangup(channel=row.ch.channel), f"second leg of agent {agent.user_id}"))
                continue
            log.info("agent %s: phone leg %s found in conference %s, adopted", agent.user_id, row.ch.channel, conference)
            self.tracker.expect_agent_leg(f"adopted-{row.ch.uniqueid}", agent.extension, channel_id=row.ch.uniqueid)
            tracked.add(agent.extension)
            s.leg_up = True
            s.leg_channel = row.ch.channel
            if s.status.state is AgentState.CONNECTING:
                self._try_change(s, Trigger.LEG_UP)
        return self._flush()

    # ------------------------------------------------------------------ lifecycle

    def stop(self) -> list[fx.Effect]:
        """Stop dialing: previews on screen that were never dialled go back."""
        self.running = False
        for s in self.agents:
            self._release_preview(s)
            if s.wrapup_timer:
                s.wrapup_timer = False
                self._out.append(fx.CancelWrapupTimer(s.user_id))
        return self._flush()

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
        self.tracker.expect_call(attempt_id, channel_id=attempt_id, other_channel_id=f"{attempt_id}-2")
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
        s.pop = replace(call.pop, created_at=at)
        self._out.append(fx.NotifyPop(user_id, s.pop))
        self._out.append(fx.NotifyPhase(user_id, call.id, CallPhase.PREVIEW, at))

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
        s.pop = replace(call.pop, created_at=at)
        # the pop goes out before the Redirect is even queued (SPEC §3)
        self._out.append(fx.NotifyPop(user_id, s.pop))
        self._out.append(fx.NotifyPhase(user_id, call.id, CallPhase.CONNECTING, at))
        self._out.append(fx.SendRedirect(Redirect(channel=call.channel, context=AGENT_BRIDGE_CONTEXT, exten=s.extension), call.id))
        return True

    def _offer_waiting(self) -> None:
        """Agents just became ready: connect answered people still waiting within the window, oldest first."""
        now = self._mono()
        limit = self.settings.connect_window_s * OFFER_WINDOW_SHARE
        waiting = sorted(
            (
                c
                for c in self.calls.values()
                if c.routable_at is not None and c.agent_id is None and not c.connected and not c.preview and now - c.routable_at < limit
            ),
            key=lambda c: c.routable_at or 0.0,
        )
        for call in waiting:
            if not self._route(call, self.now()):
                return

    # ------------------------------------------------------------------ internals: domain events

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
        # CallRinging, CallAbandoned (the CallEnded that follows carries it), RecordingStarted: nothing to do

    def _on_leg_up(self, e: AgentLegUp) -> None:
        s = self.agents.by_extension(e.extension)
        if s is None:
            return
        s.leg_up = True
        s.leg_channel = e.channel
        if s.status.state is AgentState.OFFLINE:
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
            self._out.append(fx.SendHangup(Hangup(channel=call.channel), f"agent {s.user_id} lost their leg mid-call"))
            return
        call.agent_id = None
        if s.call_id == call.id and s.status.state is not AgentState.WRAP_UP:
            s.call_id = None
            s.pop = None
        now = self._mono()
        in_window = call.routable_at is not None and now - call.routable_at < self.settings.connect_window_s * OFFER_WINDOW_SHARE
        if in_window and self._route(call, self.now()):
            return
        self._out.append(fx.SendHangup(Hangup(channel=call.channel), f"agent {s.user_id} lost their leg before the connect"))

    def _on_answered(self, e: CallAnswered) -> None:
        call = self.calls.get(e.attempt_id)
        if call is None:
            return
        call.channel = e.channel
        call.answered = True
        call.answered_at = e.at
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
        at = self.wall_at(e.at)
        s = self.agents.by_extension(e.agent_extension)
        if s is None or s.call_id != call.id or not s.leg_up:
            # nobody is there to talk to: never "connected" to an empty conference
            log.warning("call %s joined conference %s with no agent on it: hung up", call.id, e.conference)
            if call.channel is not None:
                self._out.append(fx.SendHangup(Hangup(channel=call.channel), f"call {call.id} alone in {e.conference}"))
            return
        call.connected = True
        self._try_change(s, Trigger.CONNECT, at)
        self._out.append(fx.NotifyPhase(s.user_id, call.id, CallPhase.CONNECTED, at))
        path: str | None = None
        if self.settings.recording and self.settings.recordings_dir is not None and call.channel is not None:
            path = str(Path(self.settings.recordings_dir) / f"{call.id}.wav")
            self._out.append(fx.SendRecord(MixMonitor(channel=call.channel, file=path), call.id))
        self._out.append(fx.StoreConnected(call.id, at, s.user_id, s.leg_channel, path))

    def _finish_for_agent(self, call: FloorCall, result: str, cause: int | None, at: datetime) -> None:
        """The call is over: its agent (if any) goes to wrap-up, or back to ready if never connected."""
        for s in self.agents:
            if s.held_for == call.id:
                s.held_for = None
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
        self._finish_for_agent(call, result, e.cause, at)
        duration_s = self.pacing.pbx_s(e.duration_s)
        self.pacing.call_ended(call, e, duration_s)
        self._out.append(fx.StoreEnded(call.ref, at, e.cause, e.connected, e.abandoned, duration_s, call.amd_machine))

    def _on_failed(self, e: CallFailed) -> None:
        call = self.calls.pop(e.attempt_id, None)
        if call is None:
            return
        at = self.wall_at(e.at)
        failed_as = _FAILED_AS.get(e.reason)
        if failed_as is not None:
            self.pacing.dial_result(call, failed_as, e.at)
        self._finish_for_agent(call, e.reason.value, None, at)
        self._out.append(fx.StoreFailed(call.ref, e.reason.value, e.originate_reason, getattr(e, "cause", None), at))
