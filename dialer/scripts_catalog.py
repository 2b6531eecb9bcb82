"""Which published script each campaign's calls run, loaded into the floor's :class:`~dialer.floor.session.ScriptBook`.

The screen-pop starts the run synchronously, so the campaign → script map is loaded ahead:
when the service starts, after every publish or assignment made through the API, and when
the dialer's per-tick re-read of the campaigns sees a campaign's script change (a change
made by any process).
"""

from __future__ import annotations

import dataclasses
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialer.floor.session import ScriptBook
from scripting.script import Script, ScriptError, check_script
from storage.repositories.scripts import (
    PublishedScript,
    campaign_script_keys,
    latest_version,
)

log = logging.getLogger(__name__)


def script_from(published: PublishedScript) -> Script:
    """The stored text as a validated Script whose id and version are the stored ones."""
    script = check_script(published.yaml_text, f"{published.key} v{published.version}")
    return dataclasses.replace(script, id=published.key, version=published.version)


async def load_campaign_scripts(db: AsyncSession) -> dict[int, Script]:
    """Campaign id → the latest published version of its script (campaigns on the default are left out)."""
    keys = await campaign_script_keys(db)
    scripts: dict[str, Script] = {}
    for key in sorted(set(keys.values())):
        published = await latest_version(db, key)
        if published is None:
            continue
        try:
            scripts[key] = script_from(published)
        except ScriptError as exc:  # published before a rule got stricter: the default is safer than no script
            log.error("script %s v%s no longer validates; its campaigns use the default: %s", key, published.version, exc)
    return {campaign_id: scripts[key] for campaign_id, key in keys.items() if key in scripts}


async def refresh_campaign_scripts(db: async_sessionmaker[AsyncSession], book: ScriptBook) -> None:
    """Reload the map and swap it in whole, so a pop never sees it half-built."""
    async with db() as session:
        book.replace(await load_campaign_scripts(session))
