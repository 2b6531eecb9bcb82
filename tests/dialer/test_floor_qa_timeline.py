"""The floor keeps what the QA timeline needs: when the customer's phone rang and who hung up (pure)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dialer.calls.events import (
    CallAnswered,
    CallConnected,
    CallEnded,
    CallFailed,
    CallRinging,
    FailReason,
)
from dialer.floor import effects as fx
from dialer.floor.model import Floor
from dialer.floor.settings import DialerSettings
from tests.dialer.test_floor_model import (
    BOOK,
    T0,
    Clocks,
    a_call,
    answered_call,
    campaign,
    ready_agent,
)


@pytest.fixture
def floor() -> Floor:
    clocks = Clocks()
    f = Floor(DialerSettings(recording=False, connect_window_s=2.0), wall=clocks.wall, mono=clocks.mono, scripts=BOOK)
    f.running = True
    f.link_up = True
    f.campaign_changed(campaign())
    return f


def _ended(out: list[fx.Effect]) -> fx.StoreEnded:
    return next(e for e in out if isinstance(e, fx.StoreEnded))


def test_the_ring_time_and_the_customer_side_reach_the_store(floor: Floor) -> None:
    ready_agent(floor, 1)
    info = floor.campaigns[1]
    floor.claimed(fx.ClaimRequest(1, 1), [a_call("c1", info)])
    floor.apply_events([CallRinging("c1", 102.0), CallRinging("c1", 103.0)])  # the first ring counts
    floor.apply_events([CallAnswered("c1", "Local/5511999990001@cust-sim-c1;1", "u-c1", 104.0)])
    floor.apply_events([CallConnected("c1", "7001", "agent7001", 104.2, 0.2)])
    stored = _ended(floor.apply_events([CallEnded("c1", 16, "Normal Clearing", 110.0, True, True, False, 6.0, 5.8)]))
    assert stored.ringing_at == T0 + timedelta(seconds=2)
    assert stored.side == "customer"


def test_desligar_makes_the_agent_the_side(floor: Floor) -> None:
    ready_agent(floor, 1)
    answered_call(floor)
    floor.apply_events([CallConnected("c1", "7001", "agent7001", 100.2, 0.2)])
    assert floor.hangup(1, "c1")
    stored = _ended(floor.apply_events([CallEnded("c1", 16, "", 101.0, True, True, False, 1.0, 0.8)]))
    assert stored.side == "agent" and stored.ringing_at is None


def test_a_failed_call_keeps_its_ring_time(floor: Floor) -> None:
    info = floor.campaigns[1]
    floor.claimed(fx.ClaimRequest(1, 1), [a_call("c2", info)])
    floor.apply_events([CallRinging("c2", 101.5)])
    out = floor.apply_events([CallFailed("c2", FailReason.NO_ANSWER, 3, 126.0, 19)])
    failed = next(e for e in out if isinstance(e, fx.StoreFailed))
    assert failed.ringing_at == T0 + timedelta(seconds=1.5)
