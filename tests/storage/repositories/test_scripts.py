"""Published script versions: numbering, immutability, listing, the campaign's script."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import InvalidValue, NotFound
from storage.models import Role
from storage.repositories.scripts import (
    campaign_script,
    get_version,
    latest_version,
    list_versions,
    publish_version,
    set_campaign_script,
)
from tests.storage.factories import make_campaign, make_user, unique


async def test_publish_numbers_versions_and_keeps_old_text(session: AsyncSession) -> None:
    user = await make_user(session, Role.SUPERVISOR)
    key = unique("s_")
    at = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    first = await publish_version(session, key, "id: a\n", published_by=user.id, at=at)
    second = await publish_version(session, key, "id: b\n", published_by=None)
    assert (first.version, second.version) == (1, 2)
    assert first.published_at == at and first.published_by == user.id
    again = await get_version(session, key, 1)
    assert again is not None and again.yaml_text == "id: a\n"
    latest = await latest_version(session, key)
    assert latest is not None and (latest.version, latest.yaml_text) == (2, "id: b\n")
    assert await latest_version(session, unique("never_")) is None
    await session.rollback()


async def test_keys_number_independently_and_list_newest_first(session: AsyncSession) -> None:
    a, b = unique("a_"), unique("b_")
    await publish_version(session, a, "1", published_by=None)
    await publish_version(session, b, "1", published_by=None)
    await publish_version(session, a, "2", published_by=None)
    listed = await list_versions(session)
    assert [v.version for v in listed[a]] == [2, 1]
    assert [v.version for v in listed[b]] == [1]
    await session.rollback()


async def test_empty_key_is_refused(session: AsyncSession) -> None:
    with pytest.raises(InvalidValue, match="script key"):
        await publish_version(session, "", "x", published_by=None)
    await session.rollback()


async def test_campaign_runs_latest_version_of_its_key(session: AsyncSession) -> None:
    campaign = await make_campaign(session)
    assert await campaign_script(session, campaign.id) is None  # the default script
    key = unique("c_")
    with pytest.raises(NotFound, match="no published version"):
        await set_campaign_script(session, campaign.id, key)
    await publish_version(session, key, "v1", published_by=None)
    await set_campaign_script(session, campaign.id, key)
    await publish_version(session, key, "v2", published_by=None)
    found = await campaign_script(session, campaign.id)
    assert found is not None and (found.key, found.version, found.yaml_text) == (key, 2, "v2")
    await set_campaign_script(session, campaign.id, None)
    assert await campaign_script(session, campaign.id) is None
    with pytest.raises(NotFound, match="campaign"):
        await set_campaign_script(session, 10**9, key)
    await session.rollback()
