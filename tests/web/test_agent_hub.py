"""The hub on its own: numbering, replay vs. snapshot, the identity gate, slow sockets cut."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from dialer.agents.desktop import CallPhase, PopCustomer, PopDebt, ScreenPop
from dialer.agents.state import AgentState, AgentStatus, PauseReason
from web.agent.hub import LINK_QUEUE_SIZE, OUTBOX_CAPACITY, AgentHub

AT = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 12:00 in São Paulo, a Monday


class Socket:
    """Records what the hub sends; ``stall`` makes every send hang (a browser that stopped reading)."""

    def __init__(self, stall: bool = False) -> None:
        self.sent: list[dict[str, Any]] = []
        self.closed_with: int | None = None
        self.stall = stall

    async def send_str(self, data: str) -> None:
        if self.stall:
            await asyncio.sleep(3600)
        self.sent.append(json.loads(data))

    async def close(self, *, code: int = 1000, message: bytes = b"") -> bool:
        self.closed_with = code
        return True


def pop(call_id: str = "c1") -> ScreenPop:
    return ScreenPop(
        call_id=call_id,
        campaign_id=1,
        campaign_name="Carteira A",
        mode="progressive",
        customer=PopCustomer(7, "João Gonçalves da Silva", "João", "***.456.789-**", "SP"),
        phone_e164="+5511987654321",
        phone_masked="(11) *****-4321",
        debts=(PopDebt("CT-1", "Banco Aurora", "Cartão", Decimal(1000), Decimal("1234.56"), date(2025, 3, 10), 357),),
        total_balance=Decimal("1234.56"),
        attempts=(),
        promises=(),
        attempts_today=1,
        attempts_7d=3,
        created_at=AT,
    )


def connect(hub: AgentHub, sock: Socket, last_seq: int | None = None, epoch: str | None = None, **kw: Any) -> Any:
    return hub.connect(1, sock, name="Ana", extension="7001", last_seq=last_seq, epoch=epoch,
                       status_of=kw.get("status_of"), pop_of=kw.get("pop_of"))


async def drain(link: Any, sock: Socket) -> None:
    """Let the link's sender write what is queued (the test owns that task here)."""
    task = asyncio.create_task(link.run())
    for _ in range(100):
        if link.pending == 0:
            break
        await asyncio.sleep(0)
    link.cut("fim do teste")
    await asyncio.wait_for(task, 1)


async def test_fresh_connection_gets_hello_then_a_snapshot() -> None:
    hub = AgentHub(clock=lambda: AT)
    hub.agent_state(1, AgentStatus(AgentState.READY), AT)
    sock = Socket()
    link = connect(hub, sock)
    await drain(link, sock)
    assert [(f["type"], f["seq"]) for f in sock.sent] == [("hello", 0), ("agent_state", 2)]
    assert sock.sent[0]["resumed"] is False and sock.sent[1]["label"] == "Disponível"


async def test_resume_replays_exactly_the_missed_frames() -> None:
    hub = AgentHub(clock=lambda: AT)
    for _ in range(5):
        hub.call_state(1, "c1", CallPhase.CONNECTING, AT)
    epoch = hub.channel(1).epoch
    sock = Socket()
    link = connect(hub, sock, last_seq=3, epoch=epoch)
    hub.call_ended(1, "c1", "connected", 16, AT)  # arrives after the replay, in order
    await drain(link, sock)
    assert [(f["type"], f["seq"]) for f in sock.sent] == [
        ("hello", 0), ("call_state", 4), ("call_state", 5), ("call_ended", 6)
    ]
    assert sock.sent[0]["resumed"] is True


@pytest.mark.parametrize("case", ["other epoch", "too old", "from the future"])
async def test_resume_that_cannot_be_served_falls_back_to_a_snapshot_with_the_pop(case: str) -> None:
    hub = AgentHub(clock=lambda: AT)
    hub.screen_pop(1, pop())
    for _ in range(OUTBOX_CAPACITY + 10):
        hub.call_state(1, "c1", CallPhase.CONNECTED, AT)
    epoch = hub.channel(1).epoch
    last, ep = {"other epoch": (3, "x"), "too old": (3, epoch), "from the future": (10_000, epoch)}[case]
    sock = Socket()
    status = AgentStatus(AgentState.ON_CALL)
    link = connect(hub, sock, last_seq=last, epoch=ep, status_of=lambda _: status, pop_of=lambda _: pop())
    await drain(link, sock)
    assert [f["type"] for f in sock.sent] == ["hello", "agent_state", "screen_pop", "call_state"]
    assert sock.sent[0]["resumed"] is False
    assert sock.sent[1]["state"] == "on_call" and sock.sent[2]["call_id"] == "c1"
    assert sock.sent[3]["phase"] == "connected"


async def test_pop_shows_the_debt_only_after_the_identity_is_confirmed() -> None:
    hub = AgentHub(clock=lambda: AT)
    sock = Socket()
    link = connect(hub, sock)
    hub.screen_pop(1, pop())
    hub.show_identity_confirmed(1, pop(), AT)  # the time is the call session's (the first confirmation)
    await drain(link, sock)
    gated, opened = [f for f in sock.sent if f["type"] == "screen_pop"]
    assert gated["details"] is None
    assert gated["summary"] == {
        "greeting_name": "João S.",
        "phone_masked": "(11) *****-4321",
        "local_time": "12:00",
        "window_open": True,
        "window_message": "Dentro do horário permitido (hora local 02/03/2026 12:00).",
        "attempts_today": 1,
        "attempts_7d": 3,
        "flags": [],
    }
    assert "1.234,56" not in json.dumps(gated) and "Gonçalves" not in json.dumps(gated)
    assert opened["details"]["total_balance"] == "R$ 1.234,56"
    assert opened["details"]["debts"][0]["due_date"] == "10/03/2025"
    assert opened["identity_confirmed_at"] == "2026-03-02T15:00:00Z"


async def test_a_snapshot_opens_the_pop_only_for_the_call_whose_identity_was_confirmed() -> None:
    hub = AgentHub(clock=lambda: AT)
    sock = Socket()
    link = connect(hub, sock)
    confirmed = {"c1": AT}  # the call session's answer: c1 was confirmed, c2 (the new call) not yet
    hub.snapshot(1, None, lambda _: pop("c2"), lambda _, call_id: confirmed.get(call_id))
    hub.snapshot(1, None, lambda _: pop("c1"), lambda _, call_id: confirmed.get(call_id))
    await drain(link, sock)
    c2, c1 = [f for f in sock.sent if f["type"] == "screen_pop"][-2:]
    assert (c2["call_id"], c2["details"]) == ("c2", None)
    assert c1["call_id"] == "c1" and c1["details"] is not None and c1["identity_confirmed_at"] == "2026-03-02T15:00:00Z"


async def test_back_to_ready_forgets_the_pop_for_snapshots() -> None:
    hub = AgentHub(clock=lambda: AT)
    hub.screen_pop(1, pop())
    hub.agent_state(1, AgentStatus(AgentState.PAUSED, PauseReason.LANCHE), AT)
    sock = Socket()
    link = connect(hub, sock)
    await drain(link, sock)
    assert [f["type"] for f in sock.sent] == ["hello", "agent_state"]
    assert sock.sent[1]["label"] == "Pausa: Lanche"


async def test_a_socket_that_stops_reading_is_cut_and_never_blocks_the_dialer() -> None:
    hub = AgentHub(clock=lambda: AT)
    slow, fine = Socket(stall=True), Socket()
    slow_link = connect(hub, slow)
    fine_link = hub.connect(2, fine, name="Bia", extension="7002", last_seq=None, epoch=None, status_of=None, pop_of=None)
    slow_task = asyncio.create_task(slow_link.run())
    fine_task = asyncio.create_task(fine_link.run())
    # the dialer notifies far more than the slow socket's queue holds: every call returns at once
    for i in range(LINK_QUEUE_SIZE + 5):
        hub.call_state(1, f"c{i}", CallPhase.CONNECTING, AT)
        hub.call_state(2, f"c{i}", CallPhase.CONNECTING, AT)
        await asyncio.sleep(0)  # the loop turns between calls, as it does between AMI events
    assert slow_link.dead == "fila de envio cheia" and hub.link_count(1) == 0 and hub.dropped_links == 1
    assert hub.link_count(2) == 1
    # what was missed stays in the outbox for the resume (its newest frames)
    assert hub.channel(1).outbox.since(hub.channel(1).outbox.last_seq - 3) is not None
    expected = 1 + 1 + LINK_QUEUE_SIZE + 5  # hello + snapshot + every frame
    try:
        for _ in range(5000):
            if len(fine.sent) == expected:
                break
            await asyncio.sleep(0)
        assert len(fine.sent) == expected
    finally:
        fine_link.cut("fim")
        slow_task.cancel()
        await asyncio.wait([fine_task, slow_task], timeout=1)


async def test_a_closed_socket_ends_its_sender() -> None:
    class Gone(Socket):
        async def send_str(self, data: str) -> None:
            raise ConnectionResetError("peer gone")

    hub = AgentHub(clock=lambda: AT)
    link = connect(hub, Gone())
    await asyncio.wait_for(link.run(), 1)
    assert link.dead == "conexão fechada"


def test_on_pop_runs_for_each_pop_and_snapshot_and_its_failure_is_contained() -> None:
    hub = AgentHub(clock=lambda: AT)
    seen: list[tuple[int, str, str]] = []
    hub.on_pop = lambda user_id, name, p: seen.append((user_id, name, p.call_id))
    connect(hub, Socket())
    hub.screen_pop(1, pop("c1"))
    hub.snapshot(1, None, lambda _: pop("c1"))
    assert seen == [(1, "Ana", "c1"), (1, "Ana", "c1")]

    def boom(user_id: int, name: str, p: ScreenPop) -> None:
        raise RuntimeError("script broken")

    hub.on_pop = boom
    hub.screen_pop(1, pop("c2"))  # the pop still goes out
    assert hub.channel(1).pop is not None and hub.channel(1).pop.call_id == "c2"


def test_on_pop_sent_gets_the_seconds_from_the_pop_to_its_frame_on_the_hub_clock_for_new_calls_only() -> None:
    made = pop("c1")
    hub = AgentHub(clock=lambda: made.created_at + timedelta(seconds=1.5))
    seen: list[float] = []
    hub.on_pop_sent = seen.append
    hub.screen_pop(1, made)
    assert seen == [1.5]
    hub.snapshot(1, None, None)  # a reconnect re-sends the pop: not a new pop, not measured again
    assert seen == [1.5]
