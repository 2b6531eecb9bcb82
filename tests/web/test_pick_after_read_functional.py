"""A pick on a pooled SQLite connection that last served a read-only session (``query_only``): the pages
read through such sessions on the engine the dialer picks from, so a pick must lift ``query_only`` as
every writing transaction does (the campaign page's polling made the dialer fail with "attempt to write
a readonly database" and stop dialing)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from dialer.leads.hopper import Hopper
from storage.engine import create_engine, read_session_factory, session_factory
from storage.models import Campaign
from tests.dialer.runtime_support import add_campaign, add_lead

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # a Monday, 12:00 in São Paulo


async def test_a_pick_after_a_read_only_session_on_the_same_connection(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine).begin() as db:
            campaign = await add_campaign(db, name="Cartões")
            await add_lead(db, campaign, "5511987650011")
            campaign_id = campaign.id
        for _ in range(3):  # the pool hands the same connection back: the read leaves query_only on it
            async with read_session_factory(engine)() as db:
                assert (await db.execute(select(Campaign.name))).scalar_one() == "Cartões"
        claimed = await Hopper(session_factory(engine)).claim_next(campaign_id, NOW)
        assert claimed is not None and claimed.external_id == "ext-5511987650011"
    finally:
        await engine.dispose()
