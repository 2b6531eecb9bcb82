"""Published negotiation script versions (SPEC §7) and the script each campaign runs.

Publishing inserts a new row with the next version number; rows are never updated, so a
call's stored (script, version) always finds the exact text it ran.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import AlreadyExists, InvalidValue, NotFound
from storage.models import Campaign, ScriptVersion, utcnow

MAX_KEY_LENGTH = 80


@dataclass(frozen=True, slots=True)
class PublishedScript:
    key: str
    version: int
    yaml_text: str
    published_at: datetime
    published_by: int | None


def _published(row: ScriptVersion) -> PublishedScript:
    return PublishedScript(row.script_key, row.version, row.yaml_text, row.published_at, row.published_by)


async def publish_version(
    session: AsyncSession, key: str, yaml_text: str, *, published_by: int | None, at: datetime | None = None
) -> PublishedScript:
    """Insert the next version of ``key``; AlreadyExists when a concurrent publish took the number."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidValue(f"script key {key!r} must have 1 to {MAX_KEY_LENGTH} characters")
    current = await session.scalar(select(func.max(ScriptVersion.version)).where(ScriptVersion.script_key == key))
    row = ScriptVersion(
        script_key=key, version=(current or 0) + 1, yaml_text=yaml_text, published_at=at or utcnow(), published_by=published_by
    )
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        raise AlreadyExists(f"script {key!r} version {row.version} was published concurrently; publish again") from None
    return _published(row)


async def latest_version(session: AsyncSession, key: str) -> PublishedScript | None:
    """The newest published version of ``key``, or None if it was never published."""
    row = await session.scalar(
        select(ScriptVersion).where(ScriptVersion.script_key == key).order_by(ScriptVersion.version.desc()).limit(1)
    )
    return _published(row) if row is not None else None


async def get_version(session: AsyncSession, key: str, version: int) -> PublishedScript | None:
    row = await session.scalar(
        select(ScriptVersion).where(ScriptVersion.script_key == key, ScriptVersion.version == version)
    )
    return _published(row) if row is not None else None


async def list_versions(session: AsyncSession) -> dict[str, list[PublishedScript]]:
    """Every published version, grouped by script key (keys sorted, newest version first)."""
    rows = await session.scalars(select(ScriptVersion).order_by(ScriptVersion.script_key, ScriptVersion.version.desc()))
    out: dict[str, list[PublishedScript]] = {}
    for row in rows:
        out.setdefault(row.script_key, []).append(_published(row))
    return out


async def set_campaign_script(session: AsyncSession, campaign_id: int, key: str | None) -> None:
    """Point a campaign at a published script (None: back to the default); the key must be published."""
    campaign = await session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(f"campaign {campaign_id} does not exist")
    if key is not None and await latest_version(session, key) is None:
        raise NotFound(f"script {key!r} has no published version")
    campaign.script_key = key
    await session.flush()


async def campaign_script(session: AsyncSession, campaign_id: int) -> PublishedScript | None:
    """The latest published version of the campaign's script; None when it runs the default."""
    key = await session.scalar(select(Campaign.script_key).where(Campaign.id == campaign_id))
    if key is None:
        return None
    return await latest_version(session, key)


async def campaign_script_keys(session: AsyncSession) -> dict[int, str]:
    """Campaign id → script key, for the campaigns that run a published script."""
    rows = await session.execute(select(Campaign.id, Campaign.script_key).where(Campaign.script_key.is_not(None)))
    return {campaign_id: key for campaign_id, key in rows if key is not None}


__all__ = [
    "campaign_script_keys",
    "PublishedScript",
    "campaign_script",
    "get_version",
    "latest_version",
    "list_versions",
    "publish_version",
    "set_campaign_script",
]
