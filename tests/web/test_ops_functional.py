"""The operators' routes on a real server: /healthz, /readyz (database and AMI link), /metrics
(Prometheus text that moves when a call connects), and a graceful stop closing sockets with 1001."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import WSCloseCode, web
from aiohttp.test_utils import TestClient
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from dialer.simulator.server import SimulatorServer
from tests.dialer.runtime_support import add_campaign, add_lead
from tests.web.agent_rig import DeskRig, WsAgent, desk_of, desk_rig
from tests.web.conftest import AiohttpClient, log_in
from web.keys import DB_READ
from web.ops.loop_lag import LoopLagMonitor

Client = TestClient[web.Request, web.Application]
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str) -> Samples:
    """Every sample of a Prometheus text page, by (name, sorted labels)."""
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(scraped: Samples, name: str, **labels: str) -> float | None:
    return scraped.get((name, tuple(sorted(labels.items()))))


async def scrape(http: aiohttp.ClientSession | Client, base: str = "") -> Samples:
    async with http.get(f"{base}/metrics") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain")
        return samples(await resp.text())


# ---------------------------------------------------------------------- without a dialer


@pytest.fixture
async def client(aiohttp_client: AiohttpClient, app: web.Application) -> Client:
    return await aiohttp_client(app)


async def test_healthz_answers_ok_without_login_or_database(aiohttp_client: AiohttpClient, app: web.Application) -> None:
    def no_database() -> Any:
        raise AssertionError("/healthz must not touch the database")

    app[DB_READ] = no_database  # type: ignore[assignment]
    client = await aiohttp_client(app)
    resp = await client.get("/healthz")
    assert resp.status == 200 and (await resp.text()).strip() == "ok"


async def test_readyz_without_a_dialer_is_503_naming_it(client: Client) -> None:
    resp = await client.get("/readyz")
    assert resp.status == 503
    body = await resp.json()
    assert body == {"ready": False, "database": "ok", "ami_link": "no_dialer", "reasons": ["dialer not running"]}


async def test_readyz_says_when_the_database_does_not_answer(aiohttp_client: AiohttpClient, app: web.Application) -> None:
    async def broken() -> None:
        raise OSError("disk gone")

    class Sessions:
        def __call__(self) -> Any:
            return self

        async def __aenter__(self) -> None:
            await broken()

        async def __aexit__(self, *_exc: object) -> None:
            return None

    app[DB_READ] = Sessions()  # type: ignore[assignment]
    client = await aiohttp_client(app)
    body = await (await client.get("/readyz")).json()
    assert body["database"] == "error" and body["reasons"][0] == "database: OSError: disk gone"


async def test_ops_routes_need_no_login_and_metrics_parse(client: Client) -> None:
    page = await scrape(client)
    assert value(page, "cobra_dialer_running") == 0
    assert value(page, "cobra_ami_link_up") == 0
    assert value(page, "cobra_websockets", page="agent") == 0
    assert value(page, "cobra_screen_pops_total") == 0
    assert value(page, "cobra_call_attempts_today", result="connected") == 0
    assert value(page, "process_resident_memory_bytes")  # the process figures are there too
    assert value(page, "cobra_event_loop_lag_seconds_count") is not None  # sampled from the app's start
    # still public after a login (the middleware lets them through either way)
    await log_in(client, "ana")
    assert (await client.get("/healthz")).status == 200


async def test_a_loop_held_by_a_blocking_call_shows_as_lag() -> None:
    registry = CollectorRegistry()
    monitor = LoopLagMonitor(registry, interval_s=0.05)
    monitor.start()
    try:
        await asyncio.sleep(0.12)  # a few ordinary samples
        time.sleep(0.25)  # noqa: ASYNC251  (holds the loop on purpose: the sampler wakes >= 0.2 s late)
        for _ in range(10):
            await asyncio.sleep(0.05)
    finally:
        await monitor.stop()
    page = samples(generate_latest(registry).decode())
    late = value(page, "cobra_event_loop_lag_seconds_bucket", le="+Inf")
    on_time = value(page, "cobra_event_loop_lag_seconds_bucket", le="0.1")
    assert late is not None and on_time is not None
    assert late - on_time >= 1  # the held loop, seen as over 100 ms late
    assert monitor.worst_s >= 0.2


# ---------------------------------------------------------------------- with the dialer on the simulator


@pytest.fixture
async def rig(db_url: str) -> AsyncIterator[DeskRig]:
    async with desk_rig(db_url) as r:
        yield r


async def _status(http: aiohttp.ClientSession, url: str) -> tuple[int, dict[str, Any]]:
    async with http.get(url) as resp:
        return resp.status, await resp.json()


async def _until(check: Callable[[], Any], what: str) -> Any:
    deadline = asyncio.get_running_loop().time() + 10.0  # a guard, not a measurement
    while True:
        got = await check()
        if got:
            return got
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"never: {what}")
        await asyncio.sleep(0.02)


async def test_readyz_is_503_while_the_pbx_is_down_and_200_once_it_is_back(rig: DeskRig) -> None:
    async with aiohttp.ClientSession() as http:
        status, body = await _status(http, f"{rig.url}/readyz")
        assert (status, body["ami_link"], body["database"]) == (200, "up", "ok")

        port = rig.sim.port
        await rig.sim.stop()
        status, body = await _until(
            lambda: _down(http, f"{rig.url}/readyz"), "readyz 503 while the simulator is stopped"
        )
        assert body["ami_link"] == "down" and body["reasons"] == ["ami link down: dialing paused"]
        page = await scrape(http, rig.url)
        assert value(page, "cobra_ami_link_up") == 0

        back = SimulatorServer(port=port, time_scale=0.1)
        await back.start()
        try:
            await _until(lambda: _up(http, f"{rig.url}/readyz"), "readyz 200 after the simulator restarts")
            assert value(await scrape(http, rig.url), "cobra_ami_link_up") == 1
        finally:
            await back.stop()


async def _down(http: aiohttp.ClientSession, url: str) -> tuple[int, dict[str, Any]] | None:
    status, body = await _status(http, url)
    return (status, body) if status == 503 else None


async def _up(http: aiohttp.ClientSession, url: str) -> bool:
    status, _ = await _status(http, url)
    return status == 200


async def test_metrics_move_when_a_call_connects(rig: DeskRig) -> None:
    agent = await WsAgent.log_in(rig.url, "ana")
    await agent.connect()
    try:
        async with aiohttp.ClientSession() as http:
            before = await scrape(http, rig.url)
            assert value(before, "cobra_websockets", page="agent") == 1
            assert value(before, "cobra_ami_link_up") == 1 and value(before, "cobra_dialer_running") == 1
            assert value(before, "cobra_calls_in_flight", phase="connected") == 0
            assert value(before, "cobra_screen_pops_total") == 0

            async with rig.db.begin() as s:
                campaign = await add_campaign(s, running=False, name="Cartões")
                await add_lead(s, campaign, "5511987650011")
            await desk_of(rig.app).runtime.set_campaign_running(campaign.id, True)
            await agent.request({"type": "set_state", "state": "ready"})
            pop = await agent.wait_for(lambda f: f["type"] == "screen_pop", "screen-pop")
            await agent.wait_for(
                lambda f: f["type"] == "call_state" and f["call_id"] == pop["call_id"] and f["phase"] == "connected",
                "connected",
            )

            after = await scrape(http, rig.url)
            assert value(after, "cobra_calls_in_flight", phase="connected") == 1
            assert value(after, "cobra_agents", state="on_call") == 1
            assert value(after, "cobra_screen_pops_total") == 1
            assert value(after, "cobra_screen_pop_latency_seconds_count") == 1
            assert value(after, "cobra_screen_pop_latency_seconds_bucket", le="+Inf") == 1

            async def attempt_stored() -> bool:
                # the dialer's writer stores the attempt on its own time, "open" until the connect is stored
                page = await scrape(http, rig.url)
                today = {k[1][0][1]: v for k, v in page.items() if k[0] == "cobra_call_attempts_today" and v}
                return today in ({"open": 1.0}, {"connected": 1.0})

            await _until(attempt_stored, "the open attempt counted from the database")
            labels = {"campaign_id": str(campaign.id), "campaign": "Cartões"}
            assert value(after, "cobra_campaign_abandon_rate", window="today", **labels) == 0.0
            assert value(after, "cobra_campaign_live_answers_today", **labels) is not None  # counted when calls end
            assert value(after, "cobra_writer_queue_depth") is not None
    finally:
        await agent.close()


async def test_a_graceful_stop_closes_open_sockets_with_1001(db_url: str) -> None:
    rig_cm = desk_rig(db_url)
    rig = await rig_cm.__aenter__()
    stopped = False
    agent = await WsAgent.log_in(rig.url, "ana")
    supervisor = await WsAgent.log_in(rig.url, "sofia")
    try:
        await agent.connect()
        await agent.wait_for(lambda f: f["type"] == "hello", "hello")
        console = await supervisor.http.ws_connect("/ws/supervisor", origin=rig.url)
        await console.send_json({"type": "hello"})
        assert (await asyncio.wait_for(console.receive_json(), 10.0))["type"] == "hello"

        # the stop cobra serve does on SIGTERM: shutdown (sockets), then the dialer and the engine
        stopping = asyncio.ensure_future(rig_cm.__aexit__(None, None, None))
        assert agent.ws is not None and agent._reader is not None
        await asyncio.wait_for(agent._reader, 10.0)
        msg = await asyncio.wait_for(console.receive(), 10.0)
        while msg.type is aiohttp.WSMsgType.TEXT:  # frames queued before the close
            msg = await asyncio.wait_for(console.receive(), 10.0)
        await asyncio.wait_for(stopping, 20.0)
        stopped = True
    finally:
        await agent.http.close()
        await supervisor.http.close()
        if not stopped:
            await rig_cm.__aexit__(None, None, None)
    assert agent.ws.close_code == WSCloseCode.GOING_AWAY
    assert (msg.type, msg.data, msg.extra) == (aiohttp.WSMsgType.CLOSE, WSCloseCode.GOING_AWAY, "servidor reiniciando")
