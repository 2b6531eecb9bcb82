"""The campaign scheduler: reads campaigns, claims leads through the hopper, re-ranks daily.

It owns three background tasks (started and cancelled by :class:`~dialer.runtime.DialerRuntime`):

- the **campaign loop**: every ``tick_s`` (≤ 1 s) it first re-reads the campaigns table
  (so a start, pause, stop, mode or pacing change made by any process — the REST API, the
  CLI, another server — is in force within a tick), then, while the AMI link is up, asks the
  floor what to claim (previews, then progressive calls, then each predictive campaign in
  turn, each stage seeing the calls the one before placed) and hands the claimed leads back;
- the **daily re-ranking**: aging buckets move with the calendar, so the leads of running
  campaigns are re-ranked before the first tick and just after each local midnight;
- nothing else: the floor decides, the :class:`~dialer.executor.EffectRunner` acts.

A failure never wedges a campaign (the loops catch everything but cancellation): each
campaign's claim runs on its own, bounded in time, so a campaign whose picks keep failing
(a bad stored policy, a broken connection) neither stops the tick nor starves the campaigns
after it; it waits with backoff (:class:`~dialer.backoff.Backoff`) and is tried again. A
whole tick that fails (the campaigns could not be read) backs off the same way. A run of
failures is logged once, with its traceback, and once more when the work succeeds again.

Screen-pop data is read when the lead is claimed (one fixed set of indexed queries), so
when the customer answers the pop is ready at once (SPEC §3, §10 P1). The leads of one claim
are read together (:func:`~storage.repositories.screen_pop.load_pop_data_many`, one fixed set
of queries for all of them) on a read session, before the writer's transaction that creates
their attempts: eight queries per lead, lead after lead inside that transaction, kept a
tick's calls from being dialled for over a second at 200 agents (issue 10).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Hashable
from datetime import datetime, timedelta
from datetime import time as dt_time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialer.backoff import Backoff
from dialer.calls.refs import AttemptRef
from dialer.calls.services import build_screen_pop
from dialer.executor import EffectRunner
from dialer.floor import effects as fx
from dialer.floor.calls import FloorCall
from dialer.floor.campaigns import CampaignInfo, DialMode
from dialer.floor.model import Floor
from dialer.leads.hopper import ClaimedLead, Hopper
from dialer.pacing.live import (
    BRASILIA_OFFSET_S,
    DayCounts,
    ShortCalls,
    day_bounds,
    local_day,
)
from dialer.scripts_catalog import refresh_campaign_scripts
from dialer.writer import DbWriter
from storage.models import Callback, Campaign, CampaignMode, new_attempt_id
from storage.repositories.hopper import NewAttempt
from storage.repositories.leads import release_expired_claims
from storage.repositories.pacing import abandon_days, short_calls_by_caller_id
from storage.repositories.recovery import renew_claims
from storage.repositories.screen_pop import PopData, load_pop_data_many

log = logging.getLogger(__name__)

BRASILIA = ZoneInfo("America/Sao_Paulo")
ABANDON_HISTORY_DAYS = 30
FIRST_RETRY_S = 0.5  # a failed claim or tick is tried again after this, doubling on each failure in a row
MAX_RETRY_S = 30.0
CLAIM_CHUNK = 10  # claims in one transaction at most (one pick is ~1 ms of SQLite; a chunk holds the lock ~10 ms)
WAKE_COALESCE_S = 0.005  # a wake waits this long for the other readies of its burst (one pass for all)
TICK_KEY = "tick"
LEASES_KEY = "leases"


def campaign_info(c: Campaign) -> CampaignInfo:
    status = c.status.value if hasattr(c.status, "value") else str(c.status)
    return CampaignInfo(
        id=c.id,
        name=c.name,
        mode=DialMode(c.mode.value if hasattr(c.mode, "value") else c.mode),
        dial_template=c.dial_template,
        caller_id=c.caller_id or None,
        status=status,
        max_dial_level=float(c.max_dial_level),
        abandon_cap=float(c.abandon_cap),
        amd_enabled=bool(c.amd_enabled),
        script_key=c.script_key,
        record=bool(c.record),
    )


class CampaignScheduler:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        floor: Floor,
        runner: EffectRunner,
        writer: DbWriter,
        hopper: Hopper,
        clock: Callable[[], datetime],
        link_up: Callable[[], bool],
        mono: Callable[[], float] = time.monotonic,
        read_sessions: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        """``mono``: a monotonic clock in seconds, for the retry backoff only (never stored);
        ``read_sessions``: sessions that only read (on SQLite they take no lock); default ``sessions``."""
        self._db = sessions
        self._read = read_sessions or sessions
        self.floor = floor
        self.runner = runner
        self.writer = writer
        self.hopper = hopper
        self._clock = clock
        self._link_up = link_up
        self.settings = floor.settings
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()  # set by wake() and stop(): the campaign loop does not wait for its tick
        self._woken = False
        self.wake_passes = 0  # dialing passes run on a wake rather than a tick (for tests and metrics)
        self._mono = mono
        # the scheduler owns its retries: per campaign for claims, per loop for whole ticks / lease upkeep
        self.claim_backoff = Backoff(first_s=FIRST_RETRY_S, max_s=MAX_RETRY_S)
        self.loop_backoff = Backoff(first_s=FIRST_RETRY_S, max_s=MAX_RETRY_S)

    # ------------------------------------------------------------------ campaigns

    async def refresh(self, campaign_id: int | None = None) -> None:
        """Re-read campaigns (one, or all) and apply what changed; a campaign turned running is re-ranked first."""
        # a read session: on SQLite a write session takes the write lock up front, and every tick
        # waited behind the writer's transactions for a read (issue 10)
        async with self._read() as db:
            query = select(Campaign)
            if campaign_id is not None:
                query = query.where(Campaign.id == campaign_id)
            infos = [campaign_info(c) for c in (await db.execute(query)).scalars()]
            for info in infos:
                before = self.floor.campaigns.get(info.id)
                if before is None:
                    await self._seed_pacing(db, info)
        if any(self.floor.campaigns.get(i.id, None) is not None and self.floor.campaigns[i.id].script_key != i.script_key
               for i in infos):
            # a campaign was given another script (by any process): its next calls run it
            await refresh_campaign_scripts(self._db, self.floor.scripts)
        for info in infos:
            before = self.floor.campaigns.get(info.id)
            if before == info:
                continue
            if info.running and before is not None and not before.running:
                # a campaign paused since an earlier day has stale aging buckets
                await self._reprioritise(info)
            self.runner.apply(self.floor.campaign_changed(info))

    async def _seed_pacing(self, db: AsyncSession, info: CampaignInfo) -> None:
        """Today's and the last 30 days' live answers and abandons, today's short calls."""
        pacing = self.floor.pacing.of(info)
        today = local_day(self._clock().timestamp(), BRASILIA_OFFSET_S)
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

    # ------------------------------------------------------------------ the loop

    def stop(self) -> None:
        """Ask the campaign loop to end after the tick in hand (so no database work is cut in the middle)."""
        self._stopping.set()
        self._wake.set()

    def wake(self) -> None:
        """An agent became ready: run a dialing pass now instead of at the next tick.

        Coalesced: the wakes of one burst (the readies of several agents within
        :data:`WAKE_COALESCE_S`, or during a pass) make one pass. The periodic tick stays as
        the safety net (and it alone re-reads the campaigns table)."""
        self._woken = True
        self._wake.set()

    async def campaign_loop(self) -> None:
        await self.reprioritise_running()  # the day's ranking first: aging buckets moved while the dialer was down
        loop = asyncio.get_running_loop()
        tick_s = self.settings.tick_s
        next_tick = loop.time() + tick_s
        while not self._stopping.is_set():
            # every tick_s from the last tick's start, not tick_s after its end (a tick that claims for a
            # busy floor takes a good part of a second, and agents waited that much longer); a tick that
            # overran still leaves the loop a fifth of a tick. An agent turning ready wakes the loop at
            # once: waiting for the tick was half a tick on average, per agent, per call (issue 10)
            if not self._woken:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), max(0.0, next_tick - loop.time()))
            if self._stopping.is_set():
                return
            if self._woken and loop.time() < next_tick:
                await asyncio.sleep(WAKE_COALESCE_S)  # the other readies of the same burst join this pass
                self._woken = False
                self._wake.clear()
                self.wake_passes += 1
                await self._pass(refresh=False)
                continue
            self._woken = False
            self._wake.clear()
            next_tick = loop.time() + tick_s
            await self._pass(refresh=True)
            next_tick = max(next_tick, loop.time() + tick_s / 5)

    async def _pass(self, *, refresh: bool) -> None:
        """One dialing pass (a tick re-reads the campaigns first), bounded, its failure backed off and logged once."""
        if not self.loop_backoff.ready(TICK_KEY, self._mono()):
            return
        try:
            if refresh:
                await asyncio.wait_for(self.refresh(), self._limit_s)
            if self._link_up():  # dialing pauses while the AMI link is down (SPEC §11)
                # each claim is bounded on its own (see _guarded); this bounds the pass as a whole
                await asyncio.wait_for(self.tick(), 3 * self._limit_s)
        except TimeoutError:
            self._failed(self.loop_backoff, TICK_KEY, "a campaign tick took too long and was cut short", trace=False)
        except Exception:  # noqa: BLE001  (logged by _failed, with its traceback)
            self._failed(self.loop_backoff, TICK_KEY, "campaign tick failed")
        else:
            self._succeeded(self.loop_backoff, TICK_KEY, "campaign ticks")

    @property
    def _limit_s(self) -> float:
        return max(5.0, 10 * self.settings.tick_s)

    async def tick(self) -> None:
        self.claim_backoff.keep_only(set(self.floor.campaigns))
        for request in self.floor.plan_previews():
            if await self._guarded(request) is False:
                break  # that campaign has no lead for now
        for request in self.floor.plan_progressive():
            await self._guarded(request)
        for campaign_id in self.floor.predictive_order():
            paced = self.floor.plan_predictive(campaign_id)
            if paced is not None:
                await self._guarded(paced)

    async def _guarded(self, request: fx.ClaimRequest) -> bool | None:
        """:meth:`_fulfil` for one campaign, each of its claims bounded in time; None when it failed or
        waits after a failure.

        A failure stays with its campaign: the tick goes on with the others, and the campaign is
        tried again after its backoff (a failed claim claimed nothing: see :meth:`_claim`)."""
        key = request.campaign_id
        if not self.claim_backoff.ready(key, self._mono()):
            return None
        try:
            got = await self._fulfil(request)
        except TimeoutError:
            self._failed(self.claim_backoff, key, f"claiming leads for campaign {key} took too long", trace=False)
            return None
        except Exception:  # noqa: BLE001  (logged by _failed, with its traceback)
            self._failed(self.claim_backoff, key, f"claiming leads for campaign {key} failed")
            return None
        self._succeeded(self.claim_backoff, key, f"claims for campaign {key}")
        return got

    def _failed(self, backoff: Backoff, key: Hashable, what: str, *, trace: bool = True) -> None:
        """Back ``key`` off; log the first failure of a run (call from an ``except`` block)."""
        failing = backoff.failed(key, self._mono())
        wait = failing.retry_at - self._mono()
        if failing.count == 1:
            log.error("dialer: %s; trying again in %.1f s (logged once while it keeps failing)", what, wait,
                      exc_info=trace)
        else:
            log.debug("dialer: %s (%d times in a row); trying again in %.1f s", what, failing.count, wait,
                      exc_info=trace)

    def _succeeded(self, backoff: Backoff, key: Hashable, what: str) -> None:
        failures = backoff.succeeded(key)
        if failures:
            log.warning("dialer: %s work again after %d failure(s) in a row", what, failures)

    async def _fulfil(self, request: fx.ClaimRequest) -> bool:
        info = self.floor.campaigns.get(request.campaign_id)
        if info is None:
            return False
        owners = (
            list(request.owners)
            if request.preview_for is not None
            else await self._owners_first(info, list(request.owners))
        )
        # CLAIM_CHUNK claims per transaction, each chunk dialled as soon as it is claimed: a whole
        # floor turning ready at once (a start, a ramp) is neither one long transaction holding the
        # database nor calls waiting for the last claim of the burst
        placed = 0
        while placed < request.count:
            n = min(CLAIM_CHUNK, request.count - placed)
            chunk_owners = [owners[(placed + i) % len(owners)] for i in range(n)] if owners else []
            calls = await asyncio.wait_for(self._claim(info, chunk_owners, request.preview_for, n), self._limit_s)
            self.runner.apply(self.floor.claimed(request, calls))
            placed += len(calls)
            if len(calls) < n:
                break  # no more leads dialable now
        return placed > 0

    async def _owners_first(self, campaign: CampaignInfo, owners: list[int]) -> list[int]:
        """Ready agents with an owned callback due come first: their claims take those callbacks."""
        if not owners:
            return owners
        async with self._read() as db:  # a read: it must not wait for the write lock
            due = set(
                (
                    await db.execute(
                        select(Callback.owner_agent_id).where(
                            Callback.owner_agent_id.in_(owners),
                            Callback.campaign_id == campaign.id,
                            Callback.done_at.is_(None),
                            Callback.due_at <= self._clock(),
                        )
                    )
                ).scalars()
            )
        return sorted(owners, key=lambda a: a not in due)

    async def _claim(
        self, campaign: CampaignInfo, owners: list[int], agent_id: int | None, count: int
    ) -> list[FloorCall]:
        """Claim up to ``count`` leads with their attempts (one transaction), then read their pop data."""
        preview = campaign.mode is DialMode.PREVIEW
        for_agents = [
            agent_id if agent_id is not None else (owners[i % len(owners)] if owners else None) for i in range(count)
        ]
        now = self._clock()
        ids = [new_attempt_id() for _ in for_agents]
        mode = CampaignMode(campaign.mode.value)
        pbx_name = self.settings.pbx_name

        def attempt_for(i: int, lead: ClaimedLead) -> NewAttempt:
            return NewAttempt(
                ids[i], lead.campaign_id, lead.lead_id, lead.customer_id, lead.phone_id, agent_id, mode, lead.e164,
                campaign.caller_id, pbx_name, created_at=now, originated_at=None if preview else now,
            )

        # every pick of the request and its attempt in one transaction (all or none: a failed one stored nothing);
        # the attempts are not queued behind the writer's call events (issue 10)
        picking = asyncio.ensure_future(
            self.hopper.claim_many(campaign.id, now, for_agents, preview=preview, attempt_for=attempt_for)
        )
        try:
            leads = await asyncio.shield(picking)
        except asyncio.CancelledError:
            # cut short (stop, the claim's time limit): what the transaction stores all the same is cancelled
            picking.add_done_callback(lambda done: self._cancel_late(done, ids, preview))
            raise
        if not leads:
            return []
        refs = [_ref(ids[i], lead, preview) for i, lead in enumerate(leads)]
        try:
            pops = await self._pop_data([lead.customer_id for lead in leads], [ref.attempt_id for ref in refs])
        except BaseException:
            self._cancel(refs)
            raise
        at = self._clock()
        calls = []
        for lead, data, ref in zip(leads, pops, refs, strict=True):
            pop = build_screen_pop(
                data,
                call_id=ref.attempt_id,
                campaign_id=campaign.id,
                campaign_name=campaign.name,
                mode=campaign.mode.value,
                phone_e164=lead.e164,
                at=at,
                today_local=at.astimezone(BRASILIA).date(),
                other_question=self.settings.identity_question,
            )
            calls.append(FloorCall(ref, campaign, lead.e164, pop, preview=preview, owner_id=lead.owner_agent_id))
        return calls

    def _cancel(self, refs: list[AttemptRef]) -> None:
        """Claims stored with their attempts that will not be dialled: the attempts cancelled, the leads
        due again at once, their callbacks reopened (the writer's job, in order)."""
        at = self._clock()
        self.runner.apply([fx.StoreCancelled(ref, at) for ref in refs])

    def _cancel_late(self, picking: asyncio.Future[list[ClaimedLead]], ids: list[str], preview: bool) -> None:
        if picking.cancelled() or picking.exception() is not None:
            return
        leads = picking.result()
        if leads:
            log.warning("dialer: %d claim(s) cut short after they were stored: cancelled", len(leads))
            self._cancel([_ref(ids[i], lead, preview) for i, lead in enumerate(leads)])

    async def _pop_data(self, customer_ids: list[int], calls: list[str]) -> list[PopData]:
        """Each customer's pop data (in order), all read at once in one read transaction; ``calls``
        (the attempts just stored for them) do not count as earlier attempts."""
        now = self._clock()
        day_start = now.astimezone(BRASILIA).replace(hour=0, minute=0, second=0, microsecond=0)
        async with self._read() as db:
            found = await load_pop_data_many(db, customer_ids, now=now, day_start=day_start, exclude_attempts=calls)
        return [found[c] for c in customer_ids]

    # ------------------------------------------------------------------ leases (SPEC §9)

    async def lease_loop(self, every_s: float) -> None:
        """Keep this process's leases on live calls fresh and give back anyone's expired ones."""
        while not self._stopping.is_set():
            try:
                await asyncio.wait_for(self._stopping.wait(), every_s)
                return
            except TimeoutError:
                pass
            # runs every ``every_s`` anyway: the backoff is only there to log a run of failures once
            try:
                await asyncio.wait_for(self.maintain_leases(), max(5.0, every_s))
            except TimeoutError:
                self._failed(self.loop_backoff, LEASES_KEY, "lease upkeep took too long and was cut short", trace=False)
            except Exception:  # noqa: BLE001  (logged by _failed, with its traceback)
                self._failed(self.loop_backoff, LEASES_KEY, "lease upkeep failed")
            else:
                self._succeeded(self.loop_backoff, LEASES_KEY, "lease upkeep")

    async def maintain_leases(self) -> tuple[int, int]:
        """(renewed, released): live calls' leads renewed for another lease; expired leases of any process freed."""
        now = self._clock()
        live = {c.ref.lead_id for c in [*self.floor.calls.values(), *self.floor.wrapups.values()] if c.ref.lead_id is not None}
        until = now + timedelta(seconds=self.settings.lead_lease_s)
        claimer = self.settings.claimer

        async def upkeep(db: AsyncSession) -> tuple[int, int]:
            renewed = await renew_claims(db, live, claimer=claimer, until=until)
            released = await release_expired_claims(db, now=now)
            return renewed, released

        renewed, released = await self.writer.run(upkeep)
        if released:
            log.warning("dialer: %d lead(s) whose lease ran out were given back", released)
        return renewed, released

    # ------------------------------------------------------------------ re-ranking

    async def _reprioritise(self, info: CampaignInfo) -> None:
        try:
            count = await asyncio.wait_for(
                self.hopper.reprioritise(info.id, self._clock()), self.settings.reprioritise_timeout_s
            )
            log.info("dialer: campaign %s re-ranked (%d leads)", info.id, count)
        except TimeoutError:
            log.error(
                "dialer: re-ranking campaign %s took over %g s; cut short",
                info.id,
                self.settings.reprioritise_timeout_s,
            )
        except Exception:
            log.exception("dialer: re-ranking campaign %s failed", info.id)

    async def reprioritise_running(self) -> None:
        """Re-rank the leads of every running campaign (aging buckets move with the calendar)."""
        for info in sorted(self.floor.campaigns.values(), key=lambda c: c.id):
            if info.running:
                await self._reprioritise(info)

    async def daily_reprioritise(self) -> None:
        """After each local midnight (Brasília), re-rank the running campaigns' leads."""
        while not self._stopping.is_set():
            now = self._clock()
            midnight = datetime.combine(
                now.astimezone(BRASILIA).date() + timedelta(days=1), dt_time(0), tzinfo=BRASILIA
            )
            # a little past midnight, so the new day's buckets are the ones computed
            try:
                await asyncio.wait_for(self._stopping.wait(), (midnight - now).total_seconds() + 1.0)
                return
            except TimeoutError:
                pass
            await self.reprioritise_running()


def _ref(attempt_id: str, lead: ClaimedLead, preview: bool) -> AttemptRef:
    return AttemptRef(
        attempt_id, lead.lead_id, lead.customer_id, lead.phone_id, lead.campaign_id, lead.callback_id, preview
    )
