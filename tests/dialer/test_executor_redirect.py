"""The executor tells the floor of a Redirect Asterisk refused, and only then (robust2)."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest

from dialer.ami.actions import Redirect
from dialer.errors import AmiActionFailed, AmiError, AmiLinkLost, AmiNotConnected, AmiTimeout
from dialer.executor import EffectRunner
from dialer.floor import effects as fx


class FakeFloor:
    def __init__(self) -> None:
        self.failed: list[tuple[int, str, str]] = []

    def redirect_failed(self, user_id: int, call_id: str, reason: str) -> list[fx.Effect]:
        self.failed.append((user_id, call_id, reason))
        return []


class FakeGateway:
    def __init__(self, exc: AmiError | None) -> None:
        self.exc = exc
        self.sent: list[Redirect] = []

    async def redirect(self, action: Redirect) -> None:
        self.sent.append(action)
        if self.exc is not None:
            raise self.exc


@pytest.mark.parametrize(
    ("exc", "told"),
    [
        (None, False),
        (AmiActionFailed("Redirect", "Channel does not exist: Local/5511999990001@cust-sim-0000000a;1"), True),
        (AmiActionFailed("Redirect", "Redirect failed"), True),
        (AmiNotConnected("Redirect: AMI link to sim is down"), True),  # never sent
        (AmiTimeout("Redirect r1: no complete reply within 3 s"), False),  # it may have been carried out
        (AmiLinkLost("Redirect", "r1"), False),
    ],
    ids=["done", "channel-gone", "refused", "not-sent", "timeout", "link-lost"],
)
async def test_only_a_redirect_that_surely_did_not_happen_frees_the_agent(exc: AmiError | None, told: bool) -> None:
    floor, gateway = FakeFloor(), FakeGateway(exc)
    runner = EffectRunner(cast(Any, floor), cast(Any, gateway), cast(Any, None), cast(Any, None))
    redirect = Redirect(channel="Local/5511999990001@cust-sim-0000000a;1", context="cobra-agent-bridge", exten="7001")
    runner.apply([fx.SendRedirect(redirect, "c1", 1)])
    while runner._tasks:
        await asyncio.sleep(0)
    assert gateway.sent == [redirect]
    assert [(u, c) for u, c, _ in floor.failed] == ([(1, "c1")] if told else [])
    if told and isinstance(exc, AmiActionFailed):
        assert exc.message in floor.failed[0][2]
