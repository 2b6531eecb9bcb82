from __future__ import annotations

import re

import pytest

from dialer.ami import sanitize
from dialer.errors import AmiValueError


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("a\rb", "line break (CR)"),
        ("a\nb", "line break (LF)"),
        ("a\x00b", "NUL byte"),
        ("a\tb", "control character U+0009"),
        ("a\x85b", "control character U+0085"),
        ("a\u2028b", "control character U+2028"),
    ],
)
def test_check_value_refuses_control_characters_naming_the_field(value: str, problem: str) -> None:
    with pytest.raises(AmiValueError, match=rf"^caller_name: contains .*{re.escape(problem)}"):
        sanitize.check_value("caller_name", value)


def test_check_value_bounds_the_length() -> None:
    assert sanitize.check_value("x", "a" * sanitize.MAX_VALUE_LEN) == "a" * sanitize.MAX_VALUE_LEN
    with pytest.raises(AmiValueError, match=r"^x: is 513 characters long, more than the 512 allowed"):
        sanitize.check_value("x", "a" * (sanitize.MAX_VALUE_LEN + 1))


def test_check_value_refuses_non_strings() -> None:
    with pytest.raises(AmiValueError, match=r"^x: must be a string, not int"):
        sanitize.check_value("x", 5)


def test_check_value_keeps_accents() -> None:
    assert sanitize.check_value("name", "José da Conceição") == "José da Conceição"


def test_secret_is_never_echoed() -> None:
    with pytest.raises(AmiValueError) as info:
        sanitize.secret("secret", "hunter2\r\nAction: Command")
    assert "hunter2" not in str(info.value)
    assert str(info.value).startswith("secret: contains")


@pytest.mark.parametrize(
    ("value", "digits"),
    [("5511999990001", "5511999990001"), ("+5511999990001", "5511999990001"), ("1199999000", "1199999000")],
)
def test_e164_accepts_digits_with_optional_plus(value: str, digits: str) -> None:
    assert sanitize.e164("number", value) == digits


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("119999900", "has 9 digits"),
        ("1234567890123456", "has 16 digits"),
        ("+55 11 99999-0001", "not an E.164 number"),
        ("(11) 99999-0001", "not an E.164 number"),
        ("55119999a0001", "not an E.164 number"),
        ("", "not an E.164 number"),
        ("++5511999990001", "not an E.164 number"),
        ("5511999990001\r\n", "line break"),
    ],
)
def test_e164_refuses(value: str, problem: str) -> None:
    with pytest.raises(AmiValueError, match=rf"^number: .*{problem}"):
        sanitize.e164("number", value)


def test_digits_only() -> None:
    assert sanitize.digits_only("ext", "7001") == "7001"
    with pytest.raises(AmiValueError, match=r"^ext: is not digits only"):
        sanitize.digits_only("ext", "70 01")
    with pytest.raises(AmiValueError, match=r"^ext: is empty"):
        sanitize.digits_only("ext", "")


@pytest.mark.parametrize(
    "value",
    [
        "PJSIP/7001",
        "PJSIP/5511999990001@trunk",
        "Local/5511999990001@cust-sim",
        "Local/5511999990001@cust-sim-0000000d;1",
        "Local/7001@agent-sim/n",
        "SIP/peer-00000a53",
        "IAX2/user:pass@host",
    ],
)
def test_channel_accepts_real_dial_strings(value: str) -> None:
    assert sanitize.channel("channel", value) == value


@pytest.mark.parametrize(
    "value",
    [
        "PJSIP/7001&PJSIP/7002",
        "PJSIP/7001,30,tT",
        "PJSIP/${EVIL}",
        "PJSIP/70 01",
        "PJSIP/7001|x",
        "7001",
        "/7001",
        "PJSIP/",
        "PJ SIP/7001",
        'PJSIP/"7001"',
    ],
)
def test_channel_refuses_characters_dial_interprets(value: str) -> None:
    with pytest.raises(AmiValueError, match=r"^channel: is not a channel like Tech/resource"):
        sanitize.channel("channel", value)


def test_dial_string_fills_the_template_with_checked_digits() -> None:
    assert sanitize.dial_string("PJSIP/{number}@trunk", "+5511999990001") == "PJSIP/5511999990001@trunk"
    with pytest.raises(AmiValueError, match=r"^number: "):
        sanitize.dial_string("PJSIP/{number}@trunk", "5511 99999 0001")
    with pytest.raises(AmiValueError, match=r"^dial_template: must contain \{number\} exactly once"):
        sanitize.dial_string("PJSIP/trunk", "5511999990001")
    with pytest.raises(AmiValueError, match=r"^channel: "):
        sanitize.dial_string("PJSIP/{number}@trunk,tT", "5511999990001")


def test_channel_regex() -> None:
    value = r"/^Local\/7002@agent-sim-.*;1$/"
    assert sanitize.channel_regex("regex", value) == value
    with pytest.raises(AmiValueError, match=r"^regex: is not a /regex/ between slashes"):
        sanitize.channel_regex("regex", "^Local.*$")
    with pytest.raises(AmiValueError, match=r"^regex: is not a valid regular expression"):
        sanitize.channel_regex("regex", "/^Local(/")
    with pytest.raises(AmiValueError, match=r"^regex: contains whitespace"):
        sanitize.channel_regex("regex", "/^Local .*$/")


@pytest.mark.parametrize("value", ["cobra-outbound", "cobra-agent-bridge", "cust_sim"])
def test_context_accepts(value: str) -> None:
    assert sanitize.context("context", value) == value


@pytest.mark.parametrize("value", ["cobra outbound", "cobra,outbound", "a" * 81, "ctx;1", ""])
def test_context_refuses(value: str) -> None:
    with pytest.raises(AmiValueError, match=r"^context: "):
        sanitize.context("context", value)


@pytest.mark.parametrize("value", ["s", "7001", "5511999990001", "+5511999990001", "*99#"])
def test_exten_accepts(value: str) -> None:
    assert sanitize.exten("exten", value) == value


@pytest.mark.parametrize("value", ["70 01", "7001,1", "${X}", "a/b", ""])
def test_exten_refuses(value: str) -> None:
    with pytest.raises(AmiValueError, match=r"^exten: "):
        sanitize.exten("exten", value)


@pytest.mark.parametrize("value", ["COBRA_CALL", "_INHERIT", "__INHERIT_ALL", "x1"])
def test_variable_name_accepts(value: str) -> None:
    assert sanitize.variable_name("variables", value) == value


@pytest.mark.parametrize("value", ["1X", "CDR(userfield)", "A-B", "A B", "A=B", ""])
def test_variable_name_refuses(value: str) -> None:
    with pytest.raises(AmiValueError, match=r"^variables: "):
        sanitize.variable_name("variables", value)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("a,B=2", "contains a ','"),
        ("a|B=2", "contains a '|'"),
        ("${SHELL(id)}", "contains '\\$\\{'"),
        ("$[1+1]", "contains '\\$\\['"),
        ("a\nB=2", "contains a line break"),
    ],
)
def test_variable_value_refuses_separators_and_expressions(value: str, problem: str) -> None:
    with pytest.raises(AmiValueError, match=rf"^variables\[X\]: {problem}"):
        sanitize.variable_value("variables[X]", value)


def test_variable_value_accepts_plain_text() -> None:
    assert sanitize.variable_value("v", "attempt-42 José R$ 10") == "attempt-42 José R$ 10"


def test_application_and_data() -> None:
    assert sanitize.application("application", "ChanSpy") == "ChanSpy"
    assert sanitize.application_data("data", "Local/7003@agent-sim,qE") == "Local/7003@agent-sim,qE"
    with pytest.raises(AmiValueError, match=r"^application: is not an application name"):
        sanitize.application("application", "System(rm)")
    with pytest.raises(AmiValueError, match=r"^data: contains '\$\{'"):
        sanitize.application_data("data", "${SHELL(id)}")


@pytest.mark.parametrize("value", ["/var/spool/asterisk/monitor/call-7.wav", "call-7.wav", "2024/05/call-7.wav"])
def test_file_path_accepts(value: str) -> None:
    assert sanitize.file_path("file", value) == value


@pytest.mark.parametrize(("value", "problem"), [("../etc/passwd", "'..' segment"), ("a b.wav", "not a file path")])
def test_file_path_refuses(value: str, problem: str) -> None:
    with pytest.raises(AmiValueError, match=rf"^file: .*{problem}"):
        sanitize.file_path("file", value)


@pytest.mark.parametrize("value", ["551130000000", "Cobra <551130000000>", "Cobrança Ltda <+551130000000>"])
def test_caller_id_accepts(value: str) -> None:
    assert sanitize.caller_id("caller_id", value) == value


@pytest.mark.parametrize("value", ["Cobra <5511abc>", "Cobra", '"Cobra" <5511>', "Cobra <551130000000>,x"])
def test_caller_id_refuses(value: str) -> None:
    with pytest.raises(AmiValueError, match=r"^caller_id: is not a caller ID"):
        sanitize.caller_id("caller_id", value)


def test_int_in_range() -> None:
    assert sanitize.int_in_range("cause", 16, 0, 127) == 16
    with pytest.raises(AmiValueError, match=r"^cause: must be between 0 and 127"):
        sanitize.int_in_range("cause", 128, 0, 127)
    with pytest.raises(AmiValueError, match=r"^cause: must be an integer, not bool"):
        sanitize.int_in_range("cause", True, 0, 127)
    with pytest.raises(AmiValueError, match=r"^cause: must be an integer, not str"):
        sanitize.int_in_range("cause", "16", 0, 127)


def test_ids_usernames_conferences_event_classes() -> None:
    assert sanitize.action_id("action_id", "orig-7") == "orig-7"
    assert sanitize.username("username", "cobra") == "cobra"
    assert sanitize.conference("conference", "agent7001") == "agent7001"
    assert sanitize.event_class("events[0]", "call") == "call"
    with pytest.raises(AmiValueError, match=r"^action_id: is not an id"):
        sanitize.action_id("action_id", "orig 7")
    with pytest.raises(AmiValueError, match=r"^action_id: is 129 characters long"):
        sanitize.action_id("action_id", "a" * 129)
    with pytest.raises(AmiValueError, match=r"^username: is not a manager user name"):
        sanitize.username("username", "co bra")
    with pytest.raises(AmiValueError, match=r"^conference: is not a conference name"):
        sanitize.conference("conference", "agent 7001")
    with pytest.raises(AmiValueError, match=r"^events\[1\]: is not an event class"):
        sanitize.event_class("events[1]", "call,all")
    with pytest.raises(AmiValueError, match=r"^secret: starts or ends with whitespace"):
        sanitize.secret("secret", " cobra")
    with pytest.raises(AmiValueError, match=r"^secret: is empty"):
        sanitize.secret("secret", "")


def test_header_key() -> None:
    assert sanitize.header_key("key", "ActionID") == "ActionID"
    with pytest.raises(AmiValueError, match=r"^key: is not a header name"):
        sanitize.header_key("key", "Action: Command")


@pytest.mark.parametrize("template", ["PJSIP/{number}@trunk", "Local/{number}@cust-sim", "SIP/trunk/{number}"])
def test_dial_template_takes_what_dial_string_takes(template: str) -> None:
    assert sanitize.dial_template("t", template) == template
    sanitize.dial_string(template, "+5511999990001")


@pytest.mark.parametrize(
    "template",
    ["PJSIP/{number}@trunk\r\nAction: Hangup", "PJSIP/{number}@trunk,30", "PJSIP/trunk",
     "PJSIP/{number}@{number}", "PJSIP/{number}@trunk&DAHDI/1", "x" * 300 + "/{number}"],
)
def test_dial_template_refuses_what_dial_string_would_refuse_later(template: str) -> None:
    with pytest.raises(AmiValueError, match="^t: "):
        sanitize.dial_template("t", template)
