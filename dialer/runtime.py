"""The dialer at run time: AMI gateway + call tracker + agent sessions + campaign loops.

:class:`DialerRuntime` is the façade the web layer drives (agent buttons) and listens to
(through the :class:`~dialer.agents.desktop.AgentNotifier` it implements).

Tasks it owns (all cancelled, with a timeout, by :meth:`DialerRuntime.stop`):

- the **event pump**: the only consumer of ``gateway.events()``; feeds the tracker and
  handles each domain event in order, synchronously (in-memory state, notifier, spawning
  AMI actions), so nothing it does waits on the database or on Asterisk;
- the **writer**: runs database work one unit at a time, each in its own short
  transaction, in the order it was queued (an attempt is created before its answer is
  stored, its end before its disposition);
- the **campaign loop**: every ``tick_s`` (≤ 1 s), while the AMI link is up, gives ready
  agents previews (preview campaigns) and places calls: progressive campaigns share ready
  agents − calls in progress; each predictive campaign then launches what its pacer
  (:mod:`dialer.pacing.live`) decides for the floor as it is after those; manual campaigns
  place nothing. Settings changed with :meth:`DialerRuntime.set_pacing` apply on the next tick;
- the **daily re-ranking**: aging buckets move with the calendar, so the leads of running
  campaigns are re-ranked (``Hopper.reprioritise``) before the campaign loop's first tick
  and again just after each local midnight (America/Sao_Paulo), each campaign bounded by
  ``reprioritise_timeout_s``;
- short-lived action tasks (originates, redirects, MixMonitor), each bounded by the
  gateway's action timeout.

Every lead is claimed through the hopper (:class:`dialer.leads.hopper.Hopper`): calling
windows, holidays, attempt caps across campaigns, retry gaps, do-not-call, holds,
prescription, segments, boosts and callbacks (owned ones only for their agent) are decided
there. A claim that never becomes a call goes back due at once; the lead of a call that
was made goes back with the retry time of its result (``dialer.calls.retry``).

Screen-pop data is read when the lead is claimed (one fixed set of indexed queries, see
``storage.repositories.screen_pop``), so when the customer answers the pop is built and
enqueued at once and only then is the ``Redirect`` sent (SPEC §3, §10 P1).

Calls placed ahead of agents are connected to whoever is free when they answer, or to the
first agent who becomes ready while they still wait within the connect window; past the
window the dialplan plays the abandon message and hangs up (SPEC §3). Campaigns with AMD
originate into ``cobra-amd``: a call is routed only after a HUMAN/NOTSURE verdict, and a
MACHINE is hung up by the dialplan and stored as ``machine`` (24 h before the lead is tried
again), counted neither as a live answer nor as an abandon.

Agents are not assigned to campaigns yet: running campaigns share the pool of ready
agents (previews first, then progressive calls, then predictive ones, campaigns served
round-robin).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialer.agents.desktop import AgentNotifier, CallPhase, Disposition, ScreenPop
from dialer.agents.routing import free_agents, pick_agent
from dialer.agents.services import (
    AgentError,
    AgentSession,
    AgentSessions,
    DialerUnavailable,
    InvalidDisposition,
    NoExtension,
    NotAllowedNow,
    NotOnCall,
    StateChange,
    UnknownAgent,
    WrongCall,
)
from dialer.agents.state import AgentState, AgentStatus, InvalidTransition, PauseReason, Trigger
from dialer.ami import events as ami
from dialer.ami.actions import Hangup, MixMonitor, Originate, Redirect, new_action_id
from dialer.ami.gateway import AmiGateway, EventsLost, LinkChanged, LinkState, Received
from dialer.clocks import system_clock
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
from dialer.calls.services import (
    AttemptRef,
    build_screen_pop,
    store_answered,
    store_connected,
    store_disposition,
    store_ended,
    store_failed,
    store_new_attempt,
    store_wrapup_timeout,
)
from dialer.calls.tracker import CALL_VARIABLE, CallTracker
from dialer.campaigns.preview import agents_for_preview
from dialer.campaigns.progressive import calls_to_place, share_out
from dialer.errors import AmiError, AmiLinkLost, AmiNotConnected, AmiTimeout, DialerError
from dialer.leads.hopper import ClaimedLead, Hopper
from dialer.pacing.live import (
    BRASILIA_OFFSET_S,
    AgentPhase,
    AgentView,
    CallView,
    CampaignPacing,
    DayCounts,
    PacingFigures,
    PacingSettings,
    ShortCalls,
    build_snapshot,
    day_bounds,
    floor_of,
    local_day,
)
from dialer.pacing.live import CallPhase as PacingCallPhase
from dialer.pacing.pacer import PacingMode
from dialer.pacing.stats import DialResult
from storage.errors import AlreadyExists
from storage.models import Callback, Campaign, CampaignMode, CampaignStatus, CallResult, OutcomeCode, Role, User, new_attempt_id
from storage.repositories.agent_states import record_state_change
from storage.repositories.callbacks import add_callback, reopen_callback
from storage.repositories.call_attempts import update_call_attempt
from storage.repositories.leads import release_expired_claims, release_lead
from storage.repositories.outcomes import get_outcome_by_key
from storage.repositories.pacing import CampaignPacingRow, abandon_days, short_calls_by_caller_id, update_campaign_pacing
from storage.repositories.screen_pop import PopData, load_pop_data

log = logging.getLogger(__name__)
T = TypeVar("T")

AGENT_BRIDGE_CONTEXT = "cobra-agent-bridge"
OUTBOUND_CONTEXT = "cobra-outbound"
AMD_CONTEXT = "cobra-amd"
# AMD verdicts after which a person is listening and the call goes to an agent
AMD_PERSON = frozenset({"HUMAN", "NOTSURE"})
# A waiting call is offered to an agent who frees up only while this share of the connect
# window is left for the Redirect to land before the dialplan drops it
OFFER_WINDOW_SHARE = 0.75
ABANDON_HISTORY_DAYS = 30
CONNECT_WINDOW_VARIABLE = "COBRA_CONNECT_WINDOW"
BRASILIA = ZoneInfo("America/Sao_Paulo")

__all__ = [
    "AgentError",
    "DialerRuntime",
    "DialerSettings",
    "DialerUnavailable",
    "DisposeResult",
    "InvalidDisposition",
    "NoExtension",
    "NotAllowedNow",
    "NotOnCall",
    "UnknownAgent",
    "WrongCall",
]


def _default_claimer() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


@dataclass(frozen=True, slots=True)
class DialerSettings:
    """How the runtime dials; ``web/`` builds it from ``[dialer]`` in the configuration."""

    connect_window_s: float = 2.0
    ring_timeout_s: float = 25.0
    tick_s: float = 1.0
    wrapup_max_s: float | None = None  # None: wrap-up lasts until the agent disposes
    recordings_dir: Path | None = None
    recording: bool = True
    pbx_name: str = "default"
    claimer: str = field(default_factory=_default_claimer)  # lead lease owner (SPEC §9)
    lead_lease_s: float = 900.0
    agent_ring_timeout_s: float = 30.0
    stop_timeout_s: float = 5.0
    reprioritise_timeout_s: float = 120.0  # one campaign's re-ranking (start-up and after each midnight)
    # Loop seconds per PBX second: 1 against Asterisk; the simulator's time_scale in tests,
    # so pacing (which measures ring, talk and wrap times) works in the PBX's seconds.
    # ring_timeout_s is in PBX seconds (it is the Originate's Timeout); connect_window_s
    # and tick_s are in loop seconds.
    clock_scale: float = 1.0

    def __post_init__(self) -> None:
        if not 0 < self.tick_s <= 1.0:
            raise ValueError(f"tick_s: must be > 0 and <= 1 s, got {self.tick_s!r}")
        if not self.connect_window_s > 0:
            raise ValueError(f"connect_window_s: must be > 0, got {self.connect_window_s!r}")
        if not self.ring_timeout_s > 0:
            raise ValueError(f"ring_timeout_s: must be > 0, got {self.ring_timeout_s!r}")
        if self.wrapup_max_s is not None and not self.wrapup_max_s > 0:
            raise ValueError(f"wrapup_max_s: must be > 0 or None, got {self.wrapup_max_s!r}")
        if self.recording and self.recordings_dir is None:
            raise ValueError("recordings_dir: needed when recording is on")
        if not self.reprioritise_timeout_s > 0:
            raise ValueError(f"reprioritise_timeout_s: must be > 0, got {self.reprioritise_timeout_s!r}")
        if not self.clock_scale > 0:
            raise ValueError(f"clock_scale: must be > 0, got {self.clock_scale!r}")


@dataclass(frozen=True, slots=True)
class DisposeResult:
    """What ``dispose`` did: ``duplicate`` when the key had already been stored."""

    call_id: str
    outcome_id: int
    duplicate: bool
    status: AgentStatus
    next_attempt_at: datetime | None = None
    callback_id: int | None = None


@dataclass(slots=True)
class _CampaignInfo:
    id: int
    name: str
    mode: CampaignMode
    dial_template: str
    caller_id: str | None
    running: bool
    max_dial_level: float = 3.0
    abandon_cap: float = 0.03
    amd_enabled: bool = False

    @classmethod
    def of(cls, c: Campaign) -> "_CampaignInfo":
        return cls(
            c.id,
            c.name,
            CampaignMode(c.mode),
            c.dial_template,
            c.caller_id or None,
            c.status is CampaignStatus.ACTIVE,
            float(c.max_dial_level),
            float(c.abandon_cap),
            bool(c.amd_enabled),
        )

    def apply(self, row: CampaignPacingRow) -> None:
        self.mode = row.mode
        self.max_dial_level = row.max_dial_level
        self.abandon_cap = row.abandon_cap
        self.amd_enabled = row.amd_enabled

    @property
    def dials(self) -> bool:
        """Whether the dialer places this campaign's calls (running, progressive or predictive)."""
        return self.running and self.mode in (CampaignMode.PROGRESSIVE, CampaignMode.PREDICTIVE)

    def pacing_settings(self) -> PacingSettings:
        return PacingSettings(PacingMode(self.mode.value), self.max_dial_level, self.abandon_cap, self.amd_enabled)


@dataclass(eq=False, slots=True)
class _Call:
    ref: AttemptRef
    campaign: _CampaignInfo
    number: str  # E.164 with '+'
    pop_data: PopData
    preview: bool
    owner_id: int | None = None  # owned callback: the agent it belongs to
    agent_id: int | None = None  # agent reserved for / connected to it
    channel: str | None = None  # customer channel (the one Redirect moves)
    originated: bool = False
    answered: bool = False
    connected: bool = False
    amd_machine: bool = False
    amd: bool = False  # originated into cobra-amd: routed only after a person verdict
    amd_pending: bool = False  # answered, AMD still listening
    dialled_at: float = 0.0  # loop time of the originate
    answered_at: float | None = None  # loop time of the answer
    routable_at: float | None = None  # loop time a person was known to be on the line
    ended_at: float | None = None
    talk_s: float = 0.0  # PBX seconds connected (set when it ends)

    @property
    def id(self) -> str:
        return self.ref.attempt_id

    @property
    def waiting(self) -> bool:
        """Counts as "in progress" for pacing: ringing or answered with no agent yet."""
        return not self.preview and self.agent_id is None and self.owner_id is None and not self.connected


# How a failed originate feeds the pacer's statistics (LOST: nobody knows what happened)
_FAILED_AS: dict[FailReason, DialResult] = {
    FailReason.BUSY: DialResult.BUSY,
    FailReason.CONGESTION: DialResult.CONGESTION,
    FailReason.FAILED: DialResult.CONGESTION,
    FailReason.NO_ANSWER: DialResult.NO_ANSWER,
}


class DialerRuntime:
    """The dialer's façade for the web layer (see the module doc)."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        gateway: AmiGateway,
        notifier: AgentNotifier,
        settings: DialerSettings,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """``clock``: the dialer's "now" (UTC, aware) for every decision and stored time; tests move it."""
        self._db = sessions
        self._clock = clock or system_clock
        # one implementation of "who is called next" (SPEC §4), leased under this process's name
        self._hopper = Hopper(sessions, claimer=settings.claimer, lease=timedelta(seconds=settings.lead_lease_s))
        self._gateway = gateway
        self._notifier = notifier
        self.settings = settings
        self._tracker = CallTracker(settings.connect_window_s)
        self._agents = AgentSessions()
        self._calls: dict[str, _Call] = {}  # live calls (dialling, ringing, answered, connected, previewed)
        self._wrapups: dict[str, _Call] = {}  # ended calls waiting for their disposition
        self._disposed: dict[str, DisposeResult] = {}  # by client_key
        self._campaigns: dict[int, _CampaignInfo] = {}
        self._writes: asyncio.Queue[tuple[Callable[[AsyncSession], Awaitable[Any]], asyncio.Future[Any] | None]] = (
            asyncio.Queue()
        )
        self._tasks: set[asyncio.Task[Any]] = set()
        self._main_tasks: list[asyncio.Task[Any]] = []
        self._writer_task: asyncio.Task[None] | None = None
        self._link_lost = False
        self._rr = 0
        self._started = False
        self._pacing: dict[int, CampaignPacing] = {}
        self._since: dict[int, float] = {}  # agent → loop time of their last state change
        self._loop0 = 0.0  # loop time and wall time at start: the PBX clock's origin
        self._wall0 = 0.0

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Load campaigns, free this process's stale lead claims, start the pump and the loops."""
        if self._started:
            return
        self._loop0 = self._now()
        self._wall0 = self._utc().timestamp()
        async with self._db() as s:
            for c in (await s.execute(select(Campaign))).scalars():
                self._campaigns[c.id] = _CampaignInfo.of(c)
            for info in self._campaigns.values():
                await self._seed_pacing(s, info)
            freed = await release_expired_claims(s, now=self._utc(), claimer=self.settings.claimer)
            await s.commit()
        if freed:
            log.warning("dialer: %d lead(s) left in progress by an earlier run were put back", freed)
        self._started = True
        self._writer_task = asyncio.create_task(self._writer(), name="dialer-writer")
        self._main_tasks = [
            asyncio.create_task(self._pump(), name="dialer-event-pump"),
            asyncio.create_task(self._campaign_loop(), name="dialer-campaign-loop"),
            asyncio.create_task(self._daily_reprioritise(), name="dialer-daily-reprioritise"),
        ]

    async def stop(self) -> None:
        """Stop dialing and the pump, finish queued database work (bounded by ``stop_timeout_s``)."""
        if not self._started:
            return
        self._started = False
        limit = self.settings.stop_timeout_s
        for task in self._main_tasks + list(self._tasks):
            task.cancel()
        pending = [t for t in self._main_tasks + list(self._tasks) if not t.done()]
        if pending:
            await asyncio.wait(pending, timeout=limit)
        for call in [c for c in self._calls.values() if not c.originated]:
            # previews on screen never dialled: their leads are due again at once for whoever runs next
            self._calls.pop(call.id, None)
            self._cancel_claimed(call.ref)
        for s in self._agents:
            if s.wrapup_timer is not None:
                s.wrapup_timer.cancel()
        if self._writer_task is not None:
            try:
                await asyncio.wait_for(self._writes.join(), limit)
            except TimeoutError:
                log.error("dialer: %d database write(s) not done within %g s at stop", self._writes.qsize(), limit)
            self._writer_task.cancel()
            await asyncio.wait([self._writer_task], timeout=limit)
            self._writer_task = None
        self._main_tasks = []

    def _spawn(self, coro: Awaitable[Any], name: str) -> None:
        task = asyncio.ensure_future(coro)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("dialer task %s failed", task.get_name(), exc_info=task.exception())

    # ------------------------------------------------------------------ database writer

    async def _writer(self) -> None:
        timeout = max(10.0, self.settings.stop_timeout_s)
        while True:
            fn, fut = await self._writes.get()
            try:
                async with self._db() as s:
                    result = await asyncio.wait_for(fn(s), timeout)
                    await s.commit()
                if fut is not None and not fut.done():
                    fut.set_result(result)
            except asyncio.CancelledError:
                if fut is not None and not fut.done():
                    fut.cancel()
                raise
            except Exception as exc:
                if fut is not None and not fut.done():
                    fut.set_exception(exc)
                else:
                    log.exception("dialer: database write failed")
            finally:
                self._writes.task_done()

    async def _write(self, fn: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run ``fn`` in the writer's order and return what it returned."""
        if self._writer_task is None:
            raise DialerUnavailable("O discador não está em funcionamento.")
        fut: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._writes.put_nowait((fn, fut))
        return await fut

    def _write_later(self, fn: Callable[[AsyncSession], Awaitable[Any]]) -> None:
        self._writes.put_nowait((fn, None))

    # ------------------------------------------------------------------ agent state

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    def _utc(self) -> datetime:
        """Now on the dialer's clock (UTC)."""
        return self._clock()

    def _wall(self, at: float) -> datetime:
        """The instant on the dialer's clock of a loop time ``at`` (when an AMI event was read)."""
        return self._clock() - timedelta(seconds=self._now() - at)

    def _change(
        self, s: AgentSession, trigger: Trigger, at: datetime | None = None, reason: PauseReason | None = None
    ) -> StateChange | None:
        """Apply ``trigger`` (raises InvalidTransition); store and notify a real change."""
        change = self._agents.transition(s, trigger, at if at is not None else self._utc(), self._now(), reason)
        if change is None:
            return None
        if change.after.state is not AgentState.READY and s.held_for is not None:
            s.held_for = None  # the owner of a callback in flight is no longer free for it
        self._notifier.agent_state(s.user_id, change.after, change.at)
        before, after = change.before.state.value, change.after.state.value
        if before != after:
            self._since[s.user_id] = self._now()
            if change.after.state is AgentState.READY and self._started:
                # after the caller's own bookkeeping: a call may be waiting for this agent
                asyncio.get_running_loop().call_soon(self._offer_waiting)
        why = change.after.pause_reason.value if change.after.pause_reason is not None else None
        if before != after:
            self._write_later(
                lambda db: record_state_change(
                    db, user_id=change.user_id, from_state=before, to_state=after, at=change.at, reason=why
                )
            )
        return change

    def _try_change(self, s: AgentSession, trigger: Trigger, at: datetime | None = None) -> StateChange | None:
        """For AMI-driven triggers: an impossible transition is logged, not raised."""
        try:
            return self._change(s, trigger, at)
        except InvalidTransition as exc:
            log.warning("agent %s: %s", s.user_id, exc)
            return None

    async def _session_of(self, user_id: int) -> AgentSession:
        s = self._agents.get(user_id)
        if s is not None:
            return s
        async with self._db() as db:
            user = await db.get(User, user_id)
        if user is None or not user.active:
            raise UnknownAgent(f"Usuário {user_id} não existe ou está desativado.")
        if user.role is not Role.AGENT and user.extension is None:
            raise NoExtension("Somente operadores com ramal podem entrar no discador.")
        if not user.extension or not user.endpoint:
            raise NoExtension("Seu usuário não tem ramal/telefone configurado; peça ao administrador.")
        return self._agents.add(AgentSession(user.id, user.full_name, user.extension, user.endpoint))

    # ------------------------------------------------------------------ façade: agent buttons

    async def go_ready(self, user_id: int) -> None:
        """"Disponível": call the agent's phone into their conference, or leave a pause."""
        s = await self._session_of(user_id)
        state = s.status.state
        if state is AgentState.OFFLINE:
            if not self._gateway.connected:
                raise DialerUnavailable("Sem conexão com a central telefônica; tente novamente em instantes.")
            self._change(s, Trigger.GO_READY)
            self._originate_leg(s)
            return
        try:
            self._change(s, Trigger.GO_READY)
        except InvalidTransition:
            raise NotAllowedNow(f"Não é possível ficar disponível agora (estado: {state.value}).") from None

    async def pause(self, user_id: int, reason: PauseReason) -> None:
        s = self._agents.require(user_id)
        try:
            reason = PauseReason(reason)
        except ValueError:
            allowed = ", ".join(r.value for r in PauseReason)
            raise InvalidDisposition("reason", f"motivo de pausa desconhecido {reason!r}; use um de: {allowed}") from None
        try:
            self._change(s, Trigger.PAUSE, reason=reason)
        except InvalidTransition:
            raise NotAllowedNow(f"Não é possível pausar agora (estado: {s.status.state.value}).") from None

    async def logout(self, user_id: int) -> None:
        """Leave the dialer: the agent's phone leg is hung up."""
        s = self._agents.get(user_id)
        if s is None:
            return
        if s.status.state in (AgentState.RESERVED, AgentState.ON_CALL):
            raise NotAllowedNow("Encerre a chamada em andamento antes de sair.")
        if s.status.state is AgentState.WRAP_UP:
            raise NotAllowedNow("Registre o resultado da última chamada antes de sair.")
        self._release_preview(s)
        self._change(s, Trigger.LOGOUT)
        channel = s.leg_channel
        if channel is not None:
            try:
                await self._gateway.hangup(Hangup(channel=channel))
            except AmiError as exc:
                log.warning("agent %s: hanging up leg %s failed: %s", user_id, channel, exc)

    async def hangup(self, user_id: int, call_id: str) -> None:
        """"Desligar": hang up the customer; the agent's own leg stays up."""
        s = self._agents.require(user_id)
        if s.call_id is None:
            raise NotOnCall("Você não está em uma chamada.")
        if s.call_id != call_id:
            raise WrongCall("Esta não é a sua chamada atual.")
        call = self._calls.get(call_id)
        if call is None or call.channel is None:
            raise NotOnCall("A chamada já terminou.")
        try:
            await self._gateway.hangup(Hangup(channel=call.channel))
        except AmiError as exc:
            raise DialerUnavailable(f"Não foi possível desligar: {exc}") from exc

    async def dial_preview(self, user_id: int, call_id: str) -> None:
        """"Ligar" on a preview: originate the customer straight into the agent's conference."""
        s = self._agents.require(user_id)
        if s.call_id != call_id:
            raise WrongCall("Esta não é a ficha que está na sua tela.")
        call = self._calls.get(call_id)
        if call is None or not call.preview:
            raise NotAllowedNow("Esta chamada não é de prévia.")
        if call.originated:
            raise NotAllowedNow("Esta chamada já foi discada.")
        if not s.leg_up:
            raise NotAllowedNow("Seu telefone não está conectado.")
        if not self._gateway.connected:
            raise DialerUnavailable("Sem conexão com a central telefônica; tente novamente em instantes.")
        call.originated = True
        action = self._customer_originate(call, AGENT_BRIDGE_CONTEXT, s.extension)
        at = self._utc()
        self._write_later(lambda db: update_call_attempt(db, call_id, originated_at=at))
        self._notifier.call_state(user_id, call_id, CallPhase.DIALING, at)
        self._spawn(self._run_originate(action), f"originate-{call_id}")

    async def dispose(self, user_id: int, d: Disposition) -> DisposeResult:
        """Store the outcome (once per ``d.client_key``), apply its effects, end wrap-up."""
        done = self._disposed.get(d.client_key)
        if done is not None:
            return DisposeResult(done.call_id, done.outcome_id, True, self.status(user_id))
        _validate_disposition(d, self._utc())
        s = self._agents.require(user_id)
        call = self._wrapups.get(d.call_id)
        if s.call_id != d.call_id or call is None or s.status.state is not AgentState.WRAP_UP:
            stored = await self._write(lambda db: get_outcome_by_key(db, d.client_key))
            if stored is not None and stored.attempt_id == d.call_id:
                return DisposeResult(d.call_id, stored.id, True, s.status)
            if s.call_id != d.call_id:
                raise WrongCall("Esta não é a sua chamada atual.")
            raise NotAllowedNow("O resultado só pode ser registrado depois que a chamada terminar.")
        at = self._utc()
        try:
            result = await self._write(lambda db: store_disposition(db, call.ref, d, agent_id=user_id, at=at))
        except AlreadyExists:
            raise NotAllowedNow("Esta chamada já tem um resultado registrado.") from None
        if not result.created:
            return DisposeResult(d.call_id, result.outcome_id, True, s.status)
        self._wrapups.pop(d.call_id, None)
        self._record_handle(call)
        if s.call_id == d.call_id and s.status.state is AgentState.WRAP_UP:
            if d.pause_after is not None:
                self._change(s, Trigger.PAUSE, at, PauseReason(d.pause_after))
            self._change(s, Trigger.DISPOSE, at)
        out = DisposeResult(d.call_id, result.outcome_id, False, s.status, result.next_attempt_at, result.callback_id)
        self._disposed[d.client_key] = out
        return out

    async def schedule_callback(
        self, user_id: int, customer_id: int, due_at: datetime, own: bool, notes: str | None
    ) -> int:
        """A callback for the customer of the agent's current call (SPEC §11: nobody else's)."""
        if due_at.tzinfo is None or due_at.utcoffset() is None:
            raise InvalidDisposition("due_at", "informe a data e a hora com fuso horário")
        if due_at <= self._utc():
            raise InvalidDisposition("due_at", "a data do retorno precisa estar no futuro")
        s = self._agents.require(user_id)
        call = self._calls.get(s.call_id or "") or self._wrapups.get(s.call_id or "")
        if call is None or call.ref.customer_id != customer_id:
            raise NotAllowedNow("Só é possível agendar retorno para o cliente da chamada atual.")
        ref = call.ref
        cb = await self._write(
            lambda db: add_callback(
                db,
                customer_id=customer_id,
                campaign_id=ref.campaign_id,
                due_at=due_at,
                owner_agent_id=user_id if own else None,
                created_by_id=user_id,
                phone_id=ref.phone_id,
                notes=notes,
            )
        )
        return int(cb.id)

    def status(self, user_id: int) -> AgentStatus:
        s = self._agents.get(user_id)
        return AgentStatus() if s is None else s.status

    def current_pop(self, user_id: int) -> ScreenPop | None:
        s = self._agents.get(user_id)
        return None if s is None else s.pop

    async def set_campaign_running(self, campaign_id: int, running: bool) -> None:
        async def flip(db: AsyncSession) -> Campaign:
            campaign = await db.get(Campaign, campaign_id)
            if campaign is None:
                raise DialerError(f"campanha {campaign_id} não existe")
            campaign.status = CampaignStatus.ACTIVE if running else CampaignStatus.PAUSED
            await db.flush()
            return campaign

        campaign = await self._write(flip)
        info = _CampaignInfo.of(campaign)
        self._campaigns[campaign_id] = info
        self._pacing_of(info).reconfigure(info.pacing_settings())
        if running:
            # a campaign paused since an earlier day has stale aging buckets
            await asyncio.wait_for(self._hopper.reprioritise(campaign_id, self._utc()), self.settings.reprioritise_timeout_s)

    # ------------------------------------------------------------------ façade: pacing (SPEC §5, §8)

    async def set_pacing(
        self,
        campaign_id: int,
        mode: CampaignMode | str,
        max_dial_level: float,
        abandon_cap: float,
        by_user: int | None,
        amd_enabled: bool | None = None,
    ) -> PacingSettings:
        """Change a campaign's pacing live (audited: who, before, after); in force from the next tick.

        ``amd_enabled`` None keeps the campaign's AMD setting. Raises
        :class:`~dialer.pacing.live.SettingsError` naming the bad field, or DialerError
        for an unknown campaign.
        """
        known = self._campaigns.get(campaign_id)
        wanted = PacingSettings(
            mode,  # type: ignore[arg-type]  # a CampaignMode or its value: validated there
            max_dial_level,
            abandon_cap,
            known.amd_enabled if amd_enabled is None and known is not None else bool(amd_enabled),
        )
        keep_amd = amd_enabled is None and known is None

        async def change(db: AsyncSession) -> tuple[CampaignPacingRow, CampaignPacingRow] | None:
            return await update_campaign_pacing(
                db,
                campaign_id,
                mode=CampaignMode(wanted.mode.value),
                max_dial_level=wanted.max_dial_level,
                abandon_cap=wanted.abandon_cap,
                amd_enabled=None if keep_amd else wanted.amd_enabled,
                user_id=by_user,
            )

        result = await self._write(change)
        if result is None:
            raise DialerError(f"campanha {campaign_id} não existe")
        after = result[1]
        info = self._campaigns.get(campaign_id)
        if info is None:
            async with self._db() as db:
                campaign = await db.get(Campaign, campaign_id)
                if campaign is None:
                    raise DialerError(f"campanha {campaign_id} não existe")
                info = _CampaignInfo.of(campaign)
                self._campaigns[campaign_id] = info
                await self._seed_pacing(db, info)
        info.apply(after)
        settings = info.pacing_settings()
        self._pacing_of(info).reconfigure(settings)
        log.info("campaign %s pacing set by user %s: %s", campaign_id, by_user, settings.as_dict())
        return settings

    def campaign_figures(self, campaign_id: int) -> PacingFigures | None:
        """The campaign's live pacing figures, or None for a campaign this dialer does not know."""
        info = self._campaigns.get(campaign_id)
        if info is None:
            return None
        floor = floor_of(self._agent_views(), self._call_views(campaign_id))
        return self._pacing_of(info).figures(campaign_id, running=info.running and self._started, floor=floor, pbx_now=self._pbx_time())

    # ------------------------------------------------------------------ pacing bridge

    def _pbx_time(self, at: float | None = None) -> float:
        """Epoch seconds on the PBX's clock for loop time ``at`` (now by default)."""
        loop_at = self._now() if at is None else at
        return self._wall0 + (loop_at - self._loop0) / self.settings.clock_scale

    def _pbx_s(self, loop_seconds: float) -> float:
        return max(0.0, loop_seconds) / self.settings.clock_scale

    def _pacing_of(self, info: _CampaignInfo) -> CampaignPacing:
        pacing = self._pacing.get(info.id)
        if pacing is None:
            pacing = CampaignPacing(
                info.pacing_settings(),
                ring_timeout_s=self.settings.ring_timeout_s,
                connect_window_s=self.settings.connect_window_s / self.settings.clock_scale,
            )
            self._pacing[info.id] = pacing
        return pacing

    async def _seed_pacing(self, db: AsyncSession, info: _CampaignInfo) -> None:
        """Today's and the last 30 days' live answers and abandons, today's short calls."""
        pacing = self._pacing_of(info)
        today = local_day(self._utc().timestamp(), BRASILIA_OFFSET_S)
        days = await abandon_days(
            db,
            info.id,
            first_day=today - timedelta(days=ABANDON_HISTORY_DAYS - 1),
            last_day=today,
            utc_offset_s=BRASILIA_OFFSET_S,
        )
        pacing.load_days(DayCounts(d.day, d.live, d.abandons) for d in days)
        start, end = day_bounds(today)
        rows = await short_calls_by_caller_id(db, info.id, start=start, end=end)
        pacing.load_short_calls(today, (ShortCalls(r.caller_id, r.completed, r.short) for r in rows))

    def _agent_views(self) -> list[AgentView]:
        views = []
        for s in self._agents:
            state = s.status.state
            since = self._since.get(s.user_id, 0.0)
            if state is AgentState.READY:
                # an agent held for their owned callback in flight is not in the pool
                views.append(AgentView(AgentPhase.READY if s.held_for is None else AgentPhase.AWAY, since))
            elif state in (AgentState.RESERVED, AgentState.ON_CALL):
                views.append(AgentView(AgentPhase.TALK, since))
            elif state is AgentState.WRAP_UP:
                views.append(AgentView(AgentPhase.WRAP, since))
        return views

    def _call_views(self, campaign_id: int | None = None) -> list[CallView]:
        """Calls as the pacer counts them (previews and owned callbacks have their agent)."""
        views = []
        for c in self._calls.values():
            if c.preview or c.owner_id is not None or c.amd_machine:
                continue
            if campaign_id is not None and c.campaign.id != campaign_id:
                continue
            if c.agent_id is not None or c.connected:
                phase = PacingCallPhase.WITH_AGENT
            elif not c.answered:
                phase = PacingCallPhase.RINGING
            elif c.amd_pending:
                phase = PacingCallPhase.IN_AMD
            else:
                phase = PacingCallPhase.WAITING
            views.append(CallView(phase, c.dialled_at))
        return views

    def _paced_calls(self, info: _CampaignInfo) -> int:
        """What the campaign's pacer launches now, for the floor as it is."""
        pacing = self._pacing_of(info)
        snap = build_snapshot(
            self._agent_views(),
            self._call_views(),
            now=self._now(),
            clock_scale=self.settings.clock_scale,
            pacing=pacing,
            pbx_now=self._pbx_time(),
        )
        return pacing.decide(snap).calls

    def _record_handle(self, call: _Call) -> None:
        """A connected call was disposed: its talk and wrap-up times feed the pacer's statistics."""
        if not call.connected or call.ended_at is None:
            return
        pacing = self._pacing.get(call.campaign.id)
        if pacing is not None:
            pacing.handle_done(call.talk_s, self._pbx_s(self._now() - call.ended_at))

    # ------------------------------------------------------------------ AMI actions

    def _originate_leg(self, s: AgentSession) -> None:
        action_id = new_action_id()
        channel_id = f"{action_id}-agent"
        s.leg_action_id = action_id
        self._tracker.expect_agent_leg(action_id, s.extension, channel_id=channel_id)
        action = Originate(
            channel=s.endpoint,
            context=AGENT_BRIDGE_CONTEXT,
            exten=s.extension,
            timeout_ms=int(self.settings.agent_ring_timeout_s * 1000),
            caller_id=f"Cobra <{s.extension}>",
            channel_id=channel_id,
            action_id=action_id,
        )
        self._spawn(self._run_originate(action), f"agent-leg-{s.user_id}")

    def _customer_originate(self, call: _Call, context: str, exten: str) -> Originate:
        digits = call.number.lstrip("+")
        channel = call.campaign.dial_template.replace("{number}", digits)
        attempt_id = call.id
        self._tracker.expect_call(attempt_id, channel_id=attempt_id, other_channel_id=f"{attempt_id}-2")
        return Originate(
            channel=channel,
            context=context,
            exten=exten,
            timeout_ms=int(self.settings.ring_timeout_s * 1000),
            caller_id=call.campaign.caller_id,
            variables={
                CALL_VARIABLE: attempt_id,
                CONNECT_WINDOW_VARIABLE: f"{self.settings.connect_window_s:g}",
            },
            channel_id=attempt_id,
            other_channel_id=f"{attempt_id}-2",
            action_id=attempt_id,
        )

    async def _run_originate(self, action: Originate) -> None:
        """Send an originate; an action Asterisk never took becomes a failure the tracker reports."""
        try:
            result = await self._gateway.originate(action)
        except (AmiLinkLost, AmiTimeout) as exc:
            log.warning("originate %s: %s (reconciled when the link is back)", action.action_id, exc)
            return
        except (AmiNotConnected, AmiError) as exc:
            log.warning("originate %s not sent: %s", action.action_id, exc)
            self._refused(action)
            return
        if not result.queued:
            log.warning("originate %s refused: %s", action.action_id, result.error)
            self._refused(action)

    def _refused(self, action: Originate) -> None:
        response = ami.OriginateResponse(
            action.action_id, False, 0, action.channel, action.context or "", action.exten or "", None
        )
        self._handle_all(self._tracker.feed(response, self._now()))

    async def _redirect(self, channel: str, extension: str, call_id: str) -> None:
        try:
            await self._gateway.redirect(Redirect(channel=channel, context=AGENT_BRIDGE_CONTEXT, exten=extension))
        except AmiError as exc:
            # the customer hung up meanwhile, or the link dropped: the events say what follows
            log.warning("call %s: redirect to %s failed: %s", call_id, extension, exc)

    async def _record(self, channel: str, path: Path, call_id: str) -> None:
        try:
            await self._gateway.mix_monitor(MixMonitor(channel=channel, file=str(path)))
        except AmiError as exc:
            log.warning("call %s: MixMonitor failed: %s", call_id, exc)

    # ------------------------------------------------------------------ event pump

    async def _pump(self) -> None:
        async for item in self._gateway.events():
            try:
                if isinstance(item, Received):
                    self._handle_all(self._tracker.feed(item.event, item.at))
                elif isinstance(item, LinkChanged):
                    if item.state is LinkState.UP:
                        if self._link_lost:
                            self._link_lost = False
                            await self._reconcile()
                    else:
                        self._link_lost = True
                elif isinstance(item, EventsLost):
                    await self._reconcile()
            except Exception:
                log.exception("dialer: handling %r failed", item)

    async def _reconcile(self) -> None:
        try:
            channels = await self._gateway.core_show_channels()
        except AmiError as exc:
            log.warning("dialer: reconcile after link change failed: %s", exc)
            return
        self._handle_all(self._tracker.reconcile(channels, self._now()))

    def _handle_all(self, events: list[DomainEvent]) -> None:
        for e in events:
            try:
                self._handle(e)
            except Exception:
                log.exception("dialer: handling %r failed", e)

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
        s = self._agents.by_extension(e.extension)
        if s is None:
            return
        s.leg_up = True
        s.leg_channel = e.channel
        if s.status.state is AgentState.OFFLINE:
            # logged out while the phone was still being called: hang it up now
            self._spawn(self._gateway.hangup(Hangup(channel=e.channel)), f"agent-leg-hangup-{s.user_id}")
            return
        if s.status.state is AgentState.CONNECTING:
            self._try_change(s, Trigger.LEG_UP, self._wall(e.at))

    def _on_leg_gone(self, e: AgentLegDown | AgentLegFailed) -> None:
        s = self._agents.by_extension(e.extension)
        if s is None:
            return
        s.leg_up = False
        s.leg_channel = None
        s.leg_action_id = None
        if s.status.state is AgentState.OFFLINE:
            return
        self._release_preview(s)
        self._try_change(s, Trigger.LEG_DOWN, self._wall(e.at))
        if isinstance(e, AgentLegFailed):
            self._notifier.error(
                s.user_id,
                "agent_leg_failed",
                f"Não foi possível chamar o seu telefone ({s.endpoint}). Verifique o aparelho e clique em Disponível de novo.",
            )

    def _on_answered(self, e: CallAnswered) -> None:
        call = self._calls.get(e.attempt_id)
        if call is None:
            return
        call.channel = e.channel
        call.answered = True
        call.answered_at = e.at
        at = self._wall(e.at)
        if call.preview:
            if call.agent_id is not None:
                self._notifier.call_state(call.agent_id, call.id, CallPhase.CONNECTING, at)
            self._store_answered(call, e, at)
            return
        if call.amd:
            # AMD listens first; the verdict decides (SPEC §5)
            call.amd_pending = True
            self._store_answered(call, e, at)
            return
        self._dial_result(call, DialResult.LIVE, e.at)
        call.routable_at = e.at
        self._route(call, at)
        self._store_answered(call, e, at)

    def _route(self, call: _Call, at: datetime) -> bool:
        """Give an answered person to a free agent: pop, then Redirect. False when nobody is free."""
        user_id = pick_agent(self._agents.candidates(), call.id, call.owner_id)
        if call.owner_id is not None and user_id != call.owner_id:
            owner = self._agents.get(call.owner_id)
            if owner is not None and owner.held_for == call.id:
                owner.held_for = None
        call.owner_id = None
        if user_id is None or call.channel is None:
            # nobody free: it waits; past the connect window the dialplan drops it (abandon)
            return False
        s = self._agents.get(user_id)
        assert s is not None
        s.held_for = None
        self._change(s, Trigger.RESERVE, at)
        call.agent_id = user_id
        s.call_id = call.id
        pop = self._pop_for(call, at)
        s.pop = pop
        # the pop goes out before the Redirect is even queued (SPEC §3)
        self._notifier.screen_pop(user_id, pop)
        self._notifier.call_state(user_id, call.id, CallPhase.CONNECTING, at)
        self._spawn(self._redirect(call.channel, s.extension, call.id), f"redirect-{call.id}")
        return True

    def _offer_waiting(self) -> None:
        """Agents just became ready: connect answered people still waiting within the window, oldest first."""
        if not self._started:
            return
        now = self._now()
        limit = self.settings.connect_window_s * OFFER_WINDOW_SHARE
        waiting = sorted(
            (
                c
                for c in self._calls.values()
                if c.routable_at is not None
                and c.agent_id is None
                and not c.connected
                and not c.preview
                and now - c.routable_at < limit
            ),
            key=lambda c: c.routable_at or 0.0,
        )
        for call in waiting:
            if not self._route(call, self._utc()):
                return

    def _on_amd(self, e: AmdDetected) -> None:
        call = self._calls.get(e.attempt_id)
        if call is None:
            return
        status, cause = e.status[:20], e.cause[:80]
        self._write_later(lambda db: update_call_attempt(db, call.id, amd_status=status, amd_cause=cause or None))
        call.amd_machine = e.is_machine
        if not call.amd_pending:
            return
        call.amd_pending = False
        pacing = self._pacing.get(call.campaign.id)
        answered_at = call.answered_at if call.answered_at is not None else e.at
        if e.is_machine:
            # the dialplan hangs up on a machine: not a live answer, not an abandon
            self._dial_result(call, DialResult.MACHINE, answered_at)
            if pacing is not None:
                pacing.amd_verdict(False)
            return
        if status not in AMD_PERSON:
            return  # HANGUP: the customer left while AMD listened; CallEnded follows
        self._dial_result(call, DialResult.LIVE, answered_at)
        if pacing is not None:
            pacing.amd_verdict(True)
        call.routable_at = e.at
        self._route(call, self._wall(e.at))

    def _dial_result(self, call: _Call, result: DialResult, at: float) -> None:
        if call.preview:
            return  # an agent chose when to dial it: not a sample of the list's behaviour
        pacing = self._pacing.get(call.campaign.id)
        if pacing is not None:
            pacing.dial_result(result, self._pbx_s(at - call.dialled_at))

    def _store_answered(self, call: _Call, e: CallAnswered, at: datetime) -> None:
        agent_id = call.agent_id
        self._write_later(
            lambda db: store_answered(db, call.id, at=at, channel=e.channel, uniqueid=e.uniqueid, agent_id=agent_id)
        )

    def _on_connected(self, e: CallConnected) -> None:
        call = self._calls.get(e.attempt_id)
        if call is None:
            return
        call.connected = True
        at = self._wall(e.at)
        s = self._agents.by_extension(e.agent_extension)
        if s is None or s.call_id != call.id:
            log.error("call %s joined conference %s of an agent not reserved for it", call.id, e.conference)
            return
        self._try_change(s, Trigger.CONNECT, at)
        self._notifier.call_state(s.user_id, call.id, CallPhase.CONNECTED, at)
        path: Path | None = None
        if self.settings.recording and self.settings.recordings_dir is not None and call.channel is not None:
            path = self.settings.recordings_dir / f"{call.id}.wav"
            self._spawn(self._record(call.channel, path, call.id), f"record-{call.id}")
        agent_id, agent_channel, rec = s.user_id, s.leg_channel, None if path is None else str(path)
        self._write_later(
            lambda db: store_connected(db, call.id, at=at, agent_id=agent_id, agent_channel=agent_channel, recording_path=rec)
        )

    def _finish_for_agent(self, call: _Call, result: str, cause: int | None, at: datetime) -> None:
        """The call is over: its agent (if any) goes to wrap-up, or back to ready if never connected."""
        for s in self._agents:
            if s.held_for == call.id:
                s.held_for = None
        if call.agent_id is None:
            return
        s = self._agents.get(call.agent_id)
        if s is None or s.call_id != call.id:
            return
        self._notifier.call_ended(s.user_id, call.id, result, cause, at)
        if s.status.state is AgentState.ON_CALL or (s.status.state is AgentState.WRAP_UP and call.connected):
            self._try_change(s, Trigger.CALL_END, at)
            self._wrapups[call.id] = call
            if self.settings.wrapup_max_s is not None:
                loop = asyncio.get_running_loop()
                s.wrapup_timer = loop.call_later(self.settings.wrapup_max_s, self._wrapup_expired, s.user_id, call.id)
        elif s.status.state is AgentState.RESERVED:
            self._try_change(s, Trigger.RELEASE, at)

    def _on_ended(self, e: CallEnded) -> None:
        call = self._calls.pop(e.attempt_id, None)
        if call is None:
            return
        at = self._wall(e.at)
        if e.abandoned:
            result = CallResult.ABANDONED.value
        elif e.connected:
            result = CallResult.CONNECTED.value
        elif call.amd_machine:
            result = CallResult.MACHINE.value
        else:
            result = CallResult.ANSWERED.value
        call.ended_at = e.at
        call.talk_s = self._pbx_s(e.talk_s)
        self._finish_for_agent(call, result, e.cause, at)
        machine = call.amd_machine
        duration_s = self._pbx_s(e.duration_s)
        pacing = self._pacing.get(call.campaign.id)
        if pacing is not None:
            pacing.call_ended(
                self._pbx_time(e.at),
                live=e.answered and not machine,
                abandoned=e.abandoned,
                duration_s=duration_s,
                caller_id=call.campaign.caller_id,
            )
        self._write_later(
            lambda db: store_ended(
                db,
                call.ref,
                at=at,
                cause=e.cause,
                connected=e.connected,
                abandoned=e.abandoned,
                duration_s=duration_s,
                amd_machine=machine,
            )
        )

    def _on_failed(self, e: CallFailed) -> None:
        call = self._calls.pop(e.attempt_id, None)
        if call is None:
            return
        at = self._wall(e.at)
        result = e.reason.value
        failed_as = _FAILED_AS.get(e.reason)
        if failed_as is not None:
            self._dial_result(call, failed_as, e.at)
        self._finish_for_agent(call, result, None, at)
        self._write_later(
            lambda db: store_failed(db, call.ref, result=result, originate_reason=e.originate_reason, at=at)
        )

    def _wrapup_expired(self, user_id: int, call_id: str) -> None:
        s = self._agents.get(user_id)
        if s is None or s.call_id != call_id or s.status.state is not AgentState.WRAP_UP:
            return
        s.wrapup_timer = None
        at = self._utc()
        call = self._wrapups.pop(call_id, None)
        if call is not None:
            self._record_handle(call)
        self._try_change(s, Trigger.DISPOSE, at)
        self._write_later(lambda db: store_wrapup_timeout(db, call_id, at=at))

    def _release_preview(self, s: AgentSession) -> None:
        """An agent leaving with a preview on screen that was never dialled gives the lead back."""
        call = self._calls.get(s.call_id or "")
        if call is None or not call.preview or call.originated:
            return
        self._calls.pop(call.id, None)
        self._cancel_claimed(call.ref)

    def _cancel_claimed(self, ref: AttemptRef) -> None:
        at = self._utc()

        async def cancel(db: AsyncSession) -> None:
            await update_call_attempt(db, ref.attempt_id, result=CallResult.CANCELLED, ended_at=at)
            if ref.lead_id is not None:
                # never dialled: due again at once, and the hopper does not count it
                await release_lead(db, ref.lead_id, now=at, last_result="cancelled", next_attempt_at=at)
            if ref.callback_id is not None:
                await reopen_callback(db, ref.callback_id, due_at=at)

        self._write_later(cancel)

    # ------------------------------------------------------------------ campaigns

    async def _campaign_loop(self) -> None:
        # the day's ranking first: aging buckets moved while the dialer was down
        await self._reprioritise_running()
        while True:
            await asyncio.sleep(self.settings.tick_s)
            if not self._gateway.connected:
                continue  # dialing pauses while the AMI link is down (SPEC §11)
            try:
                await asyncio.wait_for(self._tick(), timeout=max(5.0, 10 * self.settings.tick_s))
            except TimeoutError:
                log.error("dialer: a campaign tick took too long and was cut short")
            except Exception:
                log.exception("dialer: campaign tick failed")

    async def _tick(self) -> None:
        running = [c for c in sorted(self._campaigns.values(), key=lambda c: c.id) if c.running]
        previews = [c.id for c in running if c.mode is CampaignMode.PREVIEW]
        for user_id, campaign_id in agents_for_preview(self._agents.candidates(), previews):
            if not await self._start_preview(user_id, self._campaigns[campaign_id]):
                break
        dialers = [c.id for c in running if c.mode in (CampaignMode.PROGRESSIVE, CampaignMode.PREDICTIVE)]
        if not dialers:
            return
        self._rr += 1
        progressive = [c.id for c in running if c.mode is CampaignMode.PROGRESSIVE]
        if progressive:
            free = len(free_agents(self._agents.candidates()))
            waiting = sum(1 for c in self._calls.values() if c.waiting)
            n = calls_to_place(free, waiting)
            # predictive campaigns take their share through their pacer, below
            shares = share_out(n, dialers, self._rr)
            for campaign_id in progressive:
                await self._place_calls(self._campaigns[campaign_id], shares[campaign_id])
        predictive = [c.id for c in running if c.mode is CampaignMode.PREDICTIVE]
        for i in range(len(predictive)):
            if not self._started:
                return
            info = self._campaigns[predictive[(self._rr + i) % len(predictive)]]
            # each pacer sees the calls the campaigns before it just placed
            await self._place_calls(info, self._paced_calls(info))


    async def _claim(
        self, campaign: _CampaignInfo, owners: list[int], agent_id: int | None, count: int = 1
    ) -> list[_Call]:
        """Claim up to ``count`` leads through the hopper, then read their pop data and create their attempts.

        ``owners``: ready agents whose owned callbacks may be taken (one per claim, in turn);
        ``agent_id``: the agent a preview is for. The attempts are one writer job for the
        batch: a predictive tick that launches several calls does not queue behind other
        writes once per call. Leads claimed but not turned into attempts go back at once.
        """
        settings = self.settings
        mode = campaign.mode
        preview = mode is CampaignMode.PREVIEW
        leads: list[ClaimedLead] = []
        try:
            for i in range(count):
                owner = owners[i % len(owners)] if owners else None
                lead = await self._hopper.claim_next(
                    campaign.id, self._utc(), agent_id=agent_id if agent_id is not None else owner, preview=preview
                )
                if lead is None:
                    break
                leads.append(lead)
        except BaseException:
            await self._give_back(leads)
            raise
        if not leads:
            return []

        async def attempts(db: AsyncSession) -> list[tuple[ClaimedLead, PopData, str]]:
            now = self._utc()
            local = now.astimezone(BRASILIA)
            day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
            out = []
            for lead in leads:
                data = await load_pop_data(db, lead.customer_id, now=now, day_start=day_start)
                attempt_id = new_attempt_id()
                await store_new_attempt(
                    db,
                    self._ref(attempt_id, lead, preview),
                    mode=mode,
                    number=lead.e164,
                    caller_id=campaign.caller_id,
                    pbx_name=settings.pbx_name,
                    agent_id=agent_id,
                    originated_at=None if preview else now,
                    created_at=now,
                )
                out.append((lead, data, attempt_id))
            return out

        try:
            stored = await self._write(attempts)
        except BaseException:
            await self._give_back(leads)
            raise
        return [
            _Call(self._ref(attempt_id, lead, preview), campaign, lead.e164, data, preview=preview, owner_id=lead.owner_agent_id)
            for lead, data, attempt_id in stored
        ]

    @staticmethod
    def _ref(attempt_id: str, lead: ClaimedLead, preview: bool) -> AttemptRef:
        return AttemptRef(
            attempt_id, lead.lead_id, lead.customer_id, lead.phone_id, lead.campaign_id, lead.callback_id, preview
        )

    async def _give_back(self, leads: list[ClaimedLead]) -> None:
        """Release claimed leads that never became attempts (due again at once), bounded in time."""
        if not leads:
            return
        now = self._utc()

        async def release_all() -> None:
            for lead in leads:
                await self._hopper.release(lead.lead_id, now)
            taken = [lead.callback_id for lead in leads if lead.callback_id is not None]
            if taken:
                async with self._db() as db:
                    for callback_id in taken:
                        await reopen_callback(db, callback_id, due_at=now)
                    await db.commit()

        try:
            # shielded: this runs when the claim itself was cancelled (stop, tick timeout)
            await asyncio.shield(asyncio.wait_for(release_all(), self.settings.stop_timeout_s))
        except (TimeoutError, asyncio.CancelledError):
            log.error("dialer: %d claimed lead(s) not released; their lease frees them", len(leads))
        except Exception:
            log.exception("dialer: releasing %d claimed lead(s) failed; their lease frees them", len(leads))

    async def _place_calls(self, campaign: _CampaignInfo, count: int) -> None:
        """Claim up to ``count`` leads and originate them (fewer when the campaign runs out)."""
        if count <= 0 or not self._started or not campaign.dials:
            return
        owners = await self._owners_first(campaign, [a.user_id for a in free_agents(self._agents.candidates())])
        for call in await self._claim(campaign, owners, None, count):
            self._originate_claimed(campaign, call)

    async def _owners_first(self, campaign: _CampaignInfo, owners: list[int]) -> list[int]:
        """Ready agents with an owned callback due come first: their claims take those callbacks.

        The hopper hands an owned callback only to a claim made for its agent, and any other
        claim that meets the lead first sets it aside for a while (the owner's grace).
        """
        if not owners:
            return owners
        async with self._db() as db:
            due = set(
                (
                    await db.execute(
                        select(Callback.owner_agent_id).where(
                            Callback.owner_agent_id.in_(owners),
                            Callback.campaign_id == campaign.id,
                            Callback.done_at.is_(None),
                            Callback.due_at <= self._utc(),
                        )
                    )
                ).scalars()
            )
        return sorted(owners, key=lambda a: a not in due)

    async def _reprioritise_running(self) -> None:
        """Re-rank the leads of every running campaign (aging buckets move with the calendar)."""
        for info in sorted(self._campaigns.values(), key=lambda c: c.id):
            if not info.running:
                continue
            try:
                count = await asyncio.wait_for(
                    self._hopper.reprioritise(info.id, self._utc()), self.settings.reprioritise_timeout_s
                )
                log.info("dialer: campaign %s re-ranked (%d leads)", info.id, count)
            except TimeoutError:
                log.error("dialer: re-ranking campaign %s took over %g s; cut short", info.id, self.settings.reprioritise_timeout_s)
            except Exception:
                log.exception("dialer: re-ranking campaign %s failed", info.id)

    async def _daily_reprioritise(self) -> None:
        """After each local midnight (Brasília), re-rank the running campaigns' leads."""
        while True:
            now = self._utc()
            midnight = datetime.combine(now.astimezone(BRASILIA).date() + timedelta(days=1), dt_time(0), tzinfo=BRASILIA)
            # a little past midnight, so the new day's buckets are the ones computed
            await asyncio.sleep((midnight - now).total_seconds() + 1.0)
            await self._reprioritise_running()

    def _originate_claimed(self, campaign: _CampaignInfo, call: _Call) -> None:
        if not self._started or not self._gateway.connected or not campaign.dials:
            # stopped, link lost, or paused / switched to manual or preview while the lead was read
            self._cancel_claimed(call.ref)
            return
        if call.owner_id is not None:
            owner = self._agents.get(call.owner_id)
            if owner is not None and owner.status.state is AgentState.READY and owner.held_for is None:
                owner.held_for = call.id
            else:
                call.owner_id = None  # the owner left meanwhile: whoever is free takes it
        self._calls[call.id] = call
        call.originated = True
        call.dialled_at = self._now()
        call.amd = campaign.amd_enabled
        action = self._customer_originate(call, AMD_CONTEXT if call.amd else OUTBOUND_CONTEXT, "s")
        self._spawn(self._run_originate(action), f"originate-{call.id}")

    async def _start_preview(self, user_id: int, campaign: _CampaignInfo) -> bool:
        """Reserve the agent with the next lead and show its pop; False when there is no lead."""
        claimed = await self._claim(campaign, [user_id], user_id)
        if not claimed:
            return False
        call = claimed[0]
        s = self._agents.get(user_id)
        if s is None or s.status.state is not AgentState.READY or s.held_for is not None:
            self._cancel_claimed(call.ref)  # the agent changed state while the lead was read
            return True
        at = self._utc()
        call.agent_id = user_id
        call.owner_id = None
        self._calls[call.id] = call
        self._change(s, Trigger.RESERVE, at)
        s.call_id = call.id
        pop = self._pop_for(call, at)
        s.pop = pop
        self._notifier.screen_pop(user_id, pop)
        self._notifier.call_state(user_id, call.id, CallPhase.PREVIEW, at)
        return True

    def _pop_for(self, call: _Call, at: datetime) -> ScreenPop:
        return build_screen_pop(
            call.pop_data,
            call_id=call.id,
            campaign_id=call.campaign.id,
            campaign_name=call.campaign.name,
            mode=call.campaign.mode.value,
            phone_e164=call.number,
            at=at,
            today_local=at.astimezone(BRASILIA).date(),
        )


def _validate_disposition(d: Disposition, now: datetime) -> None:
    """Refuse a disposition the form must fix, naming the field (pt-BR messages)."""
    if not d.client_key or len(d.client_key) > 64:
        raise InvalidDisposition("client_key", "chave de idempotência ausente ou longa demais (máx. 64)")
    try:
        code = OutcomeCode(d.code)
    except ValueError:
        allowed = ", ".join(c.value for c in OutcomeCode)
        raise InvalidDisposition("code", f"resultado desconhecido {d.code!r}; use um de: {allowed}") from None
    today = now.astimezone(BRASILIA).date()
    if code is OutcomeCode.PROMESSA:
        if d.promise_amount is None or d.promise_amount <= 0:
            raise InvalidDisposition("promise_amount", "informe o valor prometido (maior que zero)")
        if d.promise_date is None:
            raise InvalidDisposition("promise_date", "informe a data da promessa")
        if d.promise_date < today:
            raise InvalidDisposition("promise_date", "a data da promessa não pode estar no passado")
    if code is OutcomeCode.RETORNAR:
        if d.callback_at is None:
            raise InvalidDisposition("callback_at", "informe a data e a hora do retorno")
        if d.callback_at.tzinfo is None or d.callback_at.utcoffset() is None:
            raise InvalidDisposition("callback_at", "informe a data e a hora com fuso horário")
        if d.callback_at <= now - timedelta(minutes=1):
            raise InvalidDisposition("callback_at", "a data do retorno precisa estar no futuro")
    if d.notes is not None and len(d.notes) > 4000:
        raise InvalidDisposition("notes", "observação longa demais (máx. 4000 caracteres)")
    if d.pause_after is not None:
        try:
            PauseReason(d.pause_after)
        except ValueError:
            raise InvalidDisposition("pause_after", f"motivo de pausa desconhecido {d.pause_after!r}") from None

