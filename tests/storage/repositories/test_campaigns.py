"""Campaigns repository on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from storage.engine import session_factory
from storage.errors import AlreadyExists, InvalidValue
from storage.models import CampaignMode, CampaignStatus
from storage.repositories.audit import entries_for
from storage.repositories.campaigns import add_campaign, get_campaign_by_name, list_campaigns, set_campaign_status
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
     ("status", "on", "status 'on' is not one of: active, paused, stopped")],
)
async def test_bad_values_are_named(session: AsyncSession, field: str, value: str, message: str) -> None:
    fields: dict[str, str] = {"dial_template": "Local/{number}@x", "mode": "manual", "status": "active"}
    fields[field] = value
    with pytest.raises(InvalidValue) as caught:
        await add_campaign(session, name=unique(), caller_id="1", pbx_name="sim", **fields)  # type: ignore[arg-type]
    assert str(caught.value) == message


AT = datetime(2026, 3, 2, 13, 30, tzinfo=UTC)


async def test_set_status_changes_it_and_audits_who_when_before_after(engine: AsyncEngine, session: AsyncSession) -> None:
    campaign = await add_campaign(session, name=unique("st "), dial_template="Local/{number}@x", caller_id="1",
                                  pbx_name="sim")
    await session.commit()

    changed = await set_campaign_status(session, campaign.id, CampaignStatus.ACTIVE, user_id=None, at=AT, source="cli")
    stopped = await set_campaign_status(session, campaign.id, "stopped", user_id=None, at=AT, source="api")
    await session.commit()

    assert changed == (CampaignStatus.PAUSED, CampaignStatus.ACTIVE)
    assert stopped == (CampaignStatus.ACTIVE, CampaignStatus.STOPPED)
    async with session_factory(engine)() as fresh:
        stored = await get_campaign_by_name(fresh, campaign.name)
        entries = await entries_for(fresh, "campaign", campaign.id, oldest_first=True)
    assert stored is not None and stored.status is CampaignStatus.STOPPED
    assert [(e.action, e.user_id, e.at, e.before, e.after) for e in entries] == [
        ("campaign.start", None, AT, {"status": "paused"}, {"status": "active", "source": "cli"}),
        ("campaign.stop", None, AT, {"status": "active"}, {"status": "stopped", "source": "api"}),
    ]


async def test_set_status_of_an_unknown_campaign_is_none_and_writes_nothing(session: AsyncSession) -> None:
    missing = 2_000_000_000
    assert await set_campaign_status(session, missing, CampaignStatus.PAUSED, user_id=None, at=AT, source="api") is None
    assert await entries_for(session, "campaign", missing) == []


async def test_set_status_rolls_back_with_the_callers_transaction(engine: AsyncEngine, session: AsyncSession) -> None:
    campaign = await add_campaign(session, name=unique("rb "), dial_template="Local/{number}@x", caller_id="1",
                                  pbx_name="sim")
    await session.commit()
    campaign_id, name = campaign.id, campaign.name  # the rollback expires the object
    await set_campaign_status(session, campaign_id, CampaignStatus.ACTIVE, user_id=None, at=AT, source="api")
    await session.rollback()
    async with session_factory(engine)() as fresh:
        stored = await get_campaign_by_name(fresh, name)
        assert await entries_for(fresh, "campaign", campaign_id) == []
    assert stored is not None and stored.status is CampaignStatus.PAUSED


async def test_set_status_refuses_an_unknown_status(session: AsyncSession) -> None:
    with pytest.raises(InvalidValue, match="status 'running' is not one of: active, paused, stopped"):
        await set_campaign_status(session, 1, "running", user_id=None, at=AT, source="api")
