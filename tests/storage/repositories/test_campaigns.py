"""Campaigns repository on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from storage.engine import session_factory
from storage.errors import AlreadyExists, InvalidValue
from storage.models import CampaignMode, CampaignStatus
from storage.repositories.campaigns import add_campaign, get_campaign_by_name, list_campaigns
from tests.storage.factories import unique


async def test_add_get_and_list(engine: AsyncEngine, session: AsyncSession) -> None:
    prefix = unique("zz-")
    names = [f"{prefix} Cartão", f"{prefix} Atraso 30"]
    for name in names:
        await add_campaign(session, name=name, dial_template="PJSIP/{number}@trunk", caller_id="0303123", pbx_name="sp1",
                           mode="predictive", window_override={"sáb": None})
    await session.commit()

    async with session_factory(engine)() as fresh:
        got = await get_campaign_by_name(fresh, names[0])
        listed = [c.name for c in await list_campaigns(fresh) if c.name.startswith(prefix)]
    assert got is not None
    assert (got.mode, got.status, got.ring_timeout_s, got.abandon_cap) == (
        CampaignMode.PREDICTIVE, CampaignStatus.PAUSED, 25.0, 0.03)
    assert got.window_override == {"sáb": None}
    assert listed == sorted(names)
    assert await get_campaign_by_name(session, unique()) is None


async def test_duplicate_name_is_refused(session: AsyncSession) -> None:
    name = unique("dup ")
    await add_campaign(session, name=name, dial_template="Local/{number}@cust-sim", caller_id="1", pbx_name="sim")
    with pytest.raises(AlreadyExists, match=f"campaign '{name}'"):
        await add_campaign(session, name=name, dial_template="Local/{number}@cust-sim", caller_id="1", pbx_name="sim")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("dial_template", "PJSIP/trunk", "dial_template 'PJSIP/trunk' must contain {number}"),
     ("mode", "turbo", "mode 'turbo' is not one of: manual, preview, progressive, predictive"),
     ("status", "on", "status 'on' is not one of: active, paused")],
)
async def test_bad_values_are_named(session: AsyncSession, field: str, value: str, message: str) -> None:
    fields: dict[str, str] = {"dial_template": "Local/{number}@x", "mode": "manual", "status": "active"}
    fields[field] = value
    with pytest.raises(InvalidValue) as caught:
        await add_campaign(session, name=unique(), caller_id="1", pbx_name="sim", **fields)  # type: ignore[arg-type]
    assert str(caught.value) == message
