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
from collections.abc import Iterable

from dialer.agents.desktop import CallPhase, Disposition
from dialer.agents.routing import free_agents
from dialer.agents.services import (
    AgentSession,
    DialerUnavailable,
    NotAllowedNow,
    NotOnCall,
    WrongCall,
)
from dialer.agents.state import AgentState, InvalidTransition, PauseReason, Trigger
from dialer.ami import events as ami
from dialer.ami.actions import Hangup, Originate
from dialer.calls.events import REASON_UNKNOWN
from dialer.calls.refs import AttemptRef
from dialer.campaigns.preview import agents_for_preview
from dialer.campaigns.progressive import calls_to_place, share_out
from dialer.floor import effects as fx
from dialer.floor.base import AGENT_BRIDGE_CONTEXT, KnownAgent
from dialer.floor.call_events import CallEvents
from dialer.floor.calls import FloorCall
from dialer.floor.campaigns import CampaignInfo, DialMode
from dialer.floor.dispose import BRASILIA, validate_disposition
from dialer.floor.identity import IdentityAttempt, IdentityMethod
from dialer.floor.monitoring import MonitorEnded, MonitorMode, MonitorSession
from dialer.floor.recovery import Orphan
from dialer.floor.session import CallSession, open_session
from dialer.floor.snapshot import AgentRow, CampaignRow, FloorSnapshot, customer_label

log = logging.getLogger(__name__)

__all__ = ["Floor", "KnownAgent"]


class Floor(CallEvents):
    """The one owner of the floor's live state (see the module doc)."""

    # ------------------------------------------------------------------ agents

    def add_agent(self, agent: KnownAgent) -> AgentSession:
        """The agent's session, created on first use (a second caller gets the same one)."""
        s = self.agents.get(agent.user_id)
        if s is None:
            s = self.agents.add(AgentSession(agent.user_id, agent.name, agent.extension, agent.endpoint))
        return s

    def go_ready(self, user_id: int) -> list[fx.Effect]:
        """ "Disponível": call the agent's phone into their conference (unless it is there), or leave a pause."""
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
        """ "Desligar": hang up the customer; the agent's own leg stays up."""
        s = self.agents.require(user_id)
        if s.call_id is None:
            raise NotOnCall("Você não está em uma chamada.")
        if s.call_id != call_id:
            raise WrongCall("Esta não é a sua chamada atual.")
        call = self.calls.get(call_id)
        if call is None or call.channel is None:
            raise NotOnCall("A chamada já terminou.")
        call.hangup_by = "agent"
        return [fx.SendHangup(Hangup(channel=call.channel), f"agent {user_id} hung up call {call_id}")]

    def dial_preview(self, user_id: int, call_id: str) -> list[fx.Effect]:
        """ "Ligar" on a preview: originate the customer straight into the agent's conference."""
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

    def verify_identity(
        self, user_id: int, call_id: str, method: IdentityMethod, answer: str
    ) -> tuple[CallSession, IdentityAttempt]:
        """Check the answer the person on the line gave (raises IdentityRefused when it can't be checked)."""
        session = self._session(user_id, call_id)
        return session, session.verify_identity(method, answer, self.now())

    def override_identity(self, user_id: int, call_id: str, reason: str) -> CallSession:
        """Release the call without a match, with a reason (shown to supervisors in the snapshot)."""
        session = self._session(user_id, call_id)
        session.override_identity(reason, self.now())
        return session

    def _session(self, user_id: int, call_id: str) -> CallSession:
        session = self.session_of(user_id, call_id)
        if session is None:
            raise WrongCall("Esta não é a chamada que está na sua tela.")
        return session

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

    def connect_expired(self, user_id: int, call_id: str) -> list[fx.Effect]:
        """The customer never joined the reserved agent's conference: free the agent, end the customer's channel."""
        s = self.agents.get(user_id)
        call = self.calls.get(call_id)
        if s is None or call is None or call.connected or s.call_id != call_id or s.status.state is not AgentState.RESERVED:
            return []
        log.warning("call %s: the customer never joined agent %s's conference; the agent is freed", call_id, user_id)
        self._give_up(call)  # not offered to anyone again: its channel is being hung up
        if call.channel is not None:
            call.hangup_by = "system"
            self._out.append(fx.SendHangup(Hangup(channel=call.channel), f"call {call_id} never joined its agent"))
        self._out.append(fx.NotifyEnded(user_id, call_id, "answered", None, self.now()))
        self._try_change(s, Trigger.RELEASE)
        return self._flush()

    def redirect_failed(self, user_id: int, call_id: str, reason: str) -> list[fx.Effect]:
        """Asterisk refused the ``Redirect`` of ``call_id`` into ``user_id``'s conference: free the agent now.

        The customer was not moved. Usually their channel is gone ("Channel does not exist": they hung up,
        or the dialplan's connect window ran out and dropped them); its ``Hangup`` ends the call and the
        tracker judges it (abandoned past the window). A channel still there stays in ``cobra-outbound``
        until the dialplan drops it at the window's end (an abandon), never hung up by us inside the
        window, never offered again. The agent is told the call ended and is ready for the next one;
        the connect guard is cancelled. A failure that comes after the call ended, or after the agent
        was freed or moved on by other means, changes nothing.
        """
        s = self.agents.get(user_id)
        call = self.calls.get(call_id)
        if (
            s is None
            or call is None
            or call.connected
            or call.agent_id != user_id
            or s.call_id != call_id
            or s.status.state is not AgentState.RESERVED
        ):
            return []
        log.warning("call %s: redirect to agent %s refused (%s); the agent is freed", call_id, user_id, reason)
        self._give_up(call)
        self._out.append(fx.CancelConnectTimer(call_id))
        self._out.append(fx.NotifyEnded(user_id, call_id, "answered", None, self.now()))
        self._try_change(s, Trigger.RELEASE)
        return self._flush()

    # ------------------------------------------------------------------ campaigns

    def campaign_changed(self, info: CampaignInfo) -> list[fx.Effect]:
        """A campaign's settings or status changed: in force from now (previews on screen of a stopped one go back)."""
        before = self.campaigns.get(info.id)
        self.campaigns[info.id] = info
        self.pacing.configure(info)
        if before is not None and before.dialing_differs(info):
            log.info(
                "campaign %s (%s): %s/%s -> %s/%s",
                info.id,
                info.name,
                before.status,
                before.mode.value,
                info.status,
                info.mode.value,
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
        return [
            fx.ClaimRequest(cid, 1, (uid,), uid) for uid, cid in agents_for_preview(self.agents.candidates(), previews)
        ]

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
        self._follow_monitors(event)
        return self._flush()

    # ------------------------------------------------------------------ listen / whisper / barge (SPEC §3, §8)

    def monitor(self, supervisor_id: int, endpoint: str | None, agent_id: int, mode: MonitorMode) -> list[fx.Effect]:
        """Ring the supervisor's phone into ChanSpy on the agent's leg (raises MonitorRefused)."""
        s = self.agents.get(agent_id)
        session, action = self.monitors.start(
            supervisor_id=supervisor_id,
            supervisor_endpoint=endpoint,
            agent_id=agent_id,
            agent_leg=s.leg_channel if s is not None and s.leg_up else None,
            mode=mode,
            at=self.now(),
            link_up=self.link_up,
        )
        self._out.append(fx.SendOriginate(action, f"monitor-{supervisor_id}"))
        self._audit_monitor("monitor_started", session, {"mode": mode.value, "agent_channel": action.data})
        return self._flush()

    def stop_monitor(self, supervisor_id: int) -> list[fx.Effect]:
        """Hang up the supervisor's spy channel (the session ends, audited, with its Hangup event)."""
        _, hangup = self.monitors.stop(supervisor_id)
        if hangup is not None:
            self._out.append(fx.SendHangup(hangup, f"supervisor {supervisor_id} stopped monitoring"))
        return self._flush()

    def _follow_monitors(self, event: ami.AmiEvent | None) -> None:
        ended, hangups, spying = self.monitors.observe(event)
        for h in hangups:
            self._out.append(fx.SendHangup(h, "monitoring stopped before the supervisor's phone answered"))
        for m in spying:
            if m.mode is not MonitorMode.LISTEN:  # only a supervisor who talks to the agent is announced
                self._out.append(fx.NotifyError(m.agent_id, "supervisor_talking", "Supervisor falando com você"))
        for e in ended:
            self._monitor_ended(e)

    def _monitor_ended(self, e: MonitorEnded) -> None:
        m = e.session
        if m.spying and m.mode is not MonitorMode.LISTEN:
            self._out.append(fx.NotifyError(m.agent_id, "supervisor_left", "O supervisor saiu da conversa."))
        self._audit_monitor("monitor_stopped", m, {"mode": m.mode.value, "why": e.why, "heard": m.spying})

    def _audit_monitor(self, action: str, m: MonitorSession, after: dict[str, object]) -> None:
        self._out.append(
            fx.StoreAudit(m.supervisor_id, action, "agent", str(m.agent_id), {**after, "supervisor_id": m.supervisor_id}, self.now())
        )

    def originate_refused(self, action: Originate) -> list[fx.Effect]:
        """Asterisk never took ``action``: the tracker reports it as failed (Reason 0)."""
        response = ami.OriginateResponse(
            action.action_id, False, 0, action.channel, action.context or "", action.exten or "", None
        )
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
            log.info(
                "agent %s: phone leg %s found in conference %s, adopted", agent.user_id, row.ch.channel, conference
            )
            self.tracker.expect_agent_leg(f"adopted-{row.ch.uniqueid}", agent.extension, channel_id=row.ch.uniqueid, up=True)
            tracked.add(agent.extension)
            s.leg_up = True
            s.leg_channel = row.ch.channel
            if s.status.state is AgentState.CONNECTING:
                self._try_change(s, Trigger.LEG_UP)
        # a spy channel whose Hangup was lost with the link: its session ends (audited) so the supervisor can start again
        for ended in self.monitors.settle({row.ch.uniqueid for row in channels}):
            self._monitor_ended(ended)
        return self._flush()

    # ------------------------------------------------------------------ recovery (SPEC §11)

    def settle_orphans(self, orphans: list[Orphan], channels: list[ami.CoreShowChannel]) -> list[fx.Effect]:
        """Attempts a stopped dialer left open: close the gone ones with their result, follow the live ones.

        A channel still on the PBX (a customer still talking, ringing or waiting) is tracked
        until its hangup and then stored like any call, but never routed or put on a screen;
        a gone one is closed now: connected or answered (no abandon verdict: when it ended is
        unknown), else lost (retried after the short "lost" gap). A preview never dialled goes
        back at once.
        """
        at = self.now()
        live = {row.ch.uniqueid for row in channels}
        adopted = False
        for o in orphans:
            if not o.originated:
                self._out.append(fx.StoreCancelled(o.ref, at))
                continue
            campaign = self.campaigns.get(o.ref.campaign_id)
            if campaign is not None and any(uid in live for uid in o.channel_ids):
                attempt_id = o.ref.attempt_id
                self.tracker.expect_call(
                    attempt_id, channel_id=attempt_id, other_channel_id=f"{attempt_id}-2", action_id=f"adopted-{attempt_id}"
                )
                call = FloorCall(o.ref, campaign, "", None, preview=o.ref.preview, originated=True, adopted=True)
                call.answered, call.connected = o.answered, o.connected
                self.calls[attempt_id] = call
                adopted = True
                log.info("call %s left by a stopped dialer is still on the PBX: followed to its end", attempt_id)
            elif o.answered or o.connected:
                self._out.append(fx.StoreEnded(o.ref, at, 0, o.connected, False, 0.0, False))
            else:
                self._out.append(fx.StoreFailed(o.ref, "lost", REASON_UNKNOWN, None, at))
        if adopted:
            # the adopted attempts learn their answer and connect from the listing
            self._handle_all(self.tracker.reconcile(channels, self._mono()))
        return self._flush()

    def resume_wrap_up(self, agent: KnownAgent, call: FloorCall) -> list[fx.Effect]:
        """After a restart: the agent's last call ended with no outcome; put it back on their screen to dispose."""
        s = self.add_agent(agent)
        if s.status.state is not AgentState.OFFLINE or s.call_id is not None:
            return []
        call.connected = True
        call.ended_at = self._mono()
        self.wrapups[call.id] = call
        self._change(s, Trigger.RESUME_WRAP_UP)
        s.call_id = call.id
        assert call.pop is not None  # the runtime rebuilds the pop from the database
        s.pop = call.pop
        self.sessions[s.user_id] = open_session(s.user_id, s.name, call.pop, self.scripts.for_campaign(call.campaign.id), self.now())
        self._out.append(fx.NotifyPop(s.user_id, call.pop))
        return self._flush()

    def hand_back(self) -> list[fx.Effect]:
        """At a clean stop, calls still live after the drain: their records are closed (nothing left open)."""
        at = self.now()
        for call in list(self.calls.values()):
            self.calls.pop(call.id, None)
            if not call.originated:
                self._out.append(fx.StoreCancelled(call.ref, at))
            elif call.answered or call.connected:
                self._out.append(fx.StoreEnded(call.ref, at, 0, call.connected, False, 0.0, call.amd_machine))
            else:
                self._out.append(fx.StoreFailed(call.ref, "lost", REASON_UNKNOWN, None, at))
        return self._flush()

    # ------------------------------------------------------------------ what supervisors see

    def snapshot(self) -> FloorSnapshot:
        """Every agent and campaign now (the wallboard's and ``GET /api/v1/floor``'s one source)."""
        now = self.now()
        day = now.astimezone(BRASILIA).date()
        agents = []
        for s in sorted(self.agents, key=lambda a: a.name):
            call = self.calls.get(s.call_id or "") or self.wrapups.get(s.call_id or "")
            counts = self.day_counts.get((s.user_id, day), (0, 0))
            watcher = self.monitors.of_agent(s.user_id)
            session = self.sessions.get(s.user_id)
            agents.append(
                AgentRow(
                    user_id=s.user_id,
                    name=s.name,
                    extension=s.extension,
                    state=s.status.state.value,
                    since=self.wall_at(s.since) if s.since else now,
                    pause_reason=s.status.pause_reason.value if s.status.pause_reason is not None else None,
                    phone_connected=s.leg_up,
                    call_id=s.call_id,
                    campaign_id=call.campaign.id if call is not None else None,
                    customer=customer_label(s.pop.customer.name) if s.pop is not None else None,
                    calls_today=counts[0],
                    contacts_today=counts[1],
                    monitored_by=watcher.supervisor_id if watcher is not None else None,
                    monitor_mode=watcher.mode.value if watcher is not None else None,
                    identity=session.identity.status.value if session is not None else None,
                    identity_override_reason=session.identity.override_reason if session is not None else None,
                )
            )
        campaigns = []
        for info in sorted(self.campaigns.values(), key=lambda c: c.name):
            live = [c for c in self.calls.values() if c.campaign.id == info.id and not c.adopted]
            talking = sum(1 for c in live if c.connected or (c.agent_id is not None and c.answered))
            ringing = sum(1 for c in live if c.originated and not c.answered)
            waiting = sum(1 for c in live if c.answered and not c.connected and c.agent_id is None and not c.given_up)
            campaigns.append(
                CampaignRow(
                    id=info.id,
                    name=info.name,
                    status=info.status,
                    mode=info.mode.value,
                    max_dial_level=info.max_dial_level,
                    abandon_cap=info.abandon_cap,
                    ringing=ringing,
                    waiting=waiting,
                    talking=talking,
                    connects_last_hour=self.pacing.connects_last_hour(info.id),
                    connects_by_slot=self.pacing.connects_by_slot(info.id),
                )
            )
        return FloorSnapshot(now, self.link_up, tuple(agents), tuple(campaigns))

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
