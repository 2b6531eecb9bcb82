"""The wallboard feed coalesces: one snapshot per period, sent only when the floor changed, never numbered."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from dialer.floor.snapshot import AgentRow, CampaignRow, FloorSnapshot
from dialer.pacing.live import PacingFigures
from web.supervisor_console.feed import FloorFeed
from web.supervisor_console.hub import SupervisorHub
from web.supervisor_console.services import LoginNames

T0 = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)


class FakeSocket:
    async def send_str(self, text: str) -> None: ...

    async def close(self, **_: Any) -> None: ...


class Names(LoginNames):
    def __init__(self) -> None:
        super().__init__(None)  # type: ignore[arg-type]
        self.asked = 0

    async def resolve(self, user_ids: Any) -> dict[int, str]:
        self.asked += 1
        return {1: "ana"}


class Floor:
    """A runtime whose snapshot the test changes, counting how often it is built."""

    def __init__(self) -> None:
        agent = AgentRow(1, "Ana Souza", "7001", "ready", T0, None, True, None, None, None, 0, 0)
        campaign = CampaignRow(3, "Varejo", "active", "progressive", 2.0, 0.03, 0, 0, 0, 0)
        self.snapshot = FloorSnapshot(T0, True, (agent,), (campaign,))
        self.built = 0

    def floor_snapshot(self) -> FloorSnapshot:
        self.built += 1
        return replace(self.snapshot, at=T0 + timedelta(seconds=self.built))  # ``at`` alone never makes a frame

    def campaign_figures(self, campaign_id: int) -> PacingFigures | None:
        return None

    def set_state(self, state: str) -> None:
        agent = replace(self.snapshot.agents[0], state=state)
        self.snapshot = replace(self.snapshot, agents=(agent,))


def _floor_frames(link: Any) -> list[dict[str, Any]]:
    frames = []
    while not link._queue.empty():
        frames.append(json.loads(link._queue.get_nowait()))
    return [f for f in frames if f["type"] == "floor"]


async def test_one_frame_per_period_however_many_changes_and_none_without_change() -> None:
    hub = SupervisorHub(clock=lambda: T0)
    floor = Floor()
    feed = FloorFeed(hub, Names(), lambda: floor)
    assert await feed.tick() is False and floor.built == 0  # nobody watching: no snapshot is even built
    link = hub.connect(7, FakeSocket(), name="Sofia", last_seq=None, epoch=None, pending=list)
    assert await feed.tick() is True
    [first] = _floor_frames(link)
    assert first["seq"] == 0 and first["agents"][0]["state"] == "ready" and first["agents"][0]["login"] == "ana"

    for state in ["reserved", "on_call", "wrap_up", "ready", "reserved", "on_call"] * 50:
        floor.set_state(state)  # 300 changes between two periods
    assert await feed.tick() is True
    [frame] = _floor_frames(link)
    assert frame["agents"][0]["state"] == "on_call"
    assert floor.built == 2  # one snapshot per period, not one per change

    assert await feed.tick() is False  # nothing changed (only ``at`` moved)
    assert _floor_frames(link) == []
    assert hub.channel(7).outbox.last_seq == 1  # only the approvals snapshot is numbered: floor frames are not kept
