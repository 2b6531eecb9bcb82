"""Campaigns: add one, find one by name, list them, change their status (audited)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import AlreadyExists, InvalidValue
from storage.models import Campaign, CampaignMode, CampaignStatus
from storage.repositories import audit
from storage.repositories._values import enum_value


async def add_campaign(
    session: AsyncSession,
    *,
    name: str,
    dial_template: str,
    caller_id: str,
    pbx_name: str,
    mode: CampaignMode | str = CampaignMode.PROGRESSIVE,
    status: CampaignStatus | str = CampaignStatus.PAUSED,
    ring_timeout_s: float = 25.0,
    max_dial_level: float = 3.0,
    abandon_cap: float = 0.03,
    window_override: dict[str, Any] | None = None,
    policy: dict[str, Any] | None = None,
) -> Campaign:
    """Store a new campaign (paused unless told otherwise); AlreadyExists if the name is taken."""
    if "{number}" not in dial_template:
        raise InvalidValue(f"dial_template {dial_template!r} must contain {{number}}")
    if await get_campaign_by_name(session, name) is not None:
        raise AlreadyExists(f"campaign {name!r} already exists")
    campaign = Campaign(
        name=name,
        mode=enum_value(CampaignMode, mode, "mode"),
        status=enum_value(CampaignStatus, status, "status"),
        dial_template=dial_template,
        caller_id=caller_id,
        pbx_name=pbx_name,
        ring_timeout_s=ring_timeout_s,
        max_dial_level=max_dial_level,
        abandon_cap=abandon_cap,
        window_override=window_override,
        policy=policy,
    )
    session.add(campaign)
    await session.flush()
    return campaign


async def get_campaign_by_name(session: AsyncSession, name: str) -> Campaign | None:
    return await session.scalar(select(Campaign).where(Campaign.name == name))


async def list_campaigns(session: AsyncSession) -> list[Campaign]:
    """Every campaign, by name."""
    return list(await session.scalars(select(Campaign).order_by(Campaign.name)))


async def set_campaign_status(
    session: AsyncSession,
    campaign_id: int,
    status: CampaignStatus | str,
    *,
    user_id: int | None,
    at: datetime,
    source: str,
) -> tuple[CampaignStatus, CampaignStatus] | None:
    """Set the campaign's status; (before, after), or None when there is no such campaign.

    Writes an audit entry (who, when, before, after, and ``source``: "api" or "cli") in the
    caller's transaction, so the change and its record commit together; also when the
    status does not change, since someone asked for it. The row is locked (``FOR UPDATE``
    on PostgreSQL) so two changes at once record a true "before".
    """
    wanted = enum_value(CampaignStatus, status, "status")
    campaign = await session.scalar(
        select(Campaign).where(Campaign.id == campaign_id).with_for_update().execution_options(populate_existing=True)
    )
    if campaign is None:
        return None
    before = CampaignStatus(campaign.status)
    campaign.status = wanted
    await audit.record(
        session,
        user_id=user_id,
        action=f"campaign.{_ACTION[wanted]}",
        entity="campaign",
        entity_id=campaign.id,
        before={"status": before.value},
        after={"status": wanted.value, "source": source},
        at=at,
    )
    await session.flush()
    return before, wanted


# The verb the audit log records for each status asked for
_ACTION = {CampaignStatus.ACTIVE: "start", CampaignStatus.PAUSED: "pause", CampaignStatus.STOPPED: "stop"}
