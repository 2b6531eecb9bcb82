"""The dialer at run time: wiring around the floor model (see :mod:`dialer.floor`).

:class:`DialerRuntime` is the façade the web layer drives (agent buttons, campaign and
pacing changes) and the composition of named parts, each with one job:

- :class:`~dialer.floor.model.Floor` — the one owner of agents, legs, calls and campaigns'
  dialing state (pure);
- :class:`~dialer.executor.EffectRunner` — carries out the floor's effects (AMI actions,
  agent-desk notices, database writes, timers);
- :class:`~dialer.writer.DbWriter` — database work one transaction at a time, in order,
  retried while the database is busy;
- :class:`~dialer.scheduler.CampaignScheduler` — re-reads campaigns every tick, claims
  leads through the hopper, re-ranks daily;
- the **event pump** (here): the only consumer of ``gateway.events()``; feeds the floor in
  order and reconciles with ``CoreShowChannels`` at start-up and after every reconnect.

Every background task is created in :meth:`DialerRuntime.start` and cancelled, with a
timeout, by :meth:`DialerRuntime.stop`. One clock (``clock``, the dialer's "now") is used
for every decision and stored time; AMI events carry the loop time they were read at.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialer.agents.desktop import AgentNotifier, Disposition, ScreenPop
from dialer.agents.services import (
    AgentError,
    DialerUnavailable,
    InvalidDisposition,
    NoExtension,
    NotAllowedNow,
    NotOnCall,
    UnknownAgent,
    WrongCall,
)
from dialer.agents.state import AgentStatus, PauseReason
from dialer.ami.gateway import AmiGateway, EventsLost, LinkChanged, LinkState, Received
from dialer.calls.refs import AttemptRef
from dialer.calls.services import build_screen_pop, store_disposition
from dialer.clocks import system_clock
from dialer.errors import AmiError, DialerError
from dialer.executor import EffectRunner
from dialer.floor import effects as fx
from dialer.floor.calls import FloorCall
from dialer.floor.identity import IdentityAttempt, IdentityMethod
from dialer.floor.model import Floor, KnownAgent
from dialer.floor.monitoring import MonitorMode, MonitorSession
from dialer.floor.recovery import Orphan
from dialer.floor.session import CallSession, ScriptBook
from dialer.floor.settings import DialerSettings
from dialer.floor.snapshot import FloorSnapshot
from dialer.leads.hopper import Hopper
from dialer.pacing.live import PacingFigures, PacingSettings
from dialer.qa.services import flag_call
from dialer.scheduler import CampaignScheduler
from dialer.writer import DbWriter
from storage.errors import AlreadyExists
from storage.models import CampaignMode, CampaignStatus, Role, User
from storage.repositories.callbacks import add_callback
from storage.repositories.campaigns import set_campaign_status
from storage.repositories.leads import release_expired_claims
from storage.repositories.outcomes import get_outcome_by_key
from storage.repositories.pacing import update_campaign_pacing
from storage.repositories.recovery import (
    claimers,
    open_attempts,
    release_claims_of,
    unfinished_wrapups,
)
from storage.repositories.screen_pop import PopData, load_pop_data

log = logging.getLogger(__name__)

LEASE_UPKEEP_S = 60.0  # how often live calls' leases are renewed and expired ones given back
# an agent's call that ended with no outcome this long before a restart is put back on their screen
WRAPUP_RESUME_WINDOW = timedelta(hours=12)
BRASILIA = ZoneInfo("America/Sao_Paulo")


def _process_gone(claimer: str) -> bool:
    """Whether a lease owner (``host:pid``) is a process of this host that no longer runs."""
    host, _, pid = claimer.rpartition(":")
    if host != socket.gethostname()[:40] or not pid.isdigit() or int(pid) == os.getpid():
        return False  # another host's process: its leases expire by themselves
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False

# The negotiation the desk stores with the outcome, in the same transaction (agreement or promise, script run)
NegotiationJob = Callable[[AsyncSession], Awaitable[dict[str, Any]]]

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


@dataclass(frozen=True, slots=True)
class DisposeResult:
    """What ``dispose`` did: ``duplicate`` when the key had already been stored."""

    call_id: str
    outcome_id: int
    duplicate: bool
    status: AgentStatus
    next_attempt_at: datetime | None = None
    callback_id: int | None = None
    stored: dict[str, Any] | None = None  # what the negotiation job stored with it (agreement_id, ...)


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
        scripts: ScriptBook | None = None,
        read_sessions: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        """``clock``: the dialer's "now" (UTC, aware) for every decision and stored time; tests move it.
        ``scripts``: which script each campaign's calls run (the web layer keeps it fresh on publish).
        ``read_sessions``: sessions that only read (the pop data of claimed leads); default ``sessions``."""
        self._db = sessions
        self._clock = clock or system_clock
        self._gateway = gateway
        self.settings = settings
        self.floor = Floor(settings, wall=self._clock, mono=time.monotonic, scripts=scripts)
        self.writer = DbWriter(sessions, job_timeout_s=max(10.0, settings.stop_timeout_s))
        self.runner = EffectRunner(self.floor, gateway, notifier, self.writer)
        # one implementation of "who is called next" (SPEC §4), leased under this process's name
        hopper = Hopper(sessions, claimer=settings.claimer, lease=timedelta(seconds=settings.lead_lease_s))
        self.scheduler = CampaignScheduler(
            sessions=sessions,
            floor=self.floor,
            runner=self.runner,
            writer=self.writer,
            hopper=hopper,
            clock=self._clock,
            link_up=lambda: gateway.connected,
            read_sessions=read_sessions,
        )
        self.runner.on_agent_ready = lambda _user_id: self.scheduler.wake()
        self._tasks: list[asyncio.Task[Any]] = []
        self._disposing: dict[tuple[int, str], asyncio.Future[DisposeResult]] = {}
        self.disposition_failures = 0  # outcomes of agents freed before the write that could not be stored
        self._pacing_lock = asyncio.Lock()
        self._link_lost = False
        self._started_at = 0.0  # loop time of start: link changes queued before it are history
        self._recovered = False  # what an earlier run left open is settled once, with the PBX's listing

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Load campaigns, free stale lead claims, adopt agent legs, start the pump and the loops."""
        if self.floor.running:
            return
        self.floor.pacing.set_origin(self._clock().timestamp())
        await self.scheduler.refresh()
        async with self._db() as s:
            now = self._clock()
            freed = await release_expired_claims(s, now=now, claimer=self.settings.claimer)
            gone = [c for c in await claimers(s) if _process_gone(c)]
            freed += await release_claims_of(s, gone, now=now)
            await s.commit()
        if freed:
            log.warning("dialer: %d lead(s) left in progress by an earlier run were put back", freed)
        self.writer.start()
        self.floor.running = True
        self.floor.link_up = self._gateway.connected
        self._link_lost = not self.floor.link_up
        self._started_at = asyncio.get_running_loop().time()
        if self.floor.link_up:
            await self._reconcile()
        self._tasks = [
            asyncio.create_task(self._pump(), name="dialer-event-pump"),
            asyncio.create_task(self.scheduler.campaign_loop(), name="dialer-campaign-loop"),
            asyncio.create_task(self.scheduler.daily_reprioritise(), name="dialer-daily-reprioritise"),
            asyncio.create_task(self.scheduler.lease_loop(LEASE_UPKEEP_S), name="dialer-lease-upkeep"),
        ]
        for task in self._tasks:
            task.add_done_callback(self._task_ended)

    def _task_ended(self, task: asyncio.Task[Any]) -> None:
        """A background task that ends while the dialer runs is a fault: say so, never silently."""
        if task.cancelled() or not self.floor.running:
            return
        exc = task.exception()
        if exc is not None:
            log.critical("dialer: background task %s died; restart the service", task.get_name(), exc_info=exc)
        elif task.get_name() != "dialer-event-pump":  # the pump ends after the gateway's STOPPED
            log.critical("dialer: background task %s ended while the dialer runs", task.get_name())

    async def stop(self) -> None:
        """Stop dialing and the pump, finish queued database work (bounded by ``stop_timeout_s``)."""
        if not self.floor.running:
            return
        limit = self.settings.stop_timeout_s
        self.runner.apply(self.floor.stop())
        # the scheduler's loops end after the work in hand (a claim or a write cut in the middle would
        # leave a lead leased or a connection half-closed); only the pump is cancelled
        self.scheduler.stop()
        scheduled = self._tasks[1:]
        if scheduled:
            await asyncio.wait(scheduled, timeout=limit)
        # calls in progress may finish (the pump still runs); what is still live is handed back
        deadline = asyncio.get_running_loop().time() + limit
        while self.floor.calls and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        if self.floor.calls:
            log.warning("dialer: %d call(s) still live at stop: their records are closed", len(self.floor.calls))
        self.runner.apply(self.floor.hand_back())
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=limit)
        self._tasks = []
        await self.runner.stop(limit)
        await self.writer.stop(limit)

    # ------------------------------------------------------------------ event pump

    async def _pump(self) -> None:
        async for item in self._gateway.events():
            try:
                if isinstance(item, Received):
                    self.runner.apply(self.floor.ami_event(item.event, item.at))
                elif isinstance(item, LinkChanged):
                    if item.at < self._started_at:
                        continue  # the connect that preceded start(), already reconciled there
                    up = item.state is LinkState.UP
                    self.floor.link_up = up
                    if up and self._link_lost:
                        self._link_lost = False
                        log.info("dialer: AMI link back; reconciling calls and agent legs, dialing resumes")
                        await self._bounded_reconcile()
                    elif not up and not self._link_lost:
                        self._link_lost = True
                        log.warning("dialer: AMI link down (%s); dialing paused", item.reason or item.state.value)
                elif isinstance(item, EventsLost):
                    await self._bounded_reconcile()
            except Exception:
                log.exception("dialer: handling %r failed", item)

    async def _bounded_reconcile(self) -> None:
        # the pump feeds every AMI event to the floor: a reconcile stuck on the database must not hold it
        limit = max(30.0, 3 * self.settings.stop_timeout_s)
        try:
            await asyncio.wait_for(self._reconcile(), limit)
        except TimeoutError:
            log.error("dialer: reconciling with the PBX took over %g s; cut short (the next link change retries)", limit)

    async def _reconcile(self) -> None:
        try:
            channels = await self._gateway.core_show_channels()
        except AmiError as exc:
            log.warning("dialer: reconciling with the PBX failed: %s", exc)
            return
        agents = await self._known_agents()
        self.runner.apply(self.floor.reconcile(channels, agents))
        if not self._recovered:
            # the first time the PBX can be asked: what an earlier run left open is settled against it
            self._recovered = True
            await self._recover(channels, agents)

    async def _recover(self, channels: list[Any], agents: list[KnownAgent]) -> None:
        """Close or follow the attempts an earlier run left open; put its unfinished wrap-ups back on screen."""
        pbx = self.settings.pbx_name
        rows = await self.writer.run(lambda db: open_attempts(db, pbx))
        orphans = [
            Orphan(
                AttemptRef(r.id, r.lead_id, r.customer_id, r.phone_id, r.campaign_id, None, r.mode is CampaignMode.PREVIEW),
                originated=r.originated_at is not None,
                answered=r.answered_at is not None,
                connected=r.connected_at is not None,
            )
            for r in rows
        ]
        if orphans:
            log.warning("dialer: %d call(s) left open by an earlier run: settling them with the PBX", len(orphans))
            self.runner.apply(self.floor.settle_orphans(orphans, channels))
        by_id = {a.user_id: a for a in agents}
        since = self._clock() - WRAPUP_RESUME_WINDOW

        async def wrapups(db: AsyncSession) -> list[tuple[Any, PopData]]:
            # queued behind the orphans' stores: the calls they just closed are found too
            now = self._clock()
            day_start = now.astimezone(BRASILIA).replace(hour=0, minute=0, second=0, microsecond=0)
            found = []
            for r in await unfinished_wrapups(db, pbx, since=since):
                if r.customer_id is not None and r.agent_id in by_id:
                    found.append((r, await load_pop_data(db, r.customer_id, now=now, day_start=day_start)))
            return found

        for r, data in await self.writer.run(wrapups):
            campaign = self.floor.campaigns.get(r.campaign_id)
            if campaign is None:
                continue
            at = self._clock()
            pop = build_screen_pop(
                data, call_id=r.id, campaign_id=campaign.id, campaign_name=campaign.name, mode=campaign.mode.value,
                phone_e164=r.number, at=at, today_local=at.astimezone(BRASILIA).date(),
                other_question=self.settings.identity_question,
            )
            ref = AttemptRef(r.id, r.lead_id, r.customer_id, r.phone_id, r.campaign_id, None, r.mode is CampaignMode.PREVIEW)
            call = FloorCall(ref, campaign, r.number, pop, preview=ref.preview, originated=True, answered=True)
            log.info("agent %s: call %s ended with no outcome in an earlier run: back on their screen", r.agent_id, r.id)
            self.runner.apply(self.floor.resume_wrap_up(by_id[r.agent_id], call))

    async def _known_agents(self) -> list[KnownAgent]:
        async with self._db() as db:
            rows = (
                await db.execute(
                    select(User).where(User.active.is_(True), User.extension.is_not(None), User.endpoint.is_not(None))
                )
            ).scalars()
            return [KnownAgent(u.id, u.full_name, u.extension, u.endpoint) for u in rows if u.extension and u.endpoint]

    # ------------------------------------------------------------------ façade: agent buttons

    async def _session_of(self, user_id: int) -> None:
        if self.floor.agents.get(user_id) is not None:
            return
        async with self._db() as db:
            user = await db.get(User, user_id)
        if user is None or not user.active:
            raise UnknownAgent(f"Usuário {user_id} não existe ou está desativado.")
        if user.role is not Role.AGENT and user.extension is None:
            raise NoExtension("Somente operadores com ramal podem entrar no discador.")
        if not user.extension or not user.endpoint:
            raise NoExtension("Seu usuário não tem ramal/telefone configurado; peça ao administrador.")
        # a concurrent "Disponível" may have added it while we read: add_agent keeps the first
        self.floor.add_agent(KnownAgent(user.id, user.full_name, user.extension, user.endpoint))

    async def go_ready(self, user_id: int) -> None:
        """ "Disponível": call the agent's phone into their conference (unless it is already there), or leave a pause."""
        await self._session_of(user_id)
        self.runner.apply(self.floor.go_ready(user_id))

    async def pause(self, user_id: int, reason: PauseReason | str) -> None:
        try:
            reason = PauseReason(reason)
        except ValueError:
            allowed = ", ".join(r.value for r in PauseReason)
            raise InvalidDisposition(
                "reason", f"motivo de pausa desconhecido {reason!r}; use um de: {allowed}"
            ) from None
        self.runner.apply(self.floor.pause(user_id, reason))

    async def logout(self, user_id: int) -> None:
        """Leave the dialer: the agent's phone leg is hung up."""
        self.runner.apply(self.floor.logout(user_id))

    async def hangup(self, user_id: int, call_id: str) -> None:
        """ "Desligar": hang up the customer; the agent's own leg stays up."""
        for e in self.floor.hangup(user_id, call_id):
            assert isinstance(e, fx.SendHangup)
            try:
                await self._gateway.hangup(e.action)
            except AmiError as exc:
                raise DialerUnavailable(f"Não foi possível desligar: {exc}") from exc

    async def dial_preview(self, user_id: int, call_id: str) -> None:
        """ "Ligar" on a preview: originate the customer straight into the agent's conference."""
        self.runner.apply(self.floor.dial_preview(user_id, call_id))

    async def dispose(
        self,
        user_id: int,
        d: Disposition,
        negotiation: NegotiationJob | None = None,
        *,
        ready_first: bool = False,
    ) -> DisposeResult:
        """Store the outcome with its effects and ``negotiation`` in one transaction, once per key; end wrap-up.

        The work belongs to the runtime, not to the caller: a caller that stops waiting does
        not cancel it, and a retry with the same key joins it (or finds it stored).

        ``ready_first``: the caller checked everything that could refuse this disposition (the
        outcome code's fields, and ``negotiation`` only records, it never refuses): the wrap-up
        ends at once and the agent is free for the next call while the outcome is written
        behind the writer's queue (at 200 agents that queue held each agent ~0.4 s per call,
        issue 10). The write is still awaited (the answer carries the stored ids), waits out a
        busy database for as long as it takes, and a failure is logged, counted
        (``disposition_failures``) and shown to the agent. A crash before the commit leaves
        the call as a wrap-up timeout would (the attempt's system result; the lead's lease
        frees it), as for the other queued writes.
        """
        key = (user_id, d.client_key)
        running = self._disposing.get(key)
        if running is not None:
            return await asyncio.shield(running)
        try:
            ticket = self.floor.begin_dispose(user_id, d)
        except (WrongCall, NotAllowedNow):
            stored = await self.writer.run(lambda db: get_outcome_by_key(db, d.client_key, agent_id=user_id))
            if stored is not None and stored.attempt_id == d.call_id and stored.agent_id == user_id:
                return DisposeResult(d.call_id, stored.id, True, self.floor.status(user_id))
            raise
        task = asyncio.ensure_future(self._store_disposition(ticket, negotiation, ready_first))
        self._disposing[key] = task
        task.add_done_callback(lambda _: self._disposing.pop(key, None))
        return await asyncio.shield(task)

    async def _store_disposition(
        self, ticket: fx.DisposeTicket, negotiation: NegotiationJob | None, ready_first: bool
    ) -> DisposeResult:
        d = ticket.disposition

        async def job(db: AsyncSession) -> tuple[Any, dict[str, Any]]:
            extra = await negotiation(db) if negotiation is not None else {}
            stored = await store_disposition(db, ticket.ref, d, agent_id=ticket.user_id, at=ticket.at)
            if stored.created:  # QA flags commit with the outcome they judge
                await flag_call(db, ticket.ref.attempt_id, short_call_s=self.settings.qa_short_call_s, at=ticket.at,
                                clock_scale=self.settings.qa_time_scale or self.settings.clock_scale)
            return stored, extra

        if ready_first:
            # queued before the agent is freed: the next call's claim is written after this outcome
            stored_later = asyncio.ensure_future(self.writer.run(job, durable=True))
            self.runner.apply(self.floor.dispose_done(ticket))
        try:
            result, extra = await (stored_later if ready_first else self.writer.run(job))
        except AlreadyExists:
            if ready_first:
                log.warning("agent %s: call %s already had an outcome; this one (%s) was not stored",
                            ticket.user_id, d.call_id, d.code)
            else:
                self.floor.dispose_aborted(ticket)
            raise NotAllowedNow("Esta chamada já tem um resultado registrado.") from None
        except BaseException as exc:
            if ready_first:
                self._disposition_lost(ticket, exc)
            else:
                self.floor.dispose_aborted(ticket)
            raise
        if not ready_first:
            # stored (now or by an earlier try of the same key): the wrap-up is over either way
            self.runner.apply(self.floor.dispose_done(ticket))
        status = self.floor.status(ticket.user_id)
        return DisposeResult(
            d.call_id, result.outcome_id, not result.created, status, result.next_attempt_at, result.callback_id, extra
        )

    def _disposition_lost(self, ticket: fx.DisposeTicket, exc: BaseException) -> None:
        """An outcome the agent was freed on could not be stored: said loudly, to the log, the metrics and the agent."""
        self.disposition_failures += 1
        d = ticket.disposition
        log.error(
            "agent %s: the outcome %s of call %s was NOT stored (%s); the call keeps its system result",
            ticket.user_id, d.code, d.call_id, exc.__class__.__name__,
            exc_info=exc if isinstance(exc, Exception) else None,
        )
        self.runner.apply([fx.NotifyError(
            ticket.user_id, "disposition_not_stored",
            f"O resultado da chamada {d.call_id} ({d.code}) não foi gravado; avise a supervisão.",
        )])

    async def schedule_callback(
        self, user_id: int, customer_id: int, due_at: datetime, own: bool, notes: str | None
    ) -> int:
        """A callback for the customer of the agent's current call (SPEC §11: nobody else's)."""
        if due_at.tzinfo is None or due_at.utcoffset() is None:
            raise InvalidDisposition("due_at", "informe a data e a hora com fuso horário")
        if due_at <= self._clock():
            raise InvalidDisposition("due_at", "a data do retorno precisa estar no futuro")
        ref = self.floor.callback_ref(user_id, customer_id)
        cb = await self.writer.run(
            lambda db: add_callback(
                db,
                customer_id=customer_id,
                campaign_id=ref.campaign_id,
                due_at=due_at,
                owner_agent_id=user_id if own else None,
                created_by_id=user_id,
                phone_id=ref.phone_id,
                notes=notes,
                at=self._clock(),
            )
        )
        return int(cb.id)

    @property
    def link_up(self) -> bool:
        return self.floor.link_up

    def status(self, user_id: int) -> AgentStatus:
        return self.floor.status(user_id)

    def current_pop(self, user_id: int) -> ScreenPop | None:
        return self.floor.current_pop(user_id)

    def session_of(self, user_id: int, call_id: str) -> CallSession | None:
        """The call session (pop, script run, identity, quote) of the agent's current call ``call_id``."""
        return self.floor.session_of(user_id, call_id)

    def verify_identity(
        self, user_id: int, call_id: str, method: IdentityMethod, answer: str
    ) -> tuple[CallSession, IdentityAttempt]:
        """Check the identity answer for the agent's current call (raises WrongCall, IdentityRefused)."""
        result = self.floor.verify_identity(user_id, call_id, method, answer)
        self.script_moved(user_id, call_id)  # a match may have moved the script run
        return result

    def override_identity(self, user_id: int, call_id: str, reason: str) -> CallSession:
        """Release the agent's current call without a match, with a reason supervisors see."""
        session = self.floor.override_identity(user_id, call_id, reason)
        self.script_moved(user_id, call_id)  # the release may have moved the script run
        return session

    def script_moved(self, user_id: int, call_id: str) -> None:
        """The agent's script run moved: the call's recording is muted on sensitive steps, unmuted off them."""
        self.runner.apply(self.floor.script_moved(user_id, call_id))

    def identity_confirmed_at(self, user_id: int, call_id: str) -> datetime | None:
        session = self.floor.session_of(user_id, call_id)
        return None if session is None else session.identity_confirmed_at

    def now(self) -> datetime:
        """The dialer's clock (the one every part of the service should read)."""
        return self._clock()

    # ------------------------------------------------------------------ façade: campaigns and pacing (SPEC §5, §8)

    async def campaign_changed(self, campaign_id: int) -> None:
        """Re-read ``campaign_id`` from the database now (a REST or CLI change); the loop also does it every tick."""
        await self.scheduler.refresh(campaign_id)

    async def set_campaign_running(self, campaign_id: int, running: bool, by_user: int | None = None) -> None:
        """Start or pause a campaign (audited like the REST API and the CLI do); in force at once."""
        status = CampaignStatus.ACTIVE if running else CampaignStatus.PAUSED
        changed = await self.writer.run(
            lambda db: set_campaign_status(db, campaign_id, status, user_id=by_user, at=self._clock(), source="dialer")
        )
        if changed is None:
            raise DialerError(f"campanha {campaign_id} não existe")
        await self.campaign_changed(campaign_id)

    async def set_pacing(
        self,
        campaign_id: int,
        mode: CampaignMode | str,
        max_dial_level: float,
        abandon_cap: float,
        by_user: int | None,
        amd_enabled: bool | None = None,
    ) -> PacingSettings:
        """Change a campaign's pacing live (audited: who, before, after); in force at once.

        ``amd_enabled`` None keeps the campaign's AMD setting. Raises
        :class:`~dialer.pacing.live.SettingsError` naming the bad field, or DialerError
        for an unknown campaign. Changes are serialised: two at once never merge stale values.
        """
        async with self._pacing_lock:
            known = self.floor.campaigns.get(campaign_id)
            wanted = PacingSettings(
                mode,  # type: ignore[arg-type]  # a CampaignMode or its value: validated there
                max_dial_level,
                abandon_cap,
                known.amd_enabled if amd_enabled is None and known is not None else bool(amd_enabled),
            )
            keep_amd = amd_enabled is None and known is None
            result = await self.writer.run(
                lambda db: update_campaign_pacing(
                    db,
                    campaign_id,
                    mode=CampaignMode(wanted.mode.value),
                    max_dial_level=wanted.max_dial_level,
                    abandon_cap=wanted.abandon_cap,
                    amd_enabled=None if keep_amd else wanted.amd_enabled,
                    user_id=by_user,
                    at=self._clock(),
                )
            )
            if result is None:
                raise DialerError(f"campanha {campaign_id} não existe")
            await self.campaign_changed(campaign_id)
            info = self.floor.campaigns[campaign_id]
            settings = info.pacing_settings()
            log.info("campaign %s pacing set by user %s: %s", campaign_id, by_user, settings.as_dict())
            return settings

    # ------------------------------------------------------------------ façade: listen / whisper / barge (SPEC §3, §8)

    async def monitor(self, supervisor_user_id: int, agent_user_id: int, mode: MonitorMode | str) -> MonitorSession:
        """Ring the supervisor's phone into ChanSpy on the agent's leg (audited).

        Raises :class:`~dialer.floor.monitoring.MonitorRefused` (code + pt-BR message): no
        phone on the supervisor's user, a session already open, the agent's leg not up, the
        agent monitored by someone else, the AMI link down; ValueError for an unknown mode.
        """
        mode = MonitorMode(mode)
        async with self._db() as db:
            user = await db.get(User, supervisor_user_id)
        endpoint = user.endpoint if user is not None and user.active else None
        self.runner.apply(self.floor.monitor(supervisor_user_id, endpoint, agent_user_id, mode))
        session = self.floor.monitors.of_supervisor(supervisor_user_id)
        assert session is not None
        return session

    def stop_monitor(self, supervisor_user_id: int) -> bool:
        """Hang up the supervisor's spy channel; False when they monitor nobody."""
        if self.floor.monitors.of_supervisor(supervisor_user_id) is None:
            return False
        self.runner.apply(self.floor.stop_monitor(supervisor_user_id))
        return True

    def floor_snapshot(self) -> FloorSnapshot:
        """Every agent and campaign now, for the wallboard and ``GET /api/v1/floor``."""
        return self.floor.snapshot()

    def campaign_figures(self, campaign_id: int) -> PacingFigures | None:
        """The campaign's live pacing figures, or None for a campaign this dialer does not know."""
        info = self.floor.campaigns.get(campaign_id)
        if info is None:
            return None
        return self.floor.pacing.figures(
            info, list(self.floor.agents), list(self.floor.calls.values()), running=info.running and self.floor.running
        )
