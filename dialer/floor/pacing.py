"""The floor's bridge to the campaigns' pacers: views of agents and calls, samples, decisions (pure).

Pacing works in the PBX's seconds (the simulator may run faster than the loop: see
``DialerSettings.clock_scale``); the floor works in loop seconds, so every elapsed time
crosses :meth:`FloorPacing.pbx_s` on its way in.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import replace

from dialer.agents.services import AgentSession
from dialer.agents.state import AgentState
from dialer.calls.events import CallEnded
from dialer.floor.calls import FloorCall
from dialer.floor.campaigns import CampaignInfo
from dialer.floor.settings import DialerSettings
from dialer.pacing.live import (
    AgentPhase,
    AgentView,
    CallPhase,
    CallView,
    CampaignPacing,
    PacingFigures,
    build_snapshot,
    floor_of,
)
from dialer.pacing.stats import DialResult

SPARK_SLOTS = 12  # the wallboard's sparkline: the last hour in 5-minute slots


class FloorPacing:
    """One :class:`CampaignPacing` per campaign, fed from the floor's calls and agents."""

    def __init__(self, settings: DialerSettings, mono: Callable[[], float], wall0: float = 0.0) -> None:
        self.settings = settings
        self._mono = mono
        self._loop0 = mono()
        self._wall0 = wall0
        self._by_campaign: dict[int, CampaignPacing] = {}
        self._connects: dict[int, deque[float]] = {}  # campaign → loop times of its connects, last hour

    def set_origin(self, wall_epoch_s: float) -> None:
        """Anchor the PBX clock: loop time now is ``wall_epoch_s`` (epoch seconds on the dialer's clock)."""
        self._loop0 = self._mono()
        self._wall0 = wall_epoch_s

    def pbx_time(self, at: float | None = None) -> float:
        """Epoch seconds on the PBX's clock for loop time ``at`` (now by default)."""
        loop_at = self._mono() if at is None else at
        return self._wall0 + (loop_at - self._loop0) / self.settings.clock_scale

    def pbx_s(self, loop_seconds: float) -> float:
        return max(0.0, loop_seconds) / self.settings.clock_scale

    def of(self, info: CampaignInfo) -> CampaignPacing:
        pacing = self._by_campaign.get(info.id)
        if pacing is None:
            pacing = CampaignPacing(
                info.pacing_settings(),
                ring_timeout_s=self.settings.ring_timeout_s,
                connect_window_s=self.settings.connect_window_s,  # PBX seconds, as pacing counts
            )
            self._by_campaign[info.id] = pacing
        return pacing

    def configure(self, info: CampaignInfo) -> None:
        self.of(info).reconfigure(info.pacing_settings())

    # ------------------------------------------------------------------ samples

    def dial_result(self, call: FloorCall, result: DialResult, at: float) -> None:
        if call.preview:
            return  # an agent chose when to dial it: not a sample of the list's behaviour
        self.of(call.campaign).dial_result(result, self.pbx_s(at - call.dialled_at))

    def amd_verdict(self, call: FloorCall, *, human: bool) -> None:
        self.of(call.campaign).amd_verdict(human)

    def call_ended(self, call: FloorCall, e: CallEnded, duration_s: float) -> None:
        self.of(call.campaign).call_ended(
            self.pbx_time(e.at),
            live=e.answered and not call.amd_machine,
            abandoned=e.abandoned,
            duration_s=duration_s,
            caller_id=call.campaign.caller_id,
        )

    def connected(self, call: FloorCall, at: float) -> None:
        """A call reached its agent (contacts per hour on the wallboard and the campaign list)."""
        times = self._connects.setdefault(call.campaign.id, deque())
        times.append(at)
        self._prune(times)

    def connects_last_hour(self, campaign_id: int) -> int:
        times = self._connects.get(campaign_id)
        if times is None:
            return 0
        self._prune(times)
        return len(times)

    def connects_by_slot(self, campaign_id: int, slots: int = SPARK_SLOTS) -> tuple[int, ...]:
        """Connects of the last hour in ``slots`` equal slots, oldest first (the wallboard's sparkline)."""
        times = self._connects.get(campaign_id)
        counts = [0] * slots
        if not times:
            return tuple(counts)
        self._prune(times)
        now = self._mono()
        span = 3600.0 * self.settings.clock_scale / slots
        for at in times:
            back = int((now - at) // span) if span > 0 else 0
            if 0 <= back < slots:
                counts[slots - 1 - back] += 1
        return tuple(counts)

    def _prune(self, times: deque[float]) -> None:
        horizon = self._mono() - 3600.0 * self.settings.clock_scale
        while times and times[0] < horizon:
            times.popleft()

    def handle_done(self, call: FloorCall) -> None:
        """A connected call was disposed: its talk and wrap-up times feed the pacer's statistics."""
        if not call.connected or call.ended_at is None:
            return
        self.of(call.campaign).handle_done(call.talk_s, self.pbx_s(self._mono() - call.ended_at))

    # ------------------------------------------------------------------ views and decisions

    @staticmethod
    def agent_views(agents: Iterable[AgentSession]) -> list[AgentView]:
        views = []
        for s in agents:
            state = s.status.state
            if state is AgentState.READY and s.leg_up:
                # an agent held for their owned callback in flight is not in the pool
                views.append(AgentView(AgentPhase.READY if s.held_for is None else AgentPhase.AWAY, s.since))
            elif state in (AgentState.RESERVED, AgentState.ON_CALL):
                views.append(AgentView(AgentPhase.TALK, s.since))
            elif state is AgentState.WRAP_UP:
                views.append(AgentView(AgentPhase.WRAP, s.since))
        return views

    @staticmethod
    def call_views(calls: Iterable[FloorCall], campaign_id: int | None = None) -> list[CallView]:
        """Calls as the pacer counts them (previews and owned callbacks have their agent)."""
        views = []
        for c in calls:
            if c.preview or c.owner_id is not None or c.amd_machine or c.given_up:
                continue  # given up: only its end is awaited, no agent is owed to it
            if campaign_id is not None and c.campaign.id != campaign_id:
                continue
            if c.agent_id is not None or c.connected:
                phase = CallPhase.WITH_AGENT
            elif not c.answered:
                phase = CallPhase.RINGING
            elif c.amd_pending:
                phase = CallPhase.IN_AMD
            else:
                phase = CallPhase.WAITING
            views.append(CallView(phase, c.dialled_at))
        return views

    def calls_to_place(self, info: CampaignInfo, agents: list[AgentSession], calls: list[FloorCall]) -> int:
        """What the campaign's pacer launches now, never past ready agents × its maximum dial level.

        The pacer's own ceiling counts every logged-in agent; the floor also holds the calls
        in flight (ringing, in AMD, waiting) to what the agents ready now could take at the
        maximum dial level, so the tick that ends warm-up cannot throw a burst of calls at
        a floor that is busy talking.
        """
        pacing = self.of(info)
        agent_views = self.agent_views(agents)
        snap = build_snapshot(
            agent_views,
            self.call_views(calls),
            now=self._mono(),
            clock_scale=self.settings.clock_scale,
            pacing=pacing,
            pbx_now=self.pbx_time(),
        )
        wanted = pacing.decide(snap).calls
        ready = sum(1 for a in agent_views if a.phase is AgentPhase.READY)
        in_flight = sum(1 for v in self.call_views(calls) if v.phase is not CallPhase.WITH_AGENT)
        bound = max(0, math.floor(info.max_dial_level * ready + 1e-9) - in_flight)
        return min(wanted, bound)

    def figures(
        self, info: CampaignInfo, agents: list[AgentSession], calls: list[FloorCall], *, running: bool
    ) -> PacingFigures:
        floor = floor_of(self.agent_views(agents), self.call_views(calls, info.id))
        figures = self.of(info).figures(info.id, running=running, floor=floor, pbx_now=self.pbx_time())
        return replace(figures, connects_last_hour=self.connects_last_hour(info.id))
