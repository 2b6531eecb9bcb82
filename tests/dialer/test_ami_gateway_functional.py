"""AmiGateway end to end: real TCP against the PBX simulator."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Callable

import pytest

from dialer.ami import events as ev
from dialer.ami.actions import (
    REASON_ANSWERED,
    REASON_BUSY,
    REASON_RING_TIMEOUT,
    Hangup,
    MixMonitor,
    Originate,
    Redirect,
)
from dialer.ami.gateway import (
    AmiGateway,
    AmiSettings,
    GatewayItem,
    LinkChanged,
    LinkState,
    Received,
)
from dialer.errors import (
    AmiActionFailed,
    AmiAuthError,
    AmiLinkLost,
    AmiNotConnected,
    AmiTimeout,
    AmiValueError,
)
from dialer.simulator.server import SimulatorServer
from tests.support.traces import load_trace

# Simulated delays run 50 times faster: a customer answers after 20 ms instead of 1 s
TIME_SCALE = 0.02
# Guard for waits that should end almost at once; reaching it is a failure, not a measurement
GUARD_S = 5.0


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorServer]:
    server = SimulatorServer(host="127.0.0.1", port=0, username="cobra", secret="cobra", time_scale=TIME_SCALE)
    await server.start()
    yield server
    await server.stop()


def _settings(sim: SimulatorServer, **overrides: object) -> AmiSettings:
    base = {
        "host": "127.0.0.1",
        "port": sim.port,
        "username": "cobra",
        "secret": "cobra",
        "ping_interval_s": 60.0,  # the watchdog stays out of the way unless a test wants it
        "action_timeout_s": 2.0,
        "reconnect_initial_s": 0.02,
        "reconnect_max_s": 0.2,
    }
    base.update(overrides)
    return AmiSettings(**base)  # type: ignore[arg-type]


@pytest.fixture
async def gw(sim: SimulatorServer) -> AsyncIterator[AmiGateway]:
    gateway = AmiGateway(_settings(sim))
    await gateway.start()
    yield gateway
    await gateway.stop()


async def _next(gw: AmiGateway, match: Callable[[GatewayItem], bool]) -> GatewayItem:
    """Consume the gateway's stream up to the first item ``match`` accepts."""

    async def scan() -> GatewayItem:
        while True:
            item = await gw.queue.get()
            if match(item):
                return item

    return await asyncio.wait_for(scan(), GUARD_S)


def _originates(sim: SimulatorServer) -> list[str]:
    return [m.get("ActionID") or "" for m in sim.received_actions if m.get("Action") == "Originate"]


def _customer(number: str, **kwargs: object) -> Originate:
    return Originate(
        channel=f"Local/{number}@cust-sim",
        context="cobra-outbound",
        exten="s",
        timeout_ms=kwargs.pop("timeout_ms", 15000),  # type: ignore[arg-type]
        caller_id="Cobra <551130000000>",
        **kwargs,  # type: ignore[arg-type]
    )


async def test_login_subscribes_to_the_dialer_event_classes(sim: SimulatorServer, gw: AmiGateway) -> None:
    assert gw.connected and gw.state is LinkState.UP and gw.up.is_set()
    login = sim.received_actions[0]
    assert login.get("Action") == "Login"
    assert login.get("Events") == "call,agent,system,dialplan"
    items = [gw.queue.get_nowait() for _ in range(gw.queue.qsize())]
    states = [item.state for item in items if isinstance(item, LinkChanged)]
    assert states == [LinkState.CONNECTING, LinkState.LOGGING_IN, LinkState.UP]
    booted = [item.event for item in items if isinstance(item, Received)]
    assert booted == [ev.FullyBooted(status="Fully Booted")]  # system class; no security events
    assert await gw.ping() >= 0


async def test_a_refused_login_raises_and_leaves_the_gateway_stopped(sim: SimulatorServer) -> None:
    gateway = AmiGateway(_settings(sim, secret="wrong"))
    with pytest.raises(AmiAuthError, match="login as 'cobra' refused: Authentication failed"):
        await gateway.start()
    assert gateway.state is LinkState.STOPPED
    assert not gateway.connected
    with pytest.raises(AmiNotConnected):
        await gateway.ping()


async def test_start_fails_clearly_when_nothing_listens(sim: SimulatorServer) -> None:
    port = sim.port
    await sim.stop()
    gateway = AmiGateway(_settings(sim, port=port, connect_timeout_s=0.5))
    with pytest.raises(AmiNotConnected, match=rf"127\.0\.0\.1:{port}: not up within 0\.3 s \(connect failed"):
        await gateway.start(timeout=0.3)
    assert gateway.state is LinkState.STOPPED


async def test_an_answered_originate_gives_one_result_and_typed_events_with_our_channel_id(
    gw: AmiGateway,
) -> None:
    action = _customer("5511999990001", channel_id="att-1", variables={"COBRA_CALL": "att-1"})
    result = await gw.originate(action)
    assert result.success and result.answered and result.reason == REASON_ANSWERED
    assert result.queued and result.error is None
    assert result.uniqueid == "att-1"
    assert result.channel is not None and result.channel.endswith(";1")

    newchannel = await _next(gw, lambda i: isinstance(i, Received) and isinstance(i.event, ev.Newchannel))
    assert isinstance(newchannel, Received) and isinstance(newchannel.event, ev.Newchannel)
    assert newchannel.event.ch.uniqueid == "att-1"
    response = await _next(gw, lambda i: isinstance(i, Received) and isinstance(i.event, ev.OriginateResponse))
    assert isinstance(response, Received) and isinstance(response.event, ev.OriginateResponse)
    assert response.event.action_id == action.action_id
    assert response.event.uniqueid == "att-1"
    assert response.at >= newchannel.at
    assert gw.pending_originates == {}


async def test_a_busy_originate_fails_with_reason_5(gw: AmiGateway) -> None:
    result = await gw.originate(_customer("5511999990002"))
    assert not result.success
    assert result.reason == REASON_BUSY
    assert result.error == "busy"


async def test_originate_without_channel_id_gets_one(gw: AmiGateway) -> None:
    action = _customer("5511999990001")
    result = await gw.originate(action)
    assert result.uniqueid == f"{action.action_id}-c"


async def test_an_action_without_a_reply_times_out_and_is_forgotten(sim: SimulatorServer, gw: AmiGateway) -> None:
    sim.freeze_pings = True
    with pytest.raises(AmiTimeout, match=r"^Ping .*: no complete reply within 0\.2 s"):
        await gw.ping(timeout=0.2)
    assert gw.connected  # a user's ping does not judge the link; the watchdog does
    protocol = gw._protocol
    assert protocol is not None and protocol.responses == {}
    sim.freeze_pings = False
    assert await gw.ping() >= 0


async def test_reconnect_after_a_drop_never_resends_the_originate(sim: SimulatorServer, gw: AmiGateway) -> None:
    seen: list[LinkState] = []
    gw.on_link_change(lambda state, reason: seen.append(state))
    action = _customer("5511999990003", timeout_ms=60_000, channel_id="att-drop")
    pending = asyncio.create_task(gw.originate(action))
    await _next(gw, lambda i: isinstance(i, Received) and isinstance(i.event, ev.Newchannel))
    assert set(gw.pending_originates) == {"att-drop"}

    await sim.drop_connections()
    with pytest.raises(AmiLinkLost) as lost:
        await asyncio.wait_for(pending, GUARD_S)
    assert lost.value.channel_id == "att-drop"
    assert lost.value.action_id == action.action_id

    await gw.wait_up(GUARD_S)
    assert seen[:4] == [LinkState.RECONNECTING, LinkState.CONNECTING, LinkState.LOGGING_IN, LinkState.UP]
    assert gw.logins == 2
    # A round trip after the reconnect: whatever the client wrote before it has been read
    await gw.ping()
    assert _originates(sim) == [action.action_id]
    down = await _next(gw, lambda i: isinstance(i, LinkChanged) and i.state is LinkState.RECONNECTING)
    assert isinstance(down, LinkChanged) and down.reason == "connection closed"


async def test_the_ping_watchdog_aborts_a_frozen_link_and_reconnects(sim: SimulatorServer) -> None:
    gateway = AmiGateway(_settings(sim, ping_interval_s=0.05, ping_timeout_s=0.1))
    went_down = asyncio.Event()
    gateway.on_link_change(lambda state, reason: went_down.set() if state is LinkState.RECONNECTING else None)
    await gateway.start()
    try:
        sim.freeze_pings = True
        await asyncio.wait_for(went_down.wait(), GUARD_S)
        assert gateway.missed_pings >= 1
        assert gateway.last_error is not None and "no reply to Ping" in gateway.last_error
        sim.freeze_pings = False
        await gateway.wait_up(GUARD_S)
        assert gateway.logins >= 2
        assert await gateway.ping() >= 0
    finally:
        await gateway.stop()
    assert gateway.state is LinkState.STOPPED


async def test_the_injection_value_is_refused_before_anything_is_written(sim: SimulatorServer, gw: AmiGateway) -> None:
    sent = next(
        b for b in load_trace("injection_attempt") if b.direction == "send" and b.lines[0] == "Action: Originate"
    )
    start = next(i for i, line in enumerate(sent.lines) if line.startswith("Channel: "))
    end = next(i for i, line in enumerate(sent.lines) if line.startswith("Context: "))
    channel = "\r\n".join(sent.lines[start:end]).removeprefix("Channel: ")
    assert channel == "Local/5511999990001@cust-sim\r\nAction: Command\r\nCommand: core show version"
    before = list(sim.received_actions)

    with pytest.raises(AmiValueError, match=r"^channel: contains a line break \(CR\)"):
        await gw.originate(Originate(channel=channel, context="cobra-outbound", exten="s"))

    await gw.ping()  # anything written before this round trip has reached the server
    after = sim.received_actions[len(before) :]
    assert [m.get("Action") for m in after] == ["Ping"]
    assert gw.pending_originates == {}


async def test_a_call_can_be_listed_recorded_redirected_and_hung_up(gw: AmiGateway) -> None:
    action = _customer("5511999990001", channel_id="att-live")
    result = await gw.originate(action)
    assert result.channel is not None
    channels = await gw.core_show_channels()
    assert "att-live" in {c.ch.uniqueid for c in channels}

    recording = await gw.mix_monitor(MixMonitor(result.channel, "/var/spool/cobra/att-live.wav", "b"))
    assert recording.ok
    await _next(gw, lambda i: isinstance(i, Received) and isinstance(i.event, ev.MixMonitorStart))

    assert await gw.confbridge_list("agent7001") == []
    moved = await gw.redirect(Redirect(result.channel, "cobra-outbound", "s"))
    assert moved.message == "Redirect successful"

    hung = await gw.hangup(Hangup(channel=result.channel, cause=16))
    assert hung.ok
    hangup = await _next(
        gw, lambda i: isinstance(i, Received) and isinstance(i.event, ev.Hangup) and i.event.ch.uniqueid == "att-live"
    )
    assert isinstance(hangup, Received) and isinstance(hangup.event, ev.Hangup)
    with pytest.raises(AmiActionFailed, match="^Hangup: No such channel"):
        await gw.hangup(Hangup(channel=result.channel))


async def test_ring_timeout_is_reason_3(gw: AmiGateway) -> None:
    result = await gw.originate(_customer("5511999990003", timeout_ms=2000))
    assert (result.success, result.reason) == (False, REASON_RING_TIMEOUT)


async def test_stop_ends_the_event_stream(sim: SimulatorServer) -> None:
    gateway = AmiGateway(_settings(sim))
    await gateway.start()
    await gateway.stop()
    states = [item.state async for item in gateway.events() if isinstance(item, LinkChanged)]
    assert states[-1] is LinkState.STOPPED
    assert sim.received_actions[-1].get("Action") == "Logoff"


async def test_start_without_waiting_comes_up_in_the_background(sim: SimulatorServer) -> None:
    gateway = AmiGateway(_settings(sim))
    await gateway.start(wait=False)
    try:
        assert gateway.state in (LinkState.CONNECTING, LinkState.LOGGING_IN)
        with pytest.raises(AmiNotConnected, match=r"^Ping: AMI link to 127\.0\.0\.1:\d+ is (connecting|logging_in)"):
            await gateway.ping()
        await gateway.wait_up(GUARD_S)
        assert await gateway.ping() >= 0
    finally:
        await gateway.stop()


def _gateway_records(caplog: pytest.LogCaptureFixture, level: int | None = None) -> list[logging.LogRecord]:
    return [
        r for r in caplog.records if r.name == "dialer.ami.gateway" and (level is None or r.levelno == level)
    ]


async def test_link_up_and_down_are_logged_once_each_without_the_secret(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="dialer.ami.gateway")
    secret = "s3cret-never-logged"
    async with SimulatorServer(host="127.0.0.1", port=0, username="cobra", secret=secret, time_scale=TIME_SCALE) as sim:
        gateway = AmiGateway(_settings(sim, secret=secret))
        await gateway.start()
        try:
            [up] = _gateway_records(caplog, logging.INFO)
            assert up.getMessage() == (
                f"AMI 127.0.0.1:{sim.port}: link up, logged in as 'cobra' (events call,agent,system,dialplan)"
            )
            assert _gateway_records(caplog, logging.WARNING) == []

            went_down = asyncio.Event()
            gateway.on_link_change(lambda state, reason: went_down.set() if state is LinkState.RECONNECTING else None)
            caplog.clear()
            await sim.drop_connections()
            await asyncio.wait_for(went_down.wait(), GUARD_S)
            await gateway.wait_up(GUARD_S)
            [down] = _gateway_records(caplog, logging.WARNING)
            assert down.getMessage().startswith(f"AMI 127.0.0.1:{sim.port}: link down (connection ")
            assert down.getMessage().endswith("reconnecting in 0.02 s, backing off up to 0.2 s")
            [again] = _gateway_records(caplog, logging.INFO)
            assert again.getMessage().startswith(f"AMI 127.0.0.1:{sim.port}: link up, logged in as 'cobra'")
        finally:
            await gateway.stop()
    assert [r.getMessage() for r in _gateway_records(caplog, logging.INFO)][-1] == (
        f"AMI 127.0.0.1:{sim.port}: link stopped"
    )
    assert secret not in caplog.text


async def test_retries_while_the_pbx_is_away_log_one_warning_then_debug_lines(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="dialer.ami.gateway")
    sim = SimulatorServer(host="127.0.0.1", port=0, username="cobra", secret="cobra", time_scale=TIME_SCALE)
    await sim.start()
    port = sim.port
    gateway = AmiGateway(_settings(sim, reconnect_max_s=0.05))
    await gateway.start()
    try:
        await sim.stop()  # Asterisk goes away: every reconnect attempt is refused

        async def failed(n: int) -> None:
            while gateway.failed_attempts < n:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(failed(4), GUARD_S)
        warnings = _gateway_records(caplog, logging.WARNING)
        assert [w.getMessage().split(" (")[0] for w in warnings] == [f"AMI 127.0.0.1:{port}: link down"]
        retries = [r.getMessage() for r in _gateway_records(caplog, logging.DEBUG) if ": attempt " in r.getMessage()]
        # each retry says which attempt it was and the backoff, which doubles up to the cap
        for line, (n, delay) in zip(retries[:3], ((1, 0.04), (2, 0.05), (3, 0.05)), strict=True):
            assert re.fullmatch(
                rf"AMI 127\.0\.0\.1:{port}: attempt {n} failed \(connect failed: .+\); retrying in {delay:g} s", line
            ), line

        caplog.clear()
        back = SimulatorServer(host="127.0.0.1", port=port, username="cobra", secret="cobra", time_scale=TIME_SCALE)
        await back.start()
        try:
            await gateway.wait_up(GUARD_S)
            [up] = _gateway_records(caplog, logging.INFO)
            assert up.getMessage().startswith(f"AMI 127.0.0.1:{port}: link up, logged in as 'cobra'")
            assert " after " in up.getMessage() and up.getMessage().endswith("failed attempt(s)")
            assert gateway.failed_attempts == 0
        finally:
            await gateway.stop()
            await back.stop()
    finally:
        await gateway.stop()


async def test_a_pbx_that_never_answers_is_reported_once(sim: SimulatorServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="dialer.ami.gateway")
    port = sim.port
    await sim.stop()
    gateway = AmiGateway(_settings(sim, port=port, reconnect_max_s=0.05))
    await gateway.start(wait=False)
    try:

        async def failed(n: int) -> None:
            while gateway.failed_attempts < n:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(failed(3), GUARD_S)
    finally:
        await gateway.stop()
    warnings = [w.getMessage() for w in _gateway_records(caplog, logging.WARNING)]
    assert len(warnings) == 1 and warnings[0].startswith(f"AMI 127.0.0.1:{port}: cannot connect (connect failed")
    assert _gateway_records(caplog, logging.ERROR) == []


async def test_a_refused_login_is_logged_once_however_often_it_is_retried(
    sim: SimulatorServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="dialer.ami.gateway")
    gateway = AmiGateway(_settings(sim, secret="wrong", reconnect_max_s=0.05))
    await gateway.start(wait=False)
    try:

        async def failed(n: int) -> None:
            while gateway.failed_attempts < n:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(failed(3), GUARD_S)
    finally:
        await gateway.stop()
    [error] = [r.getMessage() for r in _gateway_records(caplog, logging.ERROR)]
    assert error == f"AMI 127.0.0.1:{sim.port}: login as 'cobra' refused: Authentication failed"
    assert _gateway_records(caplog, logging.WARNING) == []
    assert "wrong" not in caplog.text
