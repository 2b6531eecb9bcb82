from __future__ import annotations

import pytest

from dialer.ami.actions import (
    REASON_ANSWERED,
    REASON_BUSY,
    REASON_CONGESTION,
    REASON_RING_TIMEOUT,
    REASON_UNAVAILABLE,
    ActionResult,
    ConfbridgeList,
    CoreShowChannels,
    Hangup,
    Login,
    Logoff,
    MixMonitor,
    Originate,
    OriginateResult,
    Ping,
    Redirect,
    new_action_id,
)
from dialer.ami.wire import Message
from dialer.errors import AmiValueError
from tests.support.traces import load_trace, recv_messages

INJECTED_CHANNEL = "Local/5511999990001@cust-sim\r\nAction: Command\r\nCommand: core show version"


def _sent(trace: str, action_id: str) -> list[tuple[str, str]]:
    """The headers a transcript's client sent for ``action_id``."""
    for block in load_trace(trace):
        if block.direction == "send" and block.message().get("ActionID") == action_id:
            return list(block.message().headers)
    raise AssertionError(f"{action_id} not sent in {trace}")


def _recv(trace: str, action_id: str) -> list[Message]:
    return [m for m in recv_messages(trace) if m.get("ActionID") == action_id]


def test_action_ids_are_unique() -> None:
    ids = {new_action_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert Ping().action_id != Ping().action_id


def test_login_headers_limit_event_classes() -> None:
    headers = Login("cobra", "cobrasecret", action_id="login-1").headers()
    assert headers == [
        ("Action", "Login"),
        ("ActionID", "login-1"),
        ("Username", "cobra"),
        ("Secret", "cobrasecret"),
        ("Events", "call,agent,system,dialplan"),
    ]
    assert Login("cobra", "x", events=()).headers()[-1] == ("Events", "off")


def test_login_refuses_bad_values_naming_the_field() -> None:
    with pytest.raises(AmiValueError, match=r"^secret: contains a line break"):
        Login("cobra", "x\r\nAction: Command").headers()
    with pytest.raises(AmiValueError, match=r"^events\[1\]: is not an event class"):
        Login("cobra", "x", events=("call", "all,system")).headers()
    assert "cobrasecret" not in repr(Login("cobra", "cobrasecret"))


def test_originate_headers_match_what_the_transcripts_sent() -> None:
    action = Originate(
        channel="Local/5511999990002@cust-sim",
        context="cobra-outbound",
        exten="s",
        priority=1,
        timeout_ms=15000,
        caller_id="Cobra <551130000000>",
        variables={"COBRA_CALL": "call-1"},
        action_id="orig-2",
    )
    assert action.headers() == _sent("busy", "orig-2")


def test_originate_with_channel_ids() -> None:
    headers = Originate(
        channel="PJSIP/5511999990001@trunk",
        context="cobra-outbound",
        exten="s",
        channel_id="att-1",
        other_channel_id="att-1-2",
        variables={"COBRA_CALL": "att-1", "COBRA_CAMPAIGN": "c1"},
        action_id="att-1",
    ).headers()
    assert ("ChannelId", "att-1") in headers
    assert ("OtherChannelId", "att-1-2") in headers
    assert [v for k, v in headers if k == "Variable"] == ["COBRA_CALL=att-1", "COBRA_CAMPAIGN=c1"]
    assert headers[-1] == ("Async", "true")


def test_originate_application_form_matches_the_supervisor_transcript() -> None:
    action = Originate(
        channel="Local/7901@agent-sim",
        application="ChanSpy",
        data="Local/7003@agent-sim,qE",
        timeout_ms=15000,
        action_id="spy-1",
    )
    assert action.headers() == _sent("supervisor_listen", "spy-1")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"channel": INJECTED_CHANNEL, "context": "c", "exten": "s"}, "channel"),
        ({"channel": "PJSIP/1", "context": "c\r\nx", "exten": "s"}, "context"),
        ({"channel": "PJSIP/1", "context": "c", "exten": "s\n"}, "exten"),
        ({"channel": "PJSIP/1", "context": "c", "exten": "s", "priority": 0}, "priority"),
        ({"channel": "PJSIP/1", "context": "c", "exten": "s", "timeout_ms": 0}, "timeout_ms"),
        ({"channel": "PJSIP/1", "context": "c", "exten": "s", "caller_id": "x\r\n"}, "caller_id"),
        ({"channel": "PJSIP/1", "context": "c", "exten": "s", "variables": {"A B": "1"}}, "variables"),
        ({"channel": "PJSIP/1", "context": "c", "exten": "s", "variables": {"A": "1,B=2"}}, r"variables\[A\]"),
        ({"channel": "PJSIP/1", "context": "c", "exten": "s", "channel_id": "a b"}, "channel_id"),
        ({"channel": "PJSIP/1", "context": "c", "exten": "s", "other_channel_id": "x"}, "other_channel_id"),
        ({"channel": "PJSIP/1", "context": "c", "exten": "s", "action_id": "a\nb"}, "action_id"),
        ({"channel": "PJSIP/1", "context": "c"}, "exten"),
        ({"channel": "PJSIP/1", "exten": "s"}, "context"),
        ({"channel": "PJSIP/1"}, "context"),
        ({"channel": "PJSIP/1", "context": "c", "exten": "s", "application": "Wait"}, "application"),
        ({"channel": "PJSIP/1", "context": "c", "exten": "s", "data": "1"}, "data"),
        ({"channel": "PJSIP/1", "application": "System(x)"}, "application"),
        ({"channel": "PJSIP/1", "application": "Wait", "data": "${X}"}, "data"),
        ({"channel": "PJSIP/1", "context": "c", "exten": "s", "async_": "yes"}, "async_"),
    ],
)
def test_originate_refuses_each_bad_field_by_name(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(AmiValueError, match=rf"^{field}: "):
        Originate(**kwargs).headers()  # type: ignore[arg-type]


def test_redirect_headers_match_the_transcript() -> None:
    action = Redirect("Local/5511999990001@cust-sim-0000000d;1", "cobra-agent-bridge", "7002", action_id="redir-2")
    assert action.headers() == _sent("agent_hangs_up_customer", "redir-2")
    with pytest.raises(AmiValueError, match=r"^exten: "):
        Redirect("PJSIP/1-0001", "cobra-agent-bridge", "70 02").headers()


def test_hangup_by_name_by_regex_and_refusals() -> None:
    by_name = Hangup(channel="Local/5511999990001@cust-sim-0000000d;1", cause=16, action_id="hup-2")
    assert by_name.headers() == _sent("agent_hangs_up_customer", "hup-2")
    by_regex = Hangup(regex=r"/^Local\/7002@agent-sim-.*;1$/", action_id="hup-3")
    assert by_regex.headers() == _sent("agent_hangs_up_customer", "hup-3")
    with pytest.raises(AmiValueError, match=r"^channel: give exactly one of channel or regex"):
        Hangup().headers()
    with pytest.raises(AmiValueError, match=r"^channel: give exactly one of channel or regex"):
        Hangup(channel="PJSIP/1", regex="/x/").headers()
    with pytest.raises(AmiValueError, match=r"^cause: must be between 0 and 127"):
        Hangup(channel="PJSIP/1", cause=300).headers()
    with pytest.raises(AmiValueError, match=r"^regex: "):
        Hangup(regex="/a\r\nAction: Command/").headers()


def test_mixmonitor_headers_match_the_transcript() -> None:
    action = MixMonitor("Local/5511999990001@cust-sim-0000000d;1", "/tmp/amirec/call-7.wav", "b", action_id="mix-1")
    assert action.headers() == _sent("agent_hangs_up_customer", "mix-1")
    with pytest.raises(AmiValueError, match=r"^file: contains a '\.\.' segment"):
        MixMonitor("PJSIP/1-01", "/var/spool/../../etc/x.wav").headers()
    with pytest.raises(AmiValueError, match=r"^options: "):
        MixMonitor("PJSIP/1-01", "x.wav", "b,W").headers()


def test_list_actions_and_simple_ones() -> None:
    assert ConfbridgeList("agent7001", action_id="cbl-1").headers() == _sent("agent_login_and_connect", "cbl-1")
    assert CoreShowChannels(action_id="csc-1").headers() == _sent("login_ping_status", "csc-1")
    assert Ping(action_id="ping-1").headers() == _sent("login_ping_status", "ping-1")
    assert Logoff(action_id="bye-1").headers() == _sent("login_ping_status", "bye-1")
    with pytest.raises(AmiValueError, match=r"^conference: "):
        ConfbridgeList("agent7001\r\nAction: Command").headers()


def test_action_result_for_an_event_list() -> None:
    result = ActionResult.from_messages("cbl-1", _recv("agent_login_and_connect", "cbl-1"))
    assert result.ok
    assert result.message == "Confbridge user list will follow"
    assert [m.event for m in result.events] == ["ConfbridgeList", "ConfbridgeListComplete"]


def test_action_result_for_an_error() -> None:
    result = ActionResult.from_messages("bad-1", _recv("login_ping_status", "bad-1"))
    assert not result.ok
    assert result.message.startswith("Invalid/unknown command: NoSuchAction")
    assert result.events == ()


@pytest.mark.parametrize(
    ("trace", "action_id", "success", "reason"),
    [
        ("answered_abandoned", "orig-1", True, REASON_ANSWERED),
        ("busy", "orig-2", False, REASON_BUSY),
        ("no_answer_timeout", "orig-3", False, REASON_RING_TIMEOUT),
        ("congestion", "orig-4", False, REASON_CONGESTION),
        ("no_such_extension", "orig-5", False, REASON_UNAVAILABLE),
    ],
)
def test_originate_result_from_the_async_list(trace: str, action_id: str, success: bool, reason: int) -> None:
    messages = _recv(trace, action_id)
    assert messages[0].get("Message") == "Originate successfully queued"
    action = Originate("Local/1@x", context="cobra-outbound", exten="s", action_id=action_id)
    result = OriginateResult.from_messages(action, messages)
    assert (result.success, result.reason, result.queued) == (success, reason, True)
    assert result.answered is (reason == REASON_ANSWERED)
    assert result.channel
    if success:
        assert result.error is None
        assert result.uniqueid == messages[-1]["Uniqueid"]
    else:
        assert result.error
    if reason == REASON_UNAVAILABLE:
        assert result.uniqueid is None  # "<unknown>" in the response


def test_originate_result_from_an_immediate_error() -> None:
    messages = _recv("login_ping_status", "bad-2")
    action = Originate("Local/1@x", context="cobra-outbound", exten="s", action_id="bad-2")
    result = OriginateResult.from_messages(action, messages)
    assert result == OriginateResult(
        action_id="bad-2",
        success=False,
        reason=REASON_UNAVAILABLE,
        channel=None,
        uniqueid=None,
        error="Channel not specified",
        queued=False,
    )
