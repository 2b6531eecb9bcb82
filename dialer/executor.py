"""Carrying out the floor's effects: AMI actions, agent-desk notices, database writes, timers.

The only place where a :class:`~dialer.floor.model.Floor` decision meets I/O. Notices and
timers are immediate (the notifier only enqueues); database writes go to the
:class:`~dialer.writer.DbWriter` in the order the floor emitted them; AMI actions run as
short tasks this object owns, each bounded by the gateway's action timeout, and cancelled by
:meth:`EffectRunner.stop`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dialer.agents.desktop import AgentNotifier
from dialer.agents.state import AgentState
from dialer.ami.gateway import AmiGateway
from dialer.calls.refs import AttemptRef
from dialer.calls.services import (
    store_answered,
    store_connected,
    store_ended,
    store_failed,
    store_wrapup_timeout,
)
from dialer.errors import AmiError, AmiLinkLost, AmiNotConnected, AmiTimeout
from dialer.floor import effects as fx
from dialer.floor.model import Floor
from dialer.writer import DbWriter
from storage.models import CallResult
from storage.repositories.agent_states import record_state_change
from storage.repositories.audit import record
from storage.repositories.call_attempts import set_call_attempt, update_call_attempt
from storage.repositories.callbacks import reopen_callback
from storage.repositories.leads import release_lead
from storage.repositories.recordings import close_recording_gap, open_recording_gap

log = logging.getLogger(__name__)


class EffectRunner:
    def __init__(self, floor: Floor, gateway: AmiGateway, notifier: AgentNotifier, writer: DbWriter) -> None:
        self.floor = floor
        self.gateway = gateway
        self.notifier = notifier
        self.writer = writer
        self._tasks: set[asyncio.Task[Any]] = set()
        self._timers: dict[int, asyncio.TimerHandle] = {}  # agent → wrap-up maximum
        self._guards: dict[str, asyncio.TimerHandle] = {}  # call → connect guard
        # called when an agent turns ready (the scheduler's wake: dial for them now, not at the next tick)
        self.on_agent_ready: Callable[[int], None] | None = None

    def apply(self, effects: Iterable[fx.Effect]) -> None:
        for e in effects:
            try:
                self._apply_one(e)
            except Exception:
                log.exception("dialer: carrying out %r failed", e)

    async def stop(self, timeout: float) -> None:
        for handle in [*self._timers.values(), *self._guards.values()]:
            handle.cancel()
        self._timers.clear()
        self._guards.clear()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)

    def spawn(self, coro: Awaitable[Any], name: str) -> None:
        task = asyncio.ensure_future(coro)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("dialer task %s failed", task.get_name(), exc_info=task.exception())

    # ------------------------------------------------------------------ dispatch

    def _apply_one(self, e: fx.Effect) -> None:
        n = self.notifier
        if isinstance(e, fx.NotifyState):
            n.agent_state(e.user_id, e.status, e.at)
            if e.status.state is AgentState.READY and self.on_agent_ready is not None:
                self.on_agent_ready(e.user_id)
        elif isinstance(e, fx.NotifyPop):
            n.screen_pop(e.user_id, e.pop)
        elif isinstance(e, fx.NotifyPhase):
            n.call_state(e.user_id, e.call_id, e.phase, e.at)
        elif isinstance(e, fx.NotifyEnded):
            n.call_ended(e.user_id, e.call_id, e.result, e.cause, e.at)
        elif isinstance(e, fx.NotifyError):
            n.error(e.user_id, e.code, e.message)
        elif isinstance(e, fx.SendOriginate):
            self.spawn(self._originate(e), e.what)
        elif isinstance(e, fx.SendRedirect):
            self.spawn(self._redirect(e), f"redirect-{e.call_id}")
        elif isinstance(e, fx.SendHangup):
            self.spawn(self._action(self.gateway.hangup(e.action), f"hangup ({e.why})"), "hangup")
        elif isinstance(e, fx.SendRecord):
            self.spawn(
                self._action(self.gateway.mix_monitor(e.action), f"call {e.call_id}: MixMonitor"), f"record-{e.call_id}"
            )
        elif isinstance(e, fx.SendRecordMute):
            what = "MixMonitorMute on" if e.action.muted else "MixMonitorMute off"
            self.spawn(self._action(self.gateway.mix_monitor_mute(e.action), f"call {e.call_id}: {what}"), f"mute-{e.call_id}")
        elif isinstance(e, fx.StartWrapupTimer):
            old = self._timers.pop(e.user_id, None)
            if old is not None:
                old.cancel()
            self._timers[e.user_id] = asyncio.get_running_loop().call_later(
                e.delay_s, self._wrapup_expired, e.user_id, e.call_id
            )
        elif isinstance(e, fx.CancelWrapupTimer):
            handle = self._timers.pop(e.user_id, None)
            if handle is not None:
                handle.cancel()
        elif isinstance(e, fx.StartConnectTimer):
            loop = asyncio.get_running_loop()
            self._guards[e.call_id] = loop.call_later(e.delay_s, self._connect_expired, e.user_id, e.call_id)
        elif isinstance(e, fx.CancelConnectTimer):
            guard = self._guards.pop(e.call_id, None)
            if guard is not None:
                guard.cancel()
        else:
            self.writer.later(store_job(e))

    def _connect_expired(self, user_id: int, call_id: str) -> None:
        self._guards.pop(call_id, None)
        self.apply(self.floor.connect_expired(user_id, call_id))

    def _wrapup_expired(self, user_id: int, call_id: str) -> None:
        self._timers.pop(user_id, None)
        self.apply(self.floor.wrapup_expired(user_id, call_id))

    async def _originate(self, e: fx.SendOriginate) -> None:
        """Send an originate; an action Asterisk never took becomes a failure the tracker reports."""
        action = e.action
        try:
            result = await self.gateway.originate(action)
        except (AmiLinkLost, AmiTimeout) as exc:
            log.warning("originate %s: %s (reconciled when the link is back)", action.action_id, exc)
            return
        except (AmiNotConnected, AmiError) as exc:
            log.warning("originate %s not sent: %s", action.action_id, exc)
            self.apply(self.floor.originate_refused(action))
            return
        if not result.queued:
            log.warning("originate %s refused: %s", action.action_id, result.error)
            self.apply(self.floor.originate_refused(action))

    async def _redirect(self, e: fx.SendRedirect) -> None:
        """Move the customer to the agent; a Redirect Asterisk refused (or that was never sent) frees the agent now."""
        try:
            await self.gateway.redirect(e.action)
        except (AmiLinkLost, AmiTimeout) as exc:
            # it may have been carried out: the customer's join, their Hangup or the connect guard settles it
            log.warning("call %s: redirect outcome unknown: %s", e.call_id, exc)
        except AmiError as exc:
            # refused ("Channel does not exist": the customer hung up or the dialplan's window dropped them), or not sent
            log.warning("call %s: redirect failed: %s", e.call_id, exc)
            self.apply(self.floor.redirect_failed(e.user_id, e.call_id, str(exc)))

    @staticmethod
    async def _action(call: Awaitable[Any], what: str) -> None:
        try:
            await call
        except AmiError as exc:
            # the channel went meanwhile, or the link dropped: the events say what follows
            log.warning("%s failed: %s", what, exc)


def store_job(e: fx.Effect) -> Callable[[AsyncSession], Awaitable[Any]]:
    """The database work for a store effect (one writer job)."""
    if isinstance(e, fx.StoreStateChange):
        return lambda db: record_state_change(
            db, user_id=e.user_id, from_state=e.from_state, to_state=e.to_state, at=e.at, reason=e.reason, flush=False
        )
    if isinstance(e, fx.StoreOriginated):
        return lambda db: set_call_attempt(db, e.call_id, originated_at=e.at)
    if isinstance(e, fx.StoreAnswered):
        return lambda db: store_answered(
            db, e.call_id, at=e.at, channel=e.channel, uniqueid=e.uniqueid, agent_id=e.agent_id
        )
    if isinstance(e, fx.StoreConnected):
        return lambda db: store_connected(
            db, e.call_id, at=e.at, agent_id=e.agent_id, agent_channel=e.agent_channel, recording_path=e.recording_path
        )
    if isinstance(e, fx.StoreAmd):
        return lambda db: set_call_attempt(db, e.call_id, amd_status=e.status, amd_cause=e.cause)
    if isinstance(e, fx.StoreEnded):
        return lambda db: store_ended(
            db,
            e.ref,
            at=e.at,
            cause=e.cause,
            connected=e.connected,
            abandoned=e.abandoned,
            duration_s=e.duration_s,
            amd_machine=e.amd_machine,
            ringing_at=e.ringing_at,
            side=e.side,
        )
    if isinstance(e, fx.StoreFailed):
        return lambda db: store_failed(
            db, e.ref, result=e.result, originate_reason=e.originate_reason, at=e.at, cause=e.cause, ringing_at=e.ringing_at
        )
    if isinstance(e, fx.StoreCancelled):
        return lambda db: cancel_claimed(db, e.ref, e.at)
    if isinstance(e, fx.StoreWrapupTimeout):
        return lambda db: store_wrapup_timeout(db, e.call_id, at=e.at)
    if isinstance(e, fx.StoreRecordingGap):
        if e.muted:
            return lambda db: open_recording_gap(db, e.call_id, e.offset_s, e.step_id)
        return lambda db: close_recording_gap(db, e.call_id, e.offset_s)
    if isinstance(e, fx.StoreAudit):
        return lambda db: record(
            db, user_id=e.user_id, action=e.action, entity=e.entity, entity_id=e.entity_id, after=e.after, at=e.at
        )
    raise TypeError(f"not a store effect: {e!r}")


async def cancel_claimed(db: AsyncSession, ref: AttemptRef, at: Any) -> None:
    """A claimed lead never dialled: the attempt is cancelled, the lead due again at once, its callback reopened."""
    await update_call_attempt(db, ref.attempt_id, result=CallResult.CANCELLED, ended_at=at)
    if ref.lead_id is not None:
        # never dialled: due again at once, and the hopper does not count it
        await release_lead(db, ref.lead_id, now=at, last_result="cancelled", next_attempt_at=at)
    if ref.callback_id is not None:
        await reopen_callback(db, ref.callback_id, due_at=at)
