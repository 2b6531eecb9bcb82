"""The pure PBX model, without sockets: a manual timer queue and a fixed wall clock."""

from __future__ import annotations

import pytest

from dialer.ami.wire import Message
from dialer.simulator.channels import IdAllocator, parse_caller_id
from dialer.simulator.customers import ScenarioCustomers
from dialer.simulator.pbx import Pbx, split_variables
from dialer.simulator.timers import TimerQueue


class Harness:
    def __init__(self, pbx: Pbx | None = None) -> None:
        self.timers = TimerQueue()
        self.pbx = pbx or Pbx(timers=self.timers, wall_clock=lambda: 1000.0)
        self.timers = self.pbx.timers
        self.events: list[tuple[float, Message]] = []
        self.replies: list[Message] = []
        self.pbx.add_listener(lambda m: self.events.append((self.timers.now, m)))

    def act(self, **headers: str) -> list[Message]:
        before = len(self.replies)
        self.pbx.handle(Message(tuple(headers.items())), self.replies.append)
        return self.replies[before:]

    def run(self, until: float = 1e6) -> None:
        self.timers.run_until_idle(until)

    def named(self, name: str, **kv: str) -> list[tuple[float, Message]]:
        return [(t, m) for t, m in self.events if m.event == name and all(m.get(k) == v for k, v in kv.items())]


def originate(h: Harness, number: str, aid: str = "o1", context: str = "cobra-outbound", **extra: str) -> list[Message]:
    headers = {"Action": "Originate", "ActionID": aid, "Channel": f"Local/{number}@cust-sim", "Context": context,
                   "Exten": "s", "Priority": "1", "Timeout": "15000", "CallerID": "Cobra <551130000000>",
                   "Variable": f"COBRA_CALL={aid}", "Async": "true"}
    headers.update(extra)
    return h.act(**headers)


def test_answered_customer_is_abandoned_after_the_connect_window() -> None:
    h = Harness()
    assert [(m.response, m["Message"]) for m in originate(h, "5511999990001")] == [("Success", "Originate successfully queued")]
    h.run()
    (t_resp, resp), = h.named("OriginateResponse")
    assert (resp["Response"], resp["Reason"], t_resp) == ("Success", "4", 1.0)
    assert resp["Channel"] == "Local/5511999990001@cust-sim-00000000;1"
    assert resp["Uniqueid"] == "1000.0"
    hangups = h.named("Hangup")
    assert [(t, m["Channel"][-2:], m["Cause"]) for t, m in hangups] == [(4.0, ";1", "16"), (4.0, ";2", "16")]
    assert [m["AppData"] for _, m in h.named("Newexten", Context="cobra-outbound")] == [
        "answered o1", "CDR_PROP(disable)=1", "3", "abandoned o1", "16"]
    assert h.pbx.channels == {}


@pytest.mark.parametrize(("number", "timeout", "reason", "cause"), [
    ("5511999990002", "15000", "5", "17"),
    ("5511999990004", "15000", "8", "34"),
    ("5511999990003", "4000", "3", "19"),
])
def test_failed_originates(number: str, timeout: str, reason: str, cause: str) -> None:
    h = Harness()
    originate(h, number, Timeout=timeout)
    h.run()
    (_, resp), = h.named("OriginateResponse")
    assert (resp["Response"], resp["Reason"], resp["Channel"]) == ("Failure", reason, f"Local/{number}@cust-sim")
    two = [m for _, m in h.named("Hangup") if m["Channel"].endswith(";2")]
    assert two[0]["Cause"] == cause


def test_no_answer_fails_when_the_timeout_expires() -> None:
    h = Harness()
    originate(h, "5511999990003", Timeout="4000")
    h.run()
    (t, _), = h.named("OriginateResponse")
    assert t == 4.0


def test_unknown_context_fails_with_reason_0_and_invalid_device() -> None:
    h = Harness()
    h.act(Action="Originate", ActionID="x", Channel="Local/123@no-such-context", Context="cobra-outbound",
          Exten="s", Async="true")
    h.run()
    (_, resp), = h.named("OriginateResponse")
    assert (resp["Response"], resp["Reason"]) == ("Failure", "0")
    assert [m["State"] for _, m in h.named("DeviceStateChange")] == ["INVALID", "INVALID"]
    assert not h.named("DialBegin")


def test_originate_errors() -> None:
    h = Harness()
    assert h.act(Action="Originate", ActionID="e")[0].get("Message") == "Channel not specified"
    assert h.act(Action="Originate", ActionID="e", Channel="Local/1@cust-sim", Timeout="soon")[0]["Message"] == "Invalid timeout"


def test_synchronous_originate_answers_after_the_outcome() -> None:
    h = Harness()
    assert originate(h, "5511999990002", Async="false") == []
    h.run()
    assert [(m.response, m["Message"]) for m in h.replies] == [("Error", "Originate failed")]
    assert not h.named("OriginateResponse")


def connect_agent_and_customer(h: Harness) -> str:
    h.act(Action="Originate", ActionID="agent", Channel="Local/7001@agent-sim", Context="cobra-agent-bridge",
          Exten="7001", Priority="1", Async="true")
    h.run(0.1)
    originate(h, "5511999990001", "cust")
    h.run(1.2)
    (_, resp), = h.named("OriginateResponse", ActionID="cust")
    ch = resp["Channel"]
    assert h.act(Action="Redirect", ActionID="r", Channel=ch, Context="cobra-agent-bridge", Exten="7001",
                 Priority="1")[0]["Message"] == "Redirect successful"
    h.run(1.3)
    return ch


def test_redirect_into_the_agent_conference() -> None:
    h = Harness()
    ch = connect_agent_and_customer(h)
    joins = h.named("ConfbridgeJoin", Conference="agent7001")
    assert [m["Channel"] for _, m in joins] == ["Local/7001@agent-sim-00000000;1", ch]
    peers = [m["Value"] for _, m in h.named("VarSet", Variable="BRIDGEPEER", Channel=ch)]
    assert peers == ["CBAnn/agent7001-00000001;2,Local/7001@agent-sim-00000000;1"]
    listing = h.act(Action="ConfbridgeList", ActionID="l", Conference="agent7001")
    assert [m.event or m.response for m in listing] == ["Success", "ConfbridgeList", "ConfbridgeList",
                                                        "ConfbridgeListComplete"]
    show = h.act(Action="CoreShowChannels", ActionID="s")
    assert show[-1]["ListItems"] == "4"
    bridged = [m for m in show if m.event == "CoreShowChannel" and m["BridgeId"]]
    assert {m["Channel"] for m in bridged} == {ch, "Local/7001@agent-sim-00000000;1"}


def test_agent_hangup_ends_the_customer_and_keeps_the_agent() -> None:
    h = Harness()
    ch = connect_agent_and_customer(h)
    assert h.act(Action="Hangup", ActionID="h", Channel=ch, Cause="16")[0]["Message"] == "Channel Hungup"
    h.run(1.4)
    assert sorted(m["Channel"] for _, m in h.named("Hangup")) == [ch, ch[:-1] + "2"]
    assert h.named("ConfbridgeLeave", Channel=ch)
    assert len(h.pbx.channels) == 2  # the agent's two halves


def test_hangup_by_regex_lists_what_it_hung_up() -> None:
    h = Harness()
    connect_agent_and_customer(h)
    out = h.act(Action="Hangup", ActionID="h", Channel="/^Local\\/7001@agent-sim-.*;1$/")
    assert [m.event or m["Message"] for m in out] == ["Channels hung up will follow", "ChannelHungup",
                                                     "ChannelsHungupListComplete"]
    assert out[-1]["ListItems"] == "1"
    assert h.act(Action="Hangup", ActionID="h2", Channel="nope")[0]["Message"] == "No such channel"
    h.run(1.5)
    assert h.named("ConfbridgeLeave", Channel="Local/7001@agent-sim-00000000;1")


def test_confbridgelist_errors_follow_app_confbridge() -> None:
    h = Harness()
    assert h.act(Action="ConfbridgeList", ActionID="l")[0]["Message"] == "No Conference name provided."
    assert h.act(Action="ConfbridgeList", ActionID="l", Conference="agent1")[0]["Message"] == "No active conferences."
    connect_agent_and_customer(h)
    assert h.act(Action="ConfbridgeList", ActionID="l", Conference="agent9")[0]["Message"] == \
        "No Conference by that name found."


def test_mixmonitor_starts_without_writing() -> None:
    h = Harness()
    ch = connect_agent_and_customer(h)
    out = h.act(Action="MixMonitor", ActionID="m", Channel=ch, File="/nonexistent/dir/call.wav")
    assert [tuple(m.keys()) for m in out] == [("Response", "ActionID")]
    assert h.named("MixMonitorStart", Channel=ch)
    assert h.named("VarSet", Variable="MIXMONITOR_FILENAME")[0][1]["Value"] == "/nonexistent/dir/call.wav"


def test_amd_on_silence_reports_hangup() -> None:
    h = Harness()
    originate(h, "5511999990001", context="cobra-amd")
    h.run()
    values = [(m["Variable"], m["Value"]) for _, m in h.named("VarSet") if m["Variable"].startswith("AMD")]
    assert values == [("AMDSTATUS", "HANGUP"), ("AMDCAUSE", "")]


def test_chanspy_listens_to_the_agent_and_stops_with_it() -> None:
    h = Harness()
    h.act(Action="Originate", ActionID="agent", Channel="Local/7003@agent-sim", Context="cobra-agent-bridge",
          Exten="7003", Async="true")
    h.run(0.1)
    h.act(Action="Originate", ActionID="spy", Channel="Local/7901@agent-sim", Application="ChanSpy",
          Data="Local/7003@agent-sim,qE", Async="true")
    h.run(1.0)
    (_, resp), = h.named("OriginateResponse", ActionID="spy")
    assert (resp["Application"], resp["Data"]) == ("ChanSpy", "Local/7003@agent-sim,qE")
    (_, start), = h.named("ChanSpyStart")
    assert start["SpyeeChannel"].startswith("Local/7003@agent-sim-")
    h.act(Action="Hangup", ActionID="h", Channel="/^Local\\/7003@agent-sim-.*;1$/")
    h.run(2.0)
    assert h.named("ChanSpyStop")
    assert h.pbx.channels == {}  # option E: the spy leaves when the agent does


def test_scenario_machine_and_live_amd_verdicts() -> None:
    base = {
        "seed": 1, "no_answer_timeout_s": 25, "connect_window_s": 2.0,
        "ring_to_answer_s": {"dist": "lognormal", "mean": 3, "sd": 1},
        "ring_to_fail_s": {"dist": "lognormal", "mean": 2, "sd": 1},
        "amd_detect_s": {"dist": "lognormal", "mean": 2.5, "sd": 0.8},
        "talk_s": {"dist": "lognormal", "mean": 60, "sd": 10},
    }
    for outcome, status in (("machine", "MACHINE"), ("live", "HUMAN")):
        probs = {k: 0.0 for k in ("live", "machine", "busy", "congestion", "no_answer")}
        probs[outcome] = 1.0
        timers = TimerQueue()
        h = Harness(Pbx(ScenarioCustomers({**base, "outcomes": probs}), timers=timers, wall_clock=lambda: 1.0))
        originate(h, "5511999990002", context="cobra-amd")
        h.run()
        assert h.named("VarSet", Variable="AMDSTATUS")[0][1]["Value"] == status
        # connect window from the scenario: cobra-outbound waits 2 s
        assert h.pbx.dialplan.lookup("cobra-outbound", "s")[2].data == "2"


def test_live_scenario_customer_hangs_up_after_talk_time_once_connected() -> None:
    scenario = {
        "seed": 5, "no_answer_timeout_s": 25,
        "outcomes": {"live": 1, "machine": 0, "busy": 0, "congestion": 0, "no_answer": 0},
        "ring_to_answer_s": {"dist": "lognormal", "mean": 1, "sd": 0.1},
        "ring_to_fail_s": {"dist": "lognormal", "mean": 2, "sd": 1},
        "amd_detect_s": {"dist": "lognormal", "mean": 2.5, "sd": 0.8},
        "talk_s": {"dist": "lognormal", "mean": 30, "sd": 1},
    }
    h = Harness(Pbx(ScenarioCustomers(scenario), timers=TimerQueue(), wall_clock=lambda: 1.0))
    h.act(Action="Originate", ActionID="agent", Channel="Local/7001@agent-sim", Context="cobra-agent-bridge",
          Exten="7001", Async="true")
    h.run(0.1)
    originate(h, "5511999990001", "cust")
    h.run(2.5)
    (_, resp), = h.named("OriginateResponse", ActionID="cust")
    h.act(Action="Redirect", ActionID="r", Channel=resp["Channel"], Context="cobra-agent-bridge", Exten="7001")
    h.run(3.0)
    joined_at = h.timers.now
    h.run(joined_at + 120)
    bye = [(t, m) for t, m in h.named("Newexten", Application="Hangup") if "cust-sim" in m["Channel"]]
    assert len(bye) == 1 and 20 < bye[0][0] - joined_at < 40


def test_split_variables_and_caller_id() -> None:
    assert split_variables(["A=1,B=2", "C=x\\,y", "junk"]) == [("A", "1"), ("B", "2"), ("C", "x,y")]
    assert parse_caller_id("Cobra <551130000000>") == ("Cobra", "551130000000")
    assert parse_caller_id("551130000000") == ("<unknown>", "551130000000")


def test_ids_look_like_asterisk() -> None:
    ids = IdAllocator(lambda: 1795389820.7)
    assert [ids.uniqueid(), ids.uniqueid()] == ["1795389820.0", "1795389820.1"]
    assert [ids.channel_seq() for _ in range(11)][-1] == "0000000a"


def test_amd_human_goes_on_to_wait_for_an_agent_and_machine_hangs_up() -> None:
    base = {
        "seed": 2, "no_answer_timeout_s": 25, "connect_window_s": 2.0,
        "ring_to_answer_s": {"dist": "lognormal", "mean": 3, "sd": 1},
        "ring_to_fail_s": {"dist": "lognormal", "mean": 2, "sd": 1},
        "amd_detect_s": {"dist": "lognormal", "mean": 2.5, "sd": 0.8},
        "talk_s": {"dist": "lognormal", "mean": 60, "sd": 10},
    }
    seen = {}
    for outcome in ("live", "machine"):
        probs = {k: 0.0 for k in ("live", "machine", "busy", "congestion", "no_answer")}
        probs[outcome] = 1.0
        h = Harness(Pbx(ScenarioCustomers({**base, "outcomes": probs}), timers=TimerQueue(), wall_clock=lambda: 1.0))
        originate(h, "5511999990001", context="cobra-amd")
        h.run()
        seen[outcome] = [m["Context"] for _, m in h.named("Newexten") if m["Channel"].endswith(";1")][-1]
    assert seen == {"live": "cobra-outbound", "machine": "cobra-amd"}


def _agent_phone_hangups(h: Harness) -> list[float]:
    return [t for t, m in h.named("Hangup") if m["Channel"].startswith("Local/7001@agent-sim-")]


def test_an_agent_phone_stays_off_hook_as_long_as_the_scenario_says() -> None:
    # the recorded dialplan: Wait(600), then the phone hangs up (cause 16): 20 s into `cobra demo --speed 30`
    recorded = Harness()
    recorded.act(Action="Originate", ActionID="agent", Channel="Local/7001@agent-sim", Context="cobra-agent-bridge",
                 Exten="7001", Async="true")
    recorded.run(700)
    assert [round(t) for t in _agent_phone_hangups(recorded)[:1]] == [600]

    scenario = {
        "seed": 5, "no_answer_timeout_s": 25, "agent_phone_s": 86400,
        "outcomes": {"live": 1, "machine": 0, "busy": 0, "congestion": 0, "no_answer": 0},
        "ring_to_answer_s": {"dist": "lognormal", "mean": 1, "sd": 0.1},
        "ring_to_fail_s": {"dist": "lognormal", "mean": 2, "sd": 1},
        "amd_detect_s": {"dist": "lognormal", "mean": 2.5, "sd": 0.8},
        "talk_s": {"dist": "lognormal", "mean": 30, "sd": 1},
    }
    shift = Harness(Pbx(ScenarioCustomers(scenario), timers=TimerQueue(), wall_clock=lambda: 1.0))
    shift.act(Action="Originate", ActionID="agent", Channel="Local/7001@agent-sim", Context="cobra-agent-bridge",
              Exten="7001", Async="true")
    shift.run(8 * 3600)  # a whole shift: the phone is still in its conference
    assert _agent_phone_hangups(shift) == []
    assert any(m["Channel"].startswith("Local/7001@agent-sim-") for _, m in shift.named("ConfbridgeJoin"))
    with pytest.raises(ValueError, match="agent_phone_s"):
        ScenarioCustomers({**scenario, "agent_phone_s": "muito"})


def test_the_demo_scenario_keeps_agent_phones_for_the_shift() -> None:
    from pathlib import Path

    demo = ScenarioCustomers.from_file(Path(__file__).resolve().parents[2] / "web" / "demo" / "scenario.json")
    assert demo.agent_phone_s is not None and demo.agent_phone_s >= 8 * 3600
