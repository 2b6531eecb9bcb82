"""The simulator over real TCP: the issue's acceptance check, the session rules, load."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dialer.simulator import SimulatorServer
from tests.support.raw_ami import RawAmiClient, ev, reply_to

ROOT = Path(__file__).resolve().parents[2]
FAST = 0.05


async def originate(c: RawAmiClient, number: str, aid: str, **extra: str) -> None:
    headers = {"Action": "Originate", "ActionID": aid, "Channel": f"Local/{number}@cust-sim",
               "Context": "cobra-outbound", "Exten": "s", "Priority": "1", "Timeout": "15000",
               "CallerID": "Cobra <551130000000>", "Variable": f"COBRA_CALL={aid}", "Async": "true"}
    headers.update(extra)
    await c.send(**headers)


@pytest.fixture
async def sim():
    server = SimulatorServer(time_scale=FAST)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def client(sim: SimulatorServer):
    c = await RawAmiClient.connect("127.0.0.1", sim.port)
    assert (await c.login())["Response"] == "Success"
    yield c
    await c.close()


async def test_acceptance_answered_call_then_hangup(client: RawAmiClient) -> None:
    """The issue's check: Success for a number ending in 1, then its Hangup."""
    await originate(client, "5511999990001", "acc-1")
    queued = await client.wait_for(reply_to("acc-1"))
    assert (queued["Response"], queued["Message"]) == ("Success", "Originate successfully queued")
    resp = await client.wait_for(ev("OriginateResponse", ActionID="acc-1"))
    assert resp["Response"] == "Success" and resp["Reason"] == "4"
    assert resp["Channel"].startswith("Local/5511999990001@cust-sim-") and resp["Channel"].endswith(";1")
    hangup = await client.wait_for(ev("Hangup"))
    assert hangup["Linkedid"] == resp["Uniqueid"]


async def test_acceptance_busy_number_fails_with_reason_5(client: RawAmiClient) -> None:
    await originate(client, "5511999990002", "acc-2")
    resp = await client.wait_for(ev("OriginateResponse", ActionID="acc-2"))
    assert (resp["Response"], resp["Reason"], resp["Uniqueid"]) == ("Failure", "5", "<unknown>")
    assert resp["Channel"] == "Local/5511999990002@cust-sim"


@pytest.mark.parametrize(("number", "reason", "timeout"), [
    ("5511999990003", "3", "4000"),   # rings past the Originate timeout
    ("5511999990004", "8", "15000"),  # congestion
])
async def test_failures_by_last_digit(client: RawAmiClient, number: str, reason: str, timeout: str) -> None:
    await originate(client, number, "f-1", Timeout=timeout)
    resp = await client.wait_for(ev("OriginateResponse", ActionID="f-1"))
    assert (resp["Response"], resp["Reason"]) == ("Failure", reason)


async def test_far_end_that_stops_ringing_is_reason_0_with_cause_19(client: RawAmiClient) -> None:
    """Digit 3 stops ringing after 20 s (Hangup(19)): with a longer timeout Asterisk 22 says
    Reason 0, the cause only in the HangupRequest and Hangup events (no_answer_far_end.ami)."""
    await originate(client, "5511999990003", "f-2", Timeout="30000")
    resp = await client.wait_for(ev("OriginateResponse", ActionID="f-2"))
    assert (resp["Response"], resp["Reason"]) == ("Failure", "0")
    await client.wait_for(lambda m: m.get("Event") == "Hangup" and m["Channel"].endswith(";1"))
    causes = [(m["Event"], m["Channel"][-2:], m["Cause"]) for m in client.received
              if m.get("Event") in ("HangupRequest", "Hangup")]
    assert causes == [("HangupRequest", ";1", "19"), ("Hangup", ";2", "19"), ("Hangup", ";1", "19")]


async def test_channel_ids_set_uniqueids_of_both_halves(client: RawAmiClient) -> None:
    await originate(client, "5511999990005", "ids-1", ChannelId="cobra-a1", OtherChannelId="cobra-a1-2")
    resp = await client.wait_for(ev("OriginateResponse", ActionID="ids-1"))
    assert resp["Uniqueid"] == "cobra-a1"
    two = next(m for m in client.received if m.get("Event") == "Newchannel" and m["Channel"].endswith(";2"))
    assert (two["Uniqueid"], two["Linkedid"]) == ("cobra-a1-2", "cobra-a1")


async def test_variables_repeated_and_comma_lists_all_set(client: RawAmiClient) -> None:
    await client.send_pairs([("Action", "Originate"), ("ActionID", "v-1"), ("Channel", "Local/5511999990005@cust-sim"),
                             ("Context", "cobra-outbound"), ("Exten", "s"), ("Variable", "A=1,B=2"),
                             ("Variable", "C=x\\,y"), ("Async", "true")])
    await client.wait_for(ev("OriginateResponse", ActionID="v-1"))
    sets = {(m["Variable"], m["Value"]) for m in client.received
            if m.get("Event") == "VarSet" and m["Channel"].endswith(";1")}
    assert {("A", "1"), ("B", "2"), ("C", "x,y")} <= sets


async def test_bad_secret_refused_then_closed() -> None:
    async with SimulatorServer(time_scale=FAST) as server:
        c = await RawAmiClient.connect("127.0.0.1", server.port)
        assert c.banner == "Asterisk Call Manager/11.0.0"
        resp = await c.login(secret="wrong")
        assert (resp["Response"], resp["Message"]) == ("Error", "Authentication failed")
        await c.read_until_closed()
        await c.close()


async def test_actions_before_login_are_denied(sim: SimulatorServer) -> None:
    c = await RawAmiClient.connect("127.0.0.1", sim.port)
    await c.send(Action="CoreShowChannels", ActionID="x")
    resp = await c.wait_for(reply_to("x"))
    assert (resp["Response"], resp["Message"]) == ("Error", "Permission denied")
    await c.close()


async def test_events_header_filters_classes(sim: SimulatorServer) -> None:
    calls_only = await RawAmiClient.connect("127.0.0.1", sim.port)
    await calls_only.login(Events="call")
    silent = await RawAmiClient.connect("127.0.0.1", sim.port)
    await silent.login(Events="off")
    await originate(calls_only, "5511999990002", "e-1")
    await calls_only.wait_for(ev("OriginateResponse"))
    await silent.send(Action="Ping", ActionID="p")
    await silent.wait_for(reply_to("p"))
    privileges = {m.get("Privilege") for m in calls_only.received if m.get("Event")}
    assert privileges == {"call,all"}  # no FullyBooted (system), SuccessfulAuth (security), Newexten (dialplan)
    assert not [m for m in silent.received if m.get("Event")]
    await calls_only.close()
    await silent.close()


async def test_freeze_pings_leaves_ping_unanswered(sim: SimulatorServer, client: RawAmiClient) -> None:
    sim.freeze_pings = True
    await client.send(Action="Ping", ActionID="p-1")
    with pytest.raises(TimeoutError):
        await client.wait_for(reply_to("p-1"), timeout=0.3)
    sim.freeze_pings = False
    await client.send(Action="Ping", ActionID="p-2")
    pong = await client.wait_for(reply_to("p-2"))
    assert pong["Ping"] == "Pong" and float(pong["Timestamp"]) > 0


async def test_drop_connections_closes_clients_and_keeps_listening(sim: SimulatorServer, client: RawAmiClient) -> None:
    await sim.drop_connections()
    await client.read_until_closed(timeout=5)
    again = await RawAmiClient.connect("127.0.0.1", sim.port)
    assert (await again.login())["Response"] == "Success"
    await again.close()


async def test_received_actions_records_every_action_in_order(sim: SimulatorServer, client: RawAmiClient) -> None:
    await client.send(Action="Ping", ActionID="r-1")
    await client.send(Action="NoSuchAction", ActionID="r-2")
    await client.wait_for(reply_to("r-2"))
    assert [m.get("ActionID") for m in sim.received_actions] == ["login-1", "r-1", "r-2"]


async def test_scenario_decides_outcomes_and_amd(tmp_path: Path) -> None:
    scenario = {
        "name": "all-machines", "seed": 3,
        "outcomes": {"live": 0, "machine": 1, "busy": 0, "congestion": 0, "no_answer": 0},
        "ring_to_answer_s": {"dist": "lognormal", "mean": 2, "sd": 0.5},
        "ring_to_fail_s": {"dist": "lognormal", "mean": 2, "sd": 0.5},
        "no_answer_timeout_s": 25,
        "amd_detect_s": {"dist": "lognormal", "mean": 2.5, "sd": 0.8},
        "talk_s": {"dist": "lognormal", "mean": 30, "sd": 5},
        "connect_window_s": 2.0,
    }
    path = tmp_path / "machines.json"
    path.write_text(json.dumps(scenario))
    async with SimulatorServer(scenario=str(path), time_scale=FAST) as server:
        c = await RawAmiClient.connect("127.0.0.1", server.port)
        await c.login()
        # any last digit: the scenario, not the number, decides
        await c.send(Action="Originate", ActionID="m-1", Channel="Local/5511999990002@cust-sim",
                     Context="cobra-amd", Exten="s", Async="true")
        resp = await c.wait_for(ev("OriginateResponse", ActionID="m-1"))
        assert resp["Response"] == "Success"
        status = await c.wait_for(ev("VarSet", Variable="AMDSTATUS"))
        assert status["Value"] == "MACHINE"
        cause = await c.wait_for(ev("VarSet", Variable="AMDCAUSE"))
        assert cause["Value"].startswith("LONGGREETING-")
        await c.close()


async def test_300_concurrent_originates_all_answered_and_hung_up() -> None:
    """Load: 300 calls at once (mixed outcomes) each get their OriginateResponse and Hangups."""
    async with SimulatorServer(time_scale=0.02) as server:
        c = await RawAmiClient.connect("127.0.0.1", server.port)
        await c.login()
        n = 300
        payload = b"".join(
            (f"Action: Originate\r\nActionID: load-{i}\r\nChannel: Local/55119{i:07d}{i % 5 + 1}@cust-sim\r\n"
             f"Context: cobra-outbound\r\nExten: s\r\nTimeout: 6000\r\nVariable: COBRA_CALL=load-{i}\r\n"
             f"Async: true\r\n\r\n").encode()
            for i in range(n))
        await c.send_raw(payload)
        responses: dict[str, str] = {}
        while len(responses) < n:
            m = await c.wait_for(ev("OriginateResponse"), timeout=30)
            responses[m["ActionID"]] = m["Response"]
        # last digits 1 and 5 answer; 2, 3 (rings past the 6 s timeout) and 4 fail
        assert sum(1 for r in responses.values() if r == "Success") == n * 2 // 5
        # every channel that was created is hung up
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while server.pbx.channels and loop.time() < deadline:
            await c.drain_for(0.2)
        created = {m["Channel"] for m in c.received if m.get("Event") == "Newchannel"}
        hung = {m["Channel"] for m in c.received if m.get("Event") == "Hangup"}
        assert len(created) == 2 * n and created == hung
        await c.close()


@pytest.mark.slow
def test_cli_pbx_sim_subprocess_serves_ami(tmp_path: Path) -> None:
    """``cobra pbx-sim --port 0`` in its own process: it prints its address and answers AMI."""
    proc = subprocess.Popen(
        [sys.executable, "-c", "from web.cli.main import main; main()", "pbx-sim", "--port", "0",
         "--time-scale", "0.05", "--secret", "s3cret"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "COBRA_PBX_SIM_ORIGINATE_LOG": str(tmp_path / "answered.txt")},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("pbx-sim: AMI on 127.0.0.1:"), line
        port = int(line.split("127.0.0.1:")[1].split()[0])

        async def talk() -> None:
            c = await RawAmiClient.connect("127.0.0.1", port)
            assert (await c.login(secret="s3cret"))["Response"] == "Success"
            await originate(c, "5511999990001", "cli-1")
            resp = await c.wait_for(ev("OriginateResponse", ActionID="cli-1"))
            assert resp["Response"] == "Success"
            await c.wait_for(ev("Hangup"))
            await c.close()

        asyncio.run(talk())
    finally:
        proc.send_signal(2)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "pbx-sim: stopped" in out
    # the env var's file names the answered call with the monotonic time it was written at (the bench's hook)
    call_id, at = (tmp_path / "answered.txt").read_text().split()
    assert call_id == "cli-1" and 0 < float(at) <= time.monotonic()


async def test_originate_log_names_answered_calls_only_with_their_write_time(tmp_path: Path) -> None:
    log = tmp_path / "answered.txt"
    async with SimulatorServer(time_scale=FAST, originate_log=log) as server:
        c = await RawAmiClient.connect("127.0.0.1", server.port)
        assert (await c.login())["Response"] == "Success"
        before = time.monotonic()
        await originate(c, "5511999990002", "busy-1")  # busy: a failed OriginateResponse
        await originate(c, "5511999990001", "live-1")
        await c.wait_for(ev("OriginateResponse", ActionID="busy-1"))
        await c.wait_for(ev("OriginateResponse", ActionID="live-1"))
        read_at = time.monotonic()
        await c.close()
    lines = log.read_text().splitlines()
    assert [line.split()[0] for line in lines] == ["live-1"]
    assert before <= float(lines[0].split()[1]) <= read_at
