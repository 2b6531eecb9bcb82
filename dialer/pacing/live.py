"""The bridge between the live dialer and the pure pacer: one :class:`CampaignPacing` per campaign.

The runtime describes its floor as plain values (:class:`AgentView`, :class:`CallView`,
loop times) and feeds what happened to calls (dial results, AMD verdicts, ends, handles);
this module turns that into the pacer's :class:`~dialer.pacing.pacer.PacingSnapshot`, keeps
the per-campaign :class:`~dialer.pacing.stats.CallStats`, the
:class:`~dialer.pacing.abandons.AbandonLedger` (seeded from storage at start) and the
Anatel short-call counts per day and caller id, and answers with the live figures.

Pure: no asyncio, no I/O. Durations are in *PBX seconds*: the runtime divides loop-time
differences by its clock scale (1 against a real Asterisk; the simulator's ``time_scale``
in tests, so a simulated hour of calls paces exactly like a real one).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import Enum

from dialer.pacing.abandons import AbandonLedger
from dialer.pacing.pacer import Pacer, PacingConfig, PacingDecision, PacingMode, PacingSnapshot, PacingState
from dialer.pacing.stats import CallStats, DialResult

# Brazil's collection floors run on Brasília time (UTC-3, no daylight saving since 2019)
BRASILIA_OFFSET_S = -3 * 3600.0
# Anatel: a completed call of at most 6 s is a "short call" (SPEC §5)
SHORT_CALL_S = 6.0
MAX_DIAL_LEVEL_LIMIT = 10.0
MAX_ABANDON_CAP = 0.05  # nobody may set a cap above 5 % (FCC/Ofcom's is 3 %)


class SettingsError(ValueError):
    """A pacing change the supervisor must fix; ``field`` names it, the message is pt-BR."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class PacingSettings:
    """A campaign's pacing settings as stored (``campaigns.mode``, ``max_dial_level``, ``abandon_cap``, ``amd_enabled``)."""

    mode: PacingMode
    max_dial_level: float
    abandon_cap: float
    amd_enabled: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.mode, PacingMode):
            try:
                object.__setattr__(self, "mode", PacingMode(self.mode))
            except ValueError:
                known = ", ".join(m.value for m in PacingMode)
                raise SettingsError("mode", f"modo desconhecido {self.mode!r}; use um de: {known}") from None
        level = self.max_dial_level
        if isinstance(level, bool) or not isinstance(level, int | float) or not math.isfinite(level):
            raise SettingsError("max_dial_level", f"deve ser um número, recebido {level!r}")
        if not 1.0 <= level <= MAX_DIAL_LEVEL_LIMIT:
            raise SettingsError("max_dial_level", f"deve estar entre 1 e {MAX_DIAL_LEVEL_LIMIT:g}, recebido {level:g}")
        cap = self.abandon_cap
        if isinstance(cap, bool) or not isinstance(cap, int | float) or not math.isfinite(cap):
            raise SettingsError("abandon_cap", f"deve ser um número, recebido {cap!r}")
        if not 0.0 < cap <= MAX_ABANDON_CAP:
            raise SettingsError(
                "abandon_cap", f"deve ser maior que 0 e no máximo {MAX_ABANDON_CAP:g} (5 %), recebido {cap:g}"
            )
        if not isinstance(self.amd_enabled, bool):
            raise SettingsError("amd_enabled", f"deve ser true ou false, recebido {self.amd_enabled!r}")

    def as_dict(self) -> dict[str, object]:
        return {
            "mode": self.mode.value,
            "max_dial_level": self.max_dial_level,
            "abandon_cap": self.abandon_cap,
            "amd_enabled": self.amd_enabled,
        }


class AgentPhase(str, Enum):
    READY = "ready"  # free for the next call
    TALK = "talk"  # reserved for or connected to a call
    WRAP = "wrap"  # in wrap-up
    AWAY = "away"  # paused, connecting, held for an owned callback: not part of the pacing pool


class CallPhase(str, Enum):
    RINGING = "ringing"
    IN_AMD = "in_amd"
    WAITING = "waiting"  # answered by a person, no agent yet
    WITH_AGENT = "with_agent"  # its agent counts as talking; the call is not in progress


@dataclass(frozen=True, slots=True)
class AgentView:
    phase: AgentPhase
    since: float  # loop time the agent entered the phase


@dataclass(frozen=True, slots=True)
class CallView:
    phase: CallPhase
    since: float  # loop time the call was dialled


@dataclass(frozen=True, slots=True)
class Floor:
    """Counts of the floor at one instant (for the figures)."""

    agents_ready: int = 0
    agents_talking: int = 0
    agents_wrapping: int = 0
    calls_ringing: int = 0
    calls_in_amd: int = 0
    calls_waiting: int = 0

    @property
    def agents_logged_in(self) -> int:
        return self.agents_ready + self.agents_talking + self.agents_wrapping

    @property
    def calls_in_flight(self) -> int:
        return self.calls_ringing + self.calls_in_amd + self.calls_waiting


def floor_of(agents: Iterable[AgentView], calls: Iterable[CallView]) -> Floor:
    a = {p: 0 for p in AgentPhase}
    c = {p: 0 for p in CallPhase}
    for agent in agents:
        a[agent.phase] += 1
    for call in calls:
        c[call.phase] += 1
    return Floor(
        a[AgentPhase.READY], a[AgentPhase.TALK], a[AgentPhase.WRAP], c[CallPhase.RINGING], c[CallPhase.IN_AMD], c[CallPhase.WAITING]
    )


@dataclass(frozen=True, slots=True)
class DayCounts:
    """One past day's live answers and abandons of a campaign (Brasília calendar day)."""

    day: date
    live: int
    abandons: int


@dataclass(frozen=True, slots=True)
class ShortCalls:
    """Completed calls and short calls (≤ 6 s) of one caller id on one day."""

    caller_id: str
    completed: int
    short: int

    @property
    def ratio(self) -> float:
        return self.short / self.completed if self.completed else 0.0

    def as_dict(self) -> dict[str, object]:
        return {"caller_id": self.caller_id, "completed": self.completed, "short": self.short, "ratio": round(self.ratio, 4)}


@dataclass(frozen=True, slots=True)
class PacingFigures:
    """What the supervisor sees for one campaign (REST ``GET /api/v1/campaigns/{id}/pacing``)."""

    campaign_id: int
    settings: PacingSettings
    running: bool
    state: str  # PacingState value, or "off" when the dialer is not pacing this campaign
    floor: Floor
    dial_level: float  # lines in use (in flight + with an agent) per logged-in agent
    live_today: int
    abandons_today: int
    live_30d: int
    abandons_30d: int
    short_calls_today: tuple[ShortCalls, ...]
    live: bool  # True: from the running dialer; False: from storage only
    connects_last_hour: int | None = None  # calls given to an agent in the last hour (the running dialer only)

    @property
    def abandon_rate_today(self) -> float:
        return self.abandons_today / self.live_today if self.live_today else 0.0

    @property
    def abandon_rate_30d(self) -> float:
        return self.abandons_30d / self.live_30d if self.live_30d else 0.0

    def as_dict(self) -> dict[str, object]:
        completed = sum(s.completed for s in self.short_calls_today)
        short = sum(s.short for s in self.short_calls_today)
        f = self.floor
        return {
            "campaign_id": self.campaign_id,
            **self.settings.as_dict(),
            "running": self.running,
            "live": self.live,
            "state": self.state,
            "dial_level": round(self.dial_level, 2),
            "agents": {
                "logged_in": f.agents_logged_in,
                "ready": f.agents_ready,
                "talking": f.agents_talking,
                "wrapping": f.agents_wrapping,
            },
            "calls_in_flight": f.calls_in_flight,
            "calls": {"ringing": f.calls_ringing, "in_amd": f.calls_in_amd, "waiting": f.calls_waiting},
            "abandons": {
                "live_today": self.live_today,
                "abandoned_today": self.abandons_today,
                "rate_today": round(self.abandon_rate_today, 4),
                "live_30d": self.live_30d,
                "abandoned_30d": self.abandons_30d,
                "rate_30d": round(self.abandon_rate_30d, 4),
            },
            "short_calls_today": {
                "completed": completed,
                "short": short,
                "ratio": round(short / completed, 4) if completed else 0.0,
                "by_caller_id": [s.as_dict() for s in self.short_calls_today],
            },
        }


def build_snapshot(
    agents: Iterable[AgentView],
    calls: Iterable[CallView],
    *,
    now: float,
    clock_scale: float,
    pacing: CampaignPacing,
    pbx_now: float,
) -> PacingSnapshot:
    """The pacer's snapshot of the floor at loop time ``now`` (elapsed times in PBX seconds)."""
    ready = 0
    talk: list[float] = []
    wrap: list[float] = []
    ringing: list[float] = []
    in_amd = waiting = 0
    for a in agents:
        if a.phase is AgentPhase.READY:
            ready += 1
        elif a.phase is AgentPhase.TALK:
            talk.append(max(0.0, now - a.since) / clock_scale)
        elif a.phase is AgentPhase.WRAP:
            wrap.append(max(0.0, now - a.since) / clock_scale)
    for c in calls:
        if c.phase is CallPhase.RINGING:
            ringing.append(max(0.0, now - c.since) / clock_scale)
        elif c.phase is CallPhase.IN_AMD:
            in_amd += 1
        elif c.phase is CallPhase.WAITING:
            waiting += 1
    return PacingSnapshot(
        agents_ready=ready,
        talk_elapsed_s=tuple(talk),
        wrap_elapsed_s=tuple(wrap),
        ringing_elapsed_s=tuple(ringing),
        stats=pacing.stats.summary(),
        abandons=pacing.ledger.counts(pbx_now),
        in_amd=in_amd,
        answered_waiting=waiting,
        dialing_for_s=pacing.dialing_for(pbx_now),
    )


def local_day(t: float, utc_offset_s: float = BRASILIA_OFFSET_S) -> date:
    """The calendar day of epoch time ``t`` at ``utc_offset_s`` from UTC."""
    return datetime.fromtimestamp(t + utc_offset_s, UTC).date()


_EPOCH_DAY = date(1970, 1, 1)


@dataclass
class CampaignPacing:
    """One campaign's live pacing: the pacer, its statistics, the abandon ledger, short calls.

    Times given to it (``pbx_now``, ``at``) are epoch seconds on the PBX's clock.
    """

    settings: PacingSettings
    ring_timeout_s: float = 25.0
    connect_window_s: float = 2.0
    utc_offset_s: float = BRASILIA_OFFSET_S
    pacer: Pacer = field(init=False)
    stats: CallStats = field(init=False)
    ledger: AbandonLedger = field(init=False)
    last_decision: PacingDecision | None = field(init=False, default=None)
    _dialing_since: float | None = field(init=False, default=None)
    _short: dict[tuple[date, str], list[int]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.pacer = Pacer(self._config(self.settings))
        self.stats = CallStats()
        self.ledger = AbandonLedger(self.settings.abandon_cap, utc_offset_s=self.utc_offset_s)

    def _config(self, s: PacingSettings) -> PacingConfig:
        return PacingConfig(
            mode=s.mode,
            max_dial_level=s.max_dial_level,
            ring_timeout_s=self.ring_timeout_s,
            connect_window_s=self.connect_window_s,
        )

    # -- settings -----------------------------------------------------------------

    def reconfigure(self, settings: PacingSettings) -> None:
        """The supervisor's change, in force from the next decision."""
        if settings.mode is not PacingMode.PREDICTIVE:
            self._dialing_since = None  # warm-up starts over when predictive comes back
        self.settings = settings
        self.pacer.reconfigure(self._config(settings))
        self.ledger.cap = settings.abandon_cap

    # -- history from storage -------------------------------------------------------

    def load_days(self, days: Iterable[DayCounts]) -> None:
        for d in days:
            self.ledger.load_day((d.day - _EPOCH_DAY).days, d.live, d.abandons)

    def load_short_calls(self, day: date, rows: Iterable[ShortCalls]) -> None:
        for r in rows:
            self._short[(day, r.caller_id)] = [r.completed, r.short]

    # -- decisions ----------------------------------------------------------------

    def dialing_for(self, pbx_now: float) -> float:
        """How long this campaign has been dialing predictively (the pacer's warm-up clock)."""
        if self._dialing_since is None:
            self._dialing_since = pbx_now
        return max(0.0, pbx_now - self._dialing_since)

    def decide(self, snapshot: PacingSnapshot) -> PacingDecision:
        decision = self.pacer.decide(snapshot)
        self.last_decision = decision
        return decision

    # -- what happened to calls ------------------------------------------------------

    def dial_result(self, result: DialResult, seconds_to_result: float) -> None:
        self.stats.record_dial_result(result, seconds_to_result)

    def amd_verdict(self, human: bool) -> None:
        self.stats.record_amd_verdict(human)

    def call_ended(
        self, at: float, *, live: bool, abandoned: bool, duration_s: float, caller_id: str | None
    ) -> bool:
        """An answered call ended; counts live answers, abandons and short calls. True if it was short."""
        if live:
            self.ledger.record_live_answer(at)
            if abandoned:
                self.ledger.record_abandon(at)
        short = duration_s <= SHORT_CALL_S
        counts = self._short.setdefault((local_day(at, self.utc_offset_s), caller_id or ""), [0, 0])
        counts[0] += 1
        if short:
            counts[1] += 1
        return short

    def handle_done(self, talk_s: float, wrap_s: float) -> None:
        self.stats.record_handle(talk_s, wrap_s)

    # -- figures ------------------------------------------------------------------

    def short_calls_on(self, day: date) -> tuple[ShortCalls, ...]:
        rows = [ShortCalls(cid, c[0], c[1]) for (d, cid), c in self._short.items() if d == day]
        return tuple(sorted(rows, key=lambda r: r.caller_id))

    def figures(self, campaign_id: int, *, running: bool, floor: Floor, pbx_now: float) -> PacingFigures:
        counts = self.ledger.counts(pbx_now)
        decision = self.last_decision
        if not running or self.settings.mode in (PacingMode.MANUAL, PacingMode.PREVIEW):
            state = PacingState.OFF.value
        elif self.settings.mode is PacingMode.PROGRESSIVE:
            state = PacingState.PROGRESSIVE.value
        else:
            state = decision.state.value if decision is not None else PacingState.WARM_UP.value
        logged = floor.agents_logged_in
        lines = floor.calls_in_flight + floor.agents_talking
        return PacingFigures(
            campaign_id=campaign_id,
            settings=self.settings,
            running=running,
            state=state,
            floor=floor,
            dial_level=lines / logged if logged else 0.0,
            live_today=counts.live_today,
            abandons_today=counts.abandons_today,
            live_30d=counts.live_30d,
            abandons_30d=counts.abandons_30d,
            short_calls_today=self.short_calls_on(local_day(pbx_now, self.utc_offset_s)),
            live=True,
        )


def day_bounds(day: date, utc_offset_s: float = BRASILIA_OFFSET_S) -> tuple[datetime, datetime]:
    """[start, end) of the local calendar ``day`` as aware UTC datetimes."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(seconds=utc_offset_s)
    return start, start + timedelta(days=1)
