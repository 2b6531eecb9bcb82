"""Campaigns: add one, find one by name, list them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import AlreadyExists, InvalidValue
from storage.models import Campaign, CampaignMode, CampaignStatus
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
