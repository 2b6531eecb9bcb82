"""Campaigns on the floor: what a supervisor sees of each, and starting, pausing and stopping them.

The database holds the truth (name, status, mode, limits); the running dialer, when this
process has one, adds the live figures (calls in flight, dial level, abandon rates). A
status change is written and audited in one transaction, then the dialer is told to re-read
the campaign at once (it also re-reads every campaign each second on its own, so a change
made by the CLI or another process is picked up too).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialer.pacing.live import PacingFigures
from storage.models import Campaign, CampaignMode, CampaignStatus
from storage.repositories.campaigns import list_campaigns, set_campaign_status

log = logging.getLogger(__name__)


class LiveDialer(Protocol):
    """What this module needs of ``dialer.runtime.DialerRuntime``."""

    def campaign_figures(self, campaign_id: int) -> PacingFigures | None: ...


@dataclass(frozen=True, slots=True)
class CampaignItem:
    """One campaign as ``GET /api/v1/campaigns`` lists it; live fields are None without a dialer."""

    id: int
    name: str
    status: CampaignStatus
    mode: CampaignMode
    max_dial_level: float
    abandon_cap: float
    figures: PacingFigures | None  # from the running dialer only

    def as_dict(self) -> dict[str, Any]:
        f = self.figures
        return {
            "id": self.id,
            "name": self.name,
            "status": self.status.value,
            "mode": self.mode.value,
            "max_dial_level": self.max_dial_level,
            "abandon_cap": self.abandon_cap,
            "live": f is not None,
            "dial_level": None if f is None else round(f.dial_level, 2),
            "in_flight": None if f is None else f.floor.calls_in_flight,
            "agents_logged_in": None if f is None else f.floor.agents_logged_in,
            "abandon_rate_today": None if f is None else round(f.abandon_rate_today, 4),
            "abandon_rate_30d": None if f is None else round(f.abandon_rate_30d, 4),
            "connects_last_hour": None if f is None else f.connects_last_hour,
        }


@dataclass(frozen=True, slots=True)
class StatusChange:
    before: CampaignStatus
    item: CampaignItem


def _live(runtime: LiveDialer | None, campaign_id: int) -> PacingFigures | None:
    if runtime is None:
        return None
    figures = runtime.campaign_figures(campaign_id)
    # a dialer that does not pace this campaign (yet) has no live figures for it
    return figures if figures is not None and figures.live else None


def _item(campaign: Campaign, runtime: LiveDialer | None) -> CampaignItem:
    return CampaignItem(
        id=campaign.id,
        name=campaign.name,
        status=CampaignStatus(campaign.status),
        mode=CampaignMode(campaign.mode),
        max_dial_level=campaign.max_dial_level,
        abandon_cap=campaign.abandon_cap,
        figures=_live(runtime, campaign.id),
    )


async def campaign_items(sessions: async_sessionmaker[AsyncSession], runtime: LiveDialer | None) -> list[CampaignItem]:
    """Every campaign, by name, with the dialer's live figures when one runs here."""
    async with sessions() as db:
        campaigns = await list_campaigns(db)
    return [_item(c, runtime) for c in campaigns]


async def change_status(
    sessions: async_sessionmaker[AsyncSession],
    runtime: Any,
    campaign_id: int,
    status: CampaignStatus,
    *,
    user_id: int | None,
    at: datetime,
    source: str,
) -> StatusChange | None:
    """Set the campaign's status (audited, committed), then tell the dialer; None: no such campaign."""
    async with sessions.begin() as db:
        changed = await set_campaign_status(db, campaign_id, status, user_id=user_id, at=at, source=source)
        if changed is None:
            return None
        campaign = await db.get(Campaign, campaign_id)
        assert campaign is not None  # just locked and updated in this transaction
        name, mode = campaign.name, CampaignMode(campaign.mode)
        max_dial_level, abandon_cap = campaign.max_dial_level, campaign.abandon_cap
    await notify_dialer(runtime, campaign_id)
    item = CampaignItem(campaign_id, name, changed[1], mode, max_dial_level, abandon_cap, _live(runtime, campaign_id))
    return StatusChange(changed[0], item)


async def notify_dialer(runtime: Any, campaign_id: int) -> None:
    """Ask the running dialer to re-read the campaign now (``DialerRuntime.campaign_changed``).

    Looked up by name: a dialer without it still applies the change on its next one-second
    re-read. A failure here is logged, not raised: the change is committed already and that
    re-read applies it anyway.
    """
    changed = getattr(runtime, "campaign_changed", None) if runtime is not None else None
    if changed is None:
        return
    try:
        await changed(campaign_id)
    except Exception:  # see the docstring: the committed change must still be answered 200
        log.exception("dialer: campaign %s changed, but re-reading it failed; the periodic re-read applies it",
                      campaign_id)


__all__ = ["CampaignItem", "LiveDialer", "StatusChange", "campaign_items", "change_status", "notify_dialer"]
