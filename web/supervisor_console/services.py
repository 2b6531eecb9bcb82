"""The floor as JSON: one view of :meth:`DialerRuntime.floor_snapshot` for ``GET /api/v1/floor`` and the wallboard.

Both read the same :func:`floor_view`, so the page and the API can never disagree. Login
names come from the users table through :class:`LoginNames`, which asks the database only
for user ids it has not seen (logins never change; a new agent costs one query, once).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialer.floor.snapshot import FloorSnapshot
from dialer.pacing.live import PacingFigures
from storage.models import User
from storage.repositories.steering import DayResults
from web.supervisor_console.results import TodayResults

# Wallboard alerts (constants, not configuration: one policy for every supervisor page)
ALERT_PAUSE_S = 15 * 60  # an agent paused this long
ALERT_WRAPUP_S = 2 * 60  # an agent in wrap-up (pós-atendimento) this long
ALERT_ABANDON_SHARE = 0.8  # a campaign's abandon rate (today or 30 days) at this share of its cap


def alert_thresholds() -> dict[str, float]:
    """What the page compares against (rendered into it, so the JavaScript has no numbers of its own)."""
    return {"pause_s": ALERT_PAUSE_S, "wrapup_s": ALERT_WRAPUP_S, "abandon_near_cap": ALERT_ABANDON_SHARE}


class FloorSource(Protocol):
    """What the view needs of the running dialer (:class:`dialer.runtime.DialerRuntime`)."""

    def floor_snapshot(self) -> FloorSnapshot: ...

    def campaign_figures(self, campaign_id: int) -> PacingFigures | None: ...


class LoginNames:
    """user id → login, read from the database once per user."""

    def __init__(self, db: async_sessionmaker[AsyncSession]) -> None:
        self._db = db
        self._logins: dict[int, str] = {}

    async def resolve(self, user_ids: Iterable[int]) -> dict[int, str]:
        missing = {u for u in user_ids if u not in self._logins}
        if missing:
            async with self._db() as db:
                rows = await db.execute(select(User.id, User.login).where(User.id.in_(missing)))
                for user_id, login in rows:
                    self._logins[int(user_id)] = str(login)
        return self._logins

    def known(self) -> dict[int, str]:
        return self._logins


def _rate(value: float) -> float:
    return round(value, 4)


def floor_view(
    snapshot: FloorSnapshot,
    figures: dict[int, PacingFigures | None],
    logins: dict[int, str],
    results: dict[int, DayResults] | None = None,
) -> dict[str, Any]:
    """The snapshot as the API and the wallboard show it (rates as fractions: 0.03 = 3 %; amounts as
    strings with two decimals, ``"1234.56"``)."""
    campaign_names = {c.id: c.name for c in snapshot.campaigns}
    agents = [
        {
            "user_id": a.user_id,
            "login": logins.get(a.user_id),
            "name": a.name,
            "extension": a.extension,
            "state": a.state,
            # whole seconds: the page counts the timer itself, and a frame is sent only when something changed
            "since": a.since.replace(microsecond=0).isoformat(),
            "campaign": campaign_names.get(a.campaign_id) if a.campaign_id is not None else None,
            "campaign_id": a.campaign_id,
            "on_call": a.customer,
            "pause_reason": a.pause_reason,
            "phone_connected": a.phone_connected,
            "calls_today": a.calls_today,
            "contacts_today": a.contacts_today,
            "monitored_by": a.monitored_by,
            "monitored_by_login": logins.get(a.monitored_by) if a.monitored_by is not None else None,
            "monitor_mode": a.monitor_mode,
            # the identity check of the call on screen; an override carries the agent's reason
            "identity": a.identity,
            "identity_override_reason": a.identity_override_reason,
        }
        for a in snapshot.agents
    ]
    campaigns = []
    for c in snapshot.campaigns:
        f = figures.get(c.id)
        completed = sum(s.completed for s in f.short_calls_today) if f is not None else 0
        short = sum(s.short for s in f.short_calls_today) if f is not None else 0
        campaigns.append(
            {
                "id": c.id,
                "name": c.name,
                "status": c.status,
                "mode": c.mode,
                "max_dial_level": c.max_dial_level,
                "abandon_cap": c.abandon_cap,
                "ringing": c.ringing,
                "waiting": c.waiting,
                "in_flight": c.ringing + c.waiting,
                "talking": c.talking,
                "abandon_rate_today": _rate(f.abandon_rate_today) if f is not None else None,
                "abandon_rate_30d": _rate(f.abandon_rate_30d) if f is not None else None,
                "short_call_share_today": _rate(short / completed) if completed else None,
                "connects_last_hour": c.connects_last_hour,
                "connects_by_slot": list(c.connects_by_slot),
                "dial_level": round(f.dial_level, 2) if f is not None else None,
                **_day(results, c.id),
            }
        )
    return {"link_up": snapshot.link_up, "at": snapshot.at.isoformat(), "agents": agents, "campaigns": campaigns}


def _day(results: dict[int, DayResults] | None, campaign_id: int) -> dict[str, Any]:
    """Today's results of a campaign (None when nobody read them: a floor built without the cache)."""
    if results is None:
        return {"right_party_today": None, "promises_today": None, "agreements_today": None,
                "amount_agreed_today": None}
    r = results.get(campaign_id) or DayResults()
    return {"right_party_today": r.right_party, "promises_today": r.promises, "agreements_today": r.agreements,
            "amount_agreed_today": f"{r.agreed_amount:.2f}"}


async def current_floor(
    runtime: FloorSource, logins: LoginNames, results: TodayResults | None = None
) -> dict[str, Any]:
    """The floor now, as JSON (one snapshot, one figures call per campaign, logins and today's results cached)."""
    snapshot = runtime.floor_snapshot()
    figures = {c.id: runtime.campaign_figures(c.id) for c in snapshot.campaigns}
    wanted = [a.user_id for a in snapshot.agents] + [a.monitored_by for a in snapshot.agents if a.monitored_by]
    names = await logins.resolve(wanted)
    day = await results.get() if results is not None else None
    return floor_view(snapshot, figures, names, day)


__all__ = ["ALERT_ABANDON_SHARE", "ALERT_PAUSE_S", "ALERT_WRAPUP_S", "FloorSource", "LoginNames", "alert_thresholds", "current_floor", "floor_view"]
