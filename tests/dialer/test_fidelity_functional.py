"""Fidelity: drive the simulator over TCP exactly as ``scenarios.py.txt`` drove Asterisk 22,
and compare what comes back with the recorded transcript.

What must match, for every transcript:

* the responses, in order, per ActionID: status, ``Message`` text, and the list events
  that follow them (kinds and counts);
* the keys (and their order) of every message kind both sides send;
* the kinds Cobra reads (``dialer.ami.events.EVENT_NAMES``) that the transcript holds;
* per call (grouped by Linkedid, with its OriginateResponse): the same Cobra-read events
  with the same salient values (state, context, priority, application and data, variable
  and value, dial status, cause...), the same dialplan steps in the same order per channel,
  and the same order for every two events that Asterisk emitted at different moments.

Two events Asterisk wrote within the same few milliseconds (one "burst") may come in
either order: Asterisk itself races there (stasis topics), e.g. ``ConfbridgeJoin`` comes
before the ``Newexten`` of the same channel in one recording and after it in another.
``concurrent_mixed`` is compared per call only, since calls interleave by timing.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable

import pytest

from dialer.ami.events import EVENT_NAMES
from dialer.ami.wire import Message
from dialer.simulator import SimulatorServer
from tests.support.raw_ami import RawAmiClient, ev
from tests.support.traces import load_trace, trace_names

SCALE = 0.1  # the simulator and the drivers' sleeps both run ten times faster
BURST_S = 0.015  # events closer than this in the recording are one burst: their order is free

# ---- drivers: scenarios.py.txt, action for action -------------------------------------------


async def sleep(s: float) -> None:
    await asyncio.sleep(s * SCALE)


def wait(c: RawAmiClient, pred: Callable[[Message], bool], timeout: float = 10) -> Awaitable[Message]:
    return c.wait_for(pred, timeout)


async def login(c: RawAmiClient) -> None:
    await c.send(Action="Login", ActionID="login-1", Username="cobra", Secret="cobra")
    await wait(c, lambda m: m.get("ActionID") == "login-1")


async def login_ping_status(r: RawAmiClient) -> None:
    await login(r)
    await r.send(Action="Ping", ActionID="ping-1")
    await wait(r, lambda m: m.get("ActionID") == "ping-1")
    await r.send(Action="CoreShowChannels", ActionID="csc-1")
    await wait(r, ev("CoreShowChannelsComplete"))
    await r.send(Action="NoSuchAction", ActionID="bad-1")
    await wait(r, lambda m: m.get("ActionID") == "bad-1")
    await r.send(Action="Originate", ActionID="bad-2")
    await wait(r, lambda m: m.get("ActionID") == "bad-2")
    await r.send(Action="Logoff", ActionID="bye-1")
    await sleep(0.5)


async def login_bad_secret(r: RawAmiClient) -> None:
    await r.send(Action="Login", ActionID="login-1", Username="cobra", Secret="wrong")
    await sleep(1.5)


async def originate(r: RawAmiClient, number: str, aid: str, timeout: int = 15000, var: str = "COBRA_CALL=call-1") -> None:
    await r.send(Action="Originate", ActionID=aid, Channel=f"Local/{number}@cust-sim",
                 Context="cobra-outbound", Exten="s", Priority="1", Timeout=str(timeout),
                 CallerID="Cobra <551130000000>", Variable=var, Async="true")


async def answered_abandoned(r: RawAmiClient) -> None:
    await login(r)
    await originate(r, "5511999990001", "orig-1")
    await wait(r, ev("OriginateResponse"), 20)
    await wait(r, lambda m: m.get("Event") == "Hangup" and m.get("Channel", "").endswith(";1"), 20)
    await sleep(1)


async def busy(r: RawAmiClient) -> None:
    await login(r)
    await originate(r, "5511999990002", "orig-2")
    await wait(r, ev("OriginateResponse"), 20)
    await sleep(1)


async def no_answer_timeout(r: RawAmiClient) -> None:
    await login(r)
    await originate(r, "5511999990003", "orig-3", timeout=4000)
    await wait(r, ev("OriginateResponse"), 20)
    await sleep(1)


async def congestion(r: RawAmiClient) -> None:
    await login(r)
    await originate(r, "5511999990004", "orig-4")
    await wait(r, ev("OriginateResponse"), 20)
    await sleep(1)


async def no_such_extension(r: RawAmiClient) -> None:
    await login(r)
    await r.send(Action="Originate", ActionID="orig-5", Channel="Local/123@no-such-context",
                 Context="cobra-outbound", Exten="s", Priority="1", Timeout="5000", Async="true")
    await wait(r, ev("OriginateResponse"), 20)
    await sleep(1)


async def agent_login_and_connect(r: RawAmiClient) -> None:
    await login(r)
    await r.send(Action="Originate", ActionID="agent-1", Channel="Local/7001@agent-sim",
                 Context="cobra-agent-bridge", Exten="7001", Priority="1", Timeout="15000",
                 CallerID="Cobra <agent1>", Variable="COBRA_AGENT=agent1", Async="true")
    await wait(r, ev("OriginateResponse"), 20)
    await wait(r, ev("ConfbridgeJoin"), 10)
    await originate(r, "5511999990001", "orig-6", var="COBRA_CALL=call-6")
    resp = await wait(r, ev("OriginateResponse"), 20)
    ch = resp["Channel"]
    await r.send(Action="Redirect", ActionID="redir-1", Channel=ch,
                 Context="cobra-agent-bridge", Exten="7001", Priority="1")
    await wait(r, lambda m: m.get("ActionID") == "redir-1")
    await wait(r, lambda m: m.get("Event") == "ConfbridgeLeave" and m.get("Channel") == ch, 20)
    await r.send(Action="ConfbridgeList", ActionID="cbl-1", Conference="agent7001")
    await wait(r, lambda m: m.get("ActionID") == "cbl-1" and m.get("Event") == "ConfbridgeListComplete"
               or (m.get("ActionID") == "cbl-1" and m.get("Response") == "Error"), 5)
    await r.send(Action="CoreShowChannels", ActionID="csc-2")
    await wait(r, ev("CoreShowChannelsComplete"))
    await r.send(Action="Hangup", ActionID="hup-1", Channel="/^Local\\/7001@agent-sim-.*;1$/")
    await wait(r, lambda m: m.get("ActionID") == "hup-1")
    await sleep(1.5)


async def agent_hangs_up_customer(r: RawAmiClient) -> None:
    await login(r)
    await r.send(Action="Originate", ActionID="agent-2", Channel="Local/7002@agent-sim",
                 Context="cobra-agent-bridge", Exten="7002", Priority="1", Timeout="15000", Async="true")
    await wait(r, ev("OriginateResponse"), 20)
    await wait(r, ev("ConfbridgeJoin"), 10)
    await originate(r, "5511999990001", "orig-7", var="COBRA_CALL=call-7")
    resp = await wait(r, ev("OriginateResponse"), 20)
    ch = resp["Channel"]
    await r.send(Action="MixMonitor", ActionID="mix-1", Channel=ch, File="/tmp/amirec/call-7.wav", Options="b")
    await wait(r, lambda m: m.get("ActionID") == "mix-1")
    await r.send(Action="Redirect", ActionID="redir-2", Channel=ch,
                 Context="cobra-agent-bridge", Exten="7002", Priority="1")
    await wait(r, lambda m: m.get("ActionID") == "redir-2")
    await wait(r, ev("ConfbridgeJoin"), 10)
    await sleep(1)
    await r.send(Action="Hangup", ActionID="hup-2", Channel=ch, Cause="16")
    await wait(r, lambda m: m.get("ActionID") == "hup-2")
    await sleep(1)
    await r.send(Action="Hangup", ActionID="hup-3", Channel="/^Local\\/7002@agent-sim-.*;1$/")
    await sleep(1.5)


async def supervisor_listen(r: RawAmiClient) -> None:
    await login(r)
    await r.send(Action="Originate", ActionID="agent-3", Channel="Local/7003@agent-sim",
                 Context="cobra-agent-bridge", Exten="7003", Priority="1", Timeout="15000", Async="true")
    await wait(r, ev("OriginateResponse"), 20)
    await wait(r, ev("ConfbridgeJoin"), 10)
    await r.send(Action="Originate", ActionID="spy-1", Channel="Local/7901@agent-sim",
                 Application="ChanSpy", Data="Local/7003@agent-sim,qE", Timeout="15000", Async="true")
    await wait(r, ev("OriginateResponse"), 20)
    await sleep(2)
    await r.send(Action="Hangup", ActionID="hup-4", Channel="/^Local\\/7901@agent-sim-.*;1$/")
    await r.send(Action="Hangup", ActionID="hup-5", Channel="/^Local\\/7003@agent-sim-.*;1$/")
    await sleep(1.5)


async def amd_on_silence(r: RawAmiClient) -> None:
    await login(r)
    await r.send(Action="Originate", ActionID="amd-1", Channel="Local/5511999990001@cust-sim",
                 Context="cobra-amd", Exten="s", Priority="1", Timeout="15000", Async="true")
    await wait(r, ev("OriginateResponse"), 20)
    await wait(r, lambda m: m.get("Event") == "Hangup" and "cust-sim" in m.get("Channel", ""), 20)
    await sleep(1)


async def quick_hangup_after_answer(r: RawAmiClient) -> None:
    await login(r)
    await originate(r, "5511999990005", "orig-8", var="COBRA_CALL=call-8")
    await wait(r, ev("OriginateResponse"), 20)
    await sleep(2)


async def injection_attempt(r: RawAmiClient) -> None:
    await login(r)
    # the raw client sends the value as is: CR LF inside it, as a careless client would
    await r.send(Action="Originate", ActionID="inj-1",
                 Channel="Local/5511999990001@cust-sim\r\nAction: Command\r\nCommand: core show version",
                 Context="cobra-outbound", Exten="s", Priority="1", Async="true")
    await sleep(2)


async def concurrent_mixed(r: RawAmiClient) -> None:
    await login(r)
    for i in range(20):
        d = str(i % 5 + 1)
        await originate(r, f"55119999{i:03d}0{d}", f"orig-c{i}", timeout=6000, var=f"COBRA_CALL=c{i}")
    for _ in range(20):
        await wait(r, lambda m: m.get("Event") == "OriginateResponse", 30)
    await sleep(6)


async def no_answer_far_end(r: RawAmiClient) -> None:
    await login(r)
    await originate(r, "5511999990003", "orig-9", timeout=25000, var="COBRA_CALL=call-9")
    await wait(r, ev("OriginateResponse"), 40)
    await sleep(1)


async def agent_leg_drops_mid_call(r: RawAmiClient) -> None:
    await login(r)
    await r.send(Action="Originate", ActionID="agent-4", Channel="Local/7004@agent-sim",
                 Context="cobra-agent-bridge", Exten="7004", Priority="1", Timeout="15000",
                 CallerID="Cobra <agent4>", Variable="COBRA_AGENT=agent4", Async="true")
    await wait(r, ev("OriginateResponse"), 20)
    await wait(r, ev("ConfbridgeJoin"), 10)
    await originate(r, "5511999990001", "orig-10", var="COBRA_CALL=call-10")
    resp = await wait(r, ev("OriginateResponse"), 20)
    ch = resp["Channel"]
    await r.send(Action="Redirect", ActionID="redir-3", Channel=ch,
                 Context="cobra-agent-bridge", Exten="7004", Priority="1")
    await wait(r, lambda m: m.get("ActionID") == "redir-3")
    await wait(r, lambda m: m.get("Event") == "ConfbridgeJoin" and m.get("Channel") == ch, 10)
    await sleep(0.5)
    await r.send(Action="Hangup", ActionID="hup-6", Channel="/^Local\\/7004@agent-sim-.*;1$/", Cause="16")
    await wait(r, lambda m: m.get("ActionID") == "hup-6")
    await r.send(Action="ConfbridgeList", ActionID="cbl-2", Conference="agent7004")
    await sleep(1)
    await r.send(Action="CoreShowChannels", ActionID="csc-3")
    await wait(r, ev("CoreShowChannelsComplete"))
    await wait(r, lambda m: m.get("Event") == "Hangup" and m.get("Channel") == ch, 20)
    await sleep(1)


DRIVERS: dict[str, Callable[[RawAmiClient], Awaitable[None]]] = {
    f.__name__: f for f in (
        login_ping_status, login_bad_secret, answered_abandoned, busy, no_answer_timeout, congestion,
        no_such_extension, agent_login_and_connect, agent_hangs_up_customer, supervisor_listen,
        amd_on_silence, quick_hangup_after_answer, injection_attempt, concurrent_mixed,
        no_answer_far_end, agent_leg_drops_mid_call,
    )
}

# ---- comparison -------------------------------------------------------------------------------

Timed = tuple[float, Message]
CHANNEL_SEQ = re.compile(r"-[0-9a-f]{8}(;[12])")
UNIQUEID = re.compile(r"^\d+\.\d+$")


def norm(value: str) -> str:
    """Channel names without their sequence number (``-0000000a``), which differs by run."""
    return CHANNEL_SEQ.sub(r"\1", value)


def kind(m: Message) -> str:
    if m.event is not None:
        return m.event
    return f"Response:{m.response}:{m.get('Message', '')}"


async def run_simulated(name: str) -> list[Message]:
    async with SimulatorServer(time_scale=SCALE) as sim:
        client = await RawAmiClient.connect("127.0.0.1", sim.port)
        assert client.banner == "Asterisk Call Manager/11.0.0"
        await DRIVERS[name](client)
        await client.drain_for(0.3 * SCALE)  # what is still in flight, not what comes later
        await client.close()
        return client.received


def recorded(name: str) -> list[Timed]:
    return [(b.t, b.message()) for b in load_trace(name)
            if b.direction == "recv" and not b.is_banner and not b.is_close]


def responses_by_action(msgs: list[Message]) -> dict[str, list[tuple[str, ...]]]:
    """Per ActionID, the responses and list events (no Privilege) in order, values that are stable."""
    out: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for m in msgs:
        aid = m.action_id
        if aid is None or m.get("Privilege") is not None:
            continue
        if m.response is not None:
            out[aid].append(("response", m.response, m.get("Message", ""), m.get("EventList", "")))
        else:
            out[aid].append(("event", m.event or "", norm(m.get("Channel", "")), m.get("ListItems", "")))
    return dict(out)


def key_layouts(msgs: list[Message]) -> dict[str, set[tuple[str, ...]]]:
    out: dict[str, set[tuple[str, ...]]] = defaultdict(set)
    for m in msgs:
        out[kind(m)].add(tuple(m.keys()))
    return dict(out)


def channel_of(m: Message) -> tuple[str, str] | None:
    """(channel, linkedid) an event is about."""
    for prefix in ("", "Dest", "LocalOne", "Spyer"):
        ch = m.get(prefix + "Channel")
        if ch is not None and m.get(prefix + "Uniqueid") is not None:
            return ch, m.get(prefix + "Linkedid") or m[prefix + "Uniqueid"]
    return None


SALIENT = ("ChannelState", "Context", "Exten", "Priority", "Application", "AppData", "Variable", "Value",
           "Cause", "Cause-txt", "DialStatus", "DialString", "Conference", "BridgeNumChannels", "Response",
           "Reason", "CallerIDNum", "CallerIDName", "Data", "SpyeeChannel", "DestChannelState", "LocalOneChannelState",
           "LocalTwoChannel", "LocalTwoChannelState")


def signature(m: Message) -> tuple[str, ...]:
    chan = channel_of(m)
    name = norm(chan[0]) if chan else norm(m.get("Channel", "")).removesuffix(";1") + ";1"
    return (m.event or "", name) + tuple(f"{k}={norm(m[k])}" for k in SALIENT if k in m)


def calls(msgs: list[Timed]) -> dict[str, list[Timed]]:
    """Cobra-read events grouped by call: the normalised name of the channel that owns the Linkedid."""
    owner: dict[str, str] = {}
    for _, m in msgs:
        if m.event == "Newchannel":
            owner[m["Uniqueid"]] = norm(m["Channel"])
    groups: dict[str, list[Timed]] = defaultdict(list)
    for t, m in msgs:
        if m.event not in EVENT_NAMES or m.get("Privilege") is None:
            continue
        if m.event == "OriginateResponse":
            chan = m["Channel"]
            key = norm(chan) if chan.endswith(";1") else f"{chan};1"
        else:
            about = channel_of(m)
            if about is None:
                continue
            key = owner.get(about[1], norm(about[0]))
        groups[key].append((t, m))
    return dict(groups)


def compare_call(key: str, real: list[Timed], sim: list[Message]) -> list[str]:
    problems: list[str] = []
    real_sigs = [signature(m) for _, m in real]
    sim_sigs = [signature(m) for m in sim]
    missing = Counter(real_sigs) - Counter(sim_sigs)
    extra = Counter(sim_sigs) - Counter(real_sigs)
    if missing or extra:
        problems.append(f"{key}: missing {sorted(missing)} / unexpected {sorted(extra)}")
        return problems
    # the k-th occurrence of a signature in the recording is the k-th in the simulation
    seen: Counter[tuple[str, ...]] = Counter()
    where: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for pos, s in enumerate(sim_sigs):
        where[s].append(pos)
    sim_pos = []
    for s in real_sigs:
        sim_pos.append(where[s][seen[s]])
        seen[s] += 1
    times = [t for t, _ in real]
    for i in range(len(real)):
        for j in range(i + 1, len(real)):
            if times[j] - times[i] >= BURST_S and sim_pos[i] > sim_pos[j]:
                problems.append(f"{key}: {real_sigs[i][:2]} (t={times[i]}) must come before {real_sigs[j][:2]} (t={times[j]})")
    # dialplan steps run one after the other on a channel: same order, no burst excuse
    for chan in {s[1] for s in real_sigs}:
        steps_real = [s for s in real_sigs if s[0] == "Newexten" and s[1] == chan]
        steps_sim = [s for s in sim_sigs if s[0] == "Newexten" and s[1] == chan]
        if steps_real != steps_sim:
            problems.append(f"{chan}: dialplan steps differ:\n  real {steps_real}\n  sim  {steps_sim}")
        ends_real = [s[0] for s in real_sigs if s[1] == chan and s[0] != "OriginateResponse"]
        ends_sim = [s[0] for s in sim_sigs if s[1] == chan and s[0] != "OriginateResponse"]
        if ends_real and ends_sim and (ends_real[0], ends_real[-1]) != (ends_sim[0], ends_sim[-1]):
            problems.append(f"{chan}: starts/ends with {ends_sim[0]}..{ends_sim[-1]}, "
                            f"recorded {ends_real[0]}..{ends_real[-1]}")
    return problems


def compare(name: str, sim: list[Message]) -> list[str]:
    real = recorded(name)
    real_msgs = [m for _, m in real]
    problems: list[str] = []

    if responses_by_action(real_msgs) != responses_by_action(sim):
        problems.append(f"responses differ:\n  real {responses_by_action(real_msgs)}\n  sim  {responses_by_action(sim)}")

    real_layouts, sim_layouts = key_layouts(real_msgs), key_layouts(sim)
    for k in sorted(set(real_layouts) & set(sim_layouts)):
        if real_layouts[k] != sim_layouts[k]:
            problems.append(f"keys of {k} differ:\n  real {sorted(real_layouts[k])}\n  sim  {sorted(sim_layouts[k])}")

    cobra_kinds = lambda msgs: {kind(m) for m in msgs if m.event is None or m.event in EVENT_NAMES}
    if cobra_kinds(real_msgs) != cobra_kinds(sim):
        problems.append(f"kinds differ: real-only {cobra_kinds(real_msgs) - cobra_kinds(sim)}, "
                        f"sim-only {cobra_kinds(sim) - cobra_kinds(real_msgs)}")

    real_calls = calls(real)
    sim_calls = {k: [m for _, m in v] for k, v in calls([(0.0, m) for m in sim]).items()}
    if set(real_calls) != set(sim_calls):
        problems.append(f"calls differ: real {sorted(real_calls)} sim {sorted(sim_calls)}")
    for key in sorted(set(real_calls) & set(sim_calls)):
        problems.extend(compare_call(key, real_calls[key], sim_calls[key]))

    for m in sim:
        for k in ("Uniqueid", "Linkedid"):
            if m.event in ("Newchannel", "Hangup") and not UNIQUEID.match(m[k]):
                problems.append(f"{m.event} {k}={m[k]!r} is not <epoch>.<n>")
    return problems


@pytest.mark.parametrize("name", trace_names())
async def test_simulator_matches_recording(name: str) -> None:
    sim = await run_simulated(name)
    problems = compare(name, sim)
    assert not problems, f"{name}:\n" + "\n".join(problems)


def test_every_transcript_has_a_driver() -> None:
    assert set(trace_names()) == set(DRIVERS)


def test_comparison_accepts_the_recording_itself_and_catches_changes() -> None:
    """The comparison is not vacuous: the recording matches itself, and moving one event
    across a burst, changing a value, or dropping one is reported."""
    real = [m for _, m in recorded("agent_hangs_up_customer")]
    assert compare("agent_hangs_up_customer", real) == []

    hangup_at = next(i for i, m in enumerate(real) if m.event == "Hangup")
    reordered = real[:]
    moved = reordered.pop(hangup_at)
    first_newexten = next(i for i, m in enumerate(reordered) if m.event == "Newexten")
    reordered.insert(first_newexten, moved)
    assert any("must come before" in p for p in compare("agent_hangs_up_customer", reordered))

    busy = next(i for i, m in enumerate(real) if m.event == "VarSet" and m.get("Variable") == "COBRA_CALL")
    changed = real[:]
    changed[busy] = Message(tuple((k, "other" if k == "Value" else v) for k, v in real[busy].headers))
    assert any("missing" in p for p in compare("agent_hangs_up_customer", changed))

    dropped = [m for m in real if m.event != "ConfbridgeJoin"]
    assert compare("agent_hangs_up_customer", dropped)


async def test_injected_crlf_lines_become_headers_of_the_same_action() -> None:
    """Like Asterisk in injection_attempt.ami: the CR LF inside Channel does not start a new
    action; the injected ``Action``/``Command`` lines are extra headers of the Originate
    (first ``Action`` wins), so only the Originate is answered — the gateway must refuse such values."""
    async with SimulatorServer(time_scale=SCALE) as sim:
        c = await RawAmiClient.connect("127.0.0.1", sim.port)
        await login(c)
        await c.send(Action="Originate", ActionID="inj-1",
                     Channel="Local/5511999990001@cust-sim\r\nAction: Command\r\nCommand: core show version",
                     Context="cobra-outbound", Exten="s", Priority="1", Async="true")
        resp = await c.wait_for(ev("OriginateResponse", ActionID="inj-1"))
        await c.close()
    injected = sim.received_actions[-1]
    assert injected.get_all("Action") == ["Originate", "Command"]
    assert injected["Command"] == "core show version"
    assert injected["Channel"] == "Local/5511999990001@cust-sim"
    assert len(sim.received_actions) == 2  # Login and this one: no separate Command action
    replies = [m for m in c.received if m.action_id == "inj-1" and m.event is None]
    assert [(m.response, m.get("Message")) for m in replies] == [("Success", "Originate successfully queued")]
    assert resp["Response"] == "Success"
