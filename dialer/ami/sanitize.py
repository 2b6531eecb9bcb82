"""Validation of every value Cobra sends over AMI.

AMI is line-based: a CR or LF inside a value ends the header early and whatever
follows is read by Asterisk as more headers of the same action (see
``tests/fixtures/ami-traces/injection_attempt.ami``). Each function here checks one
kind of value, returns it unchanged (or normalised, for phone numbers) and raises
:class:`dialer.errors.AmiValueError` naming the field and what is wrong. Patterns are
deliberately narrow: it is cheaper to widen one when a real value needs it than to
find out which odd character a PBX treats specially.
"""

from __future__ import annotations

import re

from dialer.errors import AmiValueError

# Longest value we send. Asterisk's own buffers are larger; nothing legitimate of ours
# comes close, and a bound keeps a runaway string from becoming a giant AMI frame.
MAX_VALUE_LEN = 512
# AST_MAX_CONTEXT / AST_MAX_EXTENSION are 80 in Asterisk
MAX_DIALPLAN_NAME_LEN = 80
MAX_ID_LEN = 128
MAX_VARIABLE_NAME_LEN = 80
E164_MIN_DIGITS = 10
E164_MAX_DIGITS = 15
MAX_TIMEOUT_MS = 10 * 60 * 1000

_HEADER_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_DIGITS = re.compile(r"[0-9]+")
# Tech/resource. The resource allows what dial strings and channel names of PJSIP, SIP,
# IAX2, DAHDI and Local use (``PJSIP/5511999990001@trunk``, ``Local/7001@agent-sim/n``,
# ``Local/5511999990001@cust-sim-0000000d;1``) and nothing Dial() or the dialplan parser
# gives a meaning to: no ``,`` (option separator), ``&`` (parallel dial), ``|``, spaces,
# quotes, ``$``/``{}``/``[]`` (expression syntax), ``<>``.
_CHANNEL = re.compile(r"[A-Za-z][A-Za-z0-9_]*/[A-Za-z0-9_.@+:;#*/-]+")
_CONTEXT = re.compile(r"[A-Za-z0-9_-]+")
_EXTEN = re.compile(r"[A-Za-z0-9_+*#.-]+")
_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_APPLICATION = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_ID = re.compile(r"[A-Za-z0-9_.:/-]+")
_USERNAME = re.compile(r"[A-Za-z0-9_.@-]+")
_CONFERENCE = re.compile(r"[A-Za-z0-9_-]+")
_EVENT_CLASS = re.compile(r"[a-z]+")
# Absolute or relative path of plain segments; ``..`` is refused separately
_FILE_PATH = re.compile(r"[A-Za-z0-9_./-]+")
_MIXMONITOR_OPTIONS = re.compile(r"[A-Za-z0-9()_.-]*")
# Caller ID: digits, or ``Name <digits>``; the name may carry accents (``Cobrança``)
_CALLER_ID = re.compile(r"(?:[\w .'-]{1,80} )?<\+?[0-9]{1,20}>|\+?[0-9]{1,20}", re.UNICODE)


def _fail(field: str, problem: str, value: object | None = None, *, secret: bool = False) -> AmiValueError:
    if secret or value is None:
        return AmiValueError(f"{field}: {problem}")
    shown = repr(value)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return AmiValueError(f"{field}: {problem} (got {shown})")


# Unicode categories Cc (U+0000-U+001F, U+007F-U+009F: CR, LF, NUL, TAB, DEL, U+0085), Zl (U+2028), Zp (U+2029)
_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _describe_char(ch: str) -> str:
    names = {"\r": "a line break (CR)", "\n": "a line break (LF)", "\x00": "a NUL byte"}
    return names.get(ch, f"a control character U+{ord(ch):04X}")


def check_value(field: str, value: object, max_len: int = MAX_VALUE_LEN, *, secret: bool = False) -> str:
    """Any value: a string with no CR, LF, NUL or other control character, at most ``max_len`` long."""
    if not isinstance(value, str):
        raise _fail(field, f"must be a string, not {type(value).__name__}", secret=secret)
    # one regex search instead of a category lookup per character (every header of every action)
    found = _FORBIDDEN.search(value)
    if found is not None:
        raise _fail(field, f"contains {_describe_char(found.group())}", value, secret=secret)
    if len(value) > max_len:
        raise _fail(field, f"is {len(value)} characters long, more than the {max_len} allowed", secret=True)
    return value


def _matching(field: str, value: object, pattern: re.Pattern[str], what: str, max_len: int) -> str:
    text = check_value(field, value, max_len)
    if not text:
        raise _fail(field, "is empty")
    if pattern.fullmatch(text) is None:
        raise _fail(field, f"is not {what}", text)
    return text


def header_key(field: str, key: object) -> str:
    """An AMI header name (``Channel``, ``ActionID``)."""
    return _matching(field, key, _HEADER_KEY, "a header name (letters, digits, '-' and '_')", 64)


def digits_only(field: str, value: object) -> str:
    """A non-empty string of ASCII digits, returned as is."""
    return _matching(field, value, _DIGITS, "digits only", MAX_VALUE_LEN)


def e164(field: str, value: object) -> str:
    """A phone number in E.164 (``+5511999990001`` or ``5511999990001``), returned as digits only.

    Formatting characters are refused, not stripped: numbers are normalised once, when
    they are imported, and anything else arriving here is a bug worth hearing about.
    """
    text = check_value(field, value, 32)
    digits = text.removeprefix("+")
    if _DIGITS.fullmatch(digits) is None:
        raise _fail(field, "is not an E.164 number (digits only, optional leading '+')", text)
    if not E164_MIN_DIGITS <= len(digits) <= E164_MAX_DIGITS:
        raise _fail(field, f"has {len(digits)} digits; E.164 numbers have {E164_MIN_DIGITS} to {E164_MAX_DIGITS}", text)
    return digits


def channel(field: str, value: object) -> str:
    """A channel name or dial string: ``Tech/resource`` with no character Dial() or the dialplan interprets."""
    return _matching(field, value, _CHANNEL, "a channel like Tech/resource (e.g. PJSIP/7001)", 256)


def dial_string(template: str, number: str, field: str = "channel") -> str:
    """Fill a campaign's dial template (``PJSIP/{number}@trunk``) with an E.164 number, checked both ways."""
    digits = e164("number", number)
    if template.count("{number}") != 1:
        raise _fail("dial_template", "must contain {number} exactly once", template)
    return channel(field, template.replace("{number}", digits))


# Any valid E.164 number: a template is checked by filling it with one, so where it is
# entered it meets exactly the rules dial_string applies at originate time
_SAMPLE_NUMBER = "5511999990001"


def dial_template(field: str, value: object) -> str:
    """A campaign's dial template as entered (``PJSIP/{number}@trunk``): ``{number}`` exactly once,
    and a valid dial string (see :func:`channel`) once a number fills it."""
    text = check_value(field, value, 256)
    if text.count("{number}") != 1:
        raise _fail(field, "must contain {number} exactly once", text)
    try:
        channel(field, text.replace("{number}", _SAMPLE_NUMBER))
    except AmiValueError:
        raise _fail(
            field, "is not a dial string like PJSIP/{number}@trunk (letters, digits and _ . @ + : ; # * / - only)", text
        ) from None
    return text


def channel_regex(field: str, value: object) -> str:
    """A ``/regex/`` channel selector (Hangup accepts one); the regex must compile."""
    text = check_value(field, value, 256)
    if len(text) < 3 or not (text.startswith("/") and text.endswith("/")):
        raise _fail(field, "is not a /regex/ between slashes", text)
    if any(ch.isspace() for ch in text):
        raise _fail(field, "contains whitespace", text)
    try:
        re.compile(text[1:-1])
    except re.error as exc:
        raise _fail(field, f"is not a valid regular expression ({exc})", text) from None
    return text


def context(field: str, value: object) -> str:
    """A dialplan context name (``cobra-outbound``)."""
    return _matching(field, value, _CONTEXT, "a context name (letters, digits, '-' and '_')", MAX_DIALPLAN_NAME_LEN)


def exten(field: str, value: object) -> str:
    """A dialplan extension (``s``, ``7001``, ``5511999990001``)."""
    return _matching(field, value, _EXTEN, "an extension (letters, digits and + * # . - _)", MAX_DIALPLAN_NAME_LEN)


def variable_name(field: str, value: object) -> str:
    """A channel variable name: ``[A-Za-z_][A-Za-z0-9_]*`` (no dialplan functions)."""
    return _matching(field, value, _VARIABLE_NAME, "a variable name ([A-Za-z_][A-Za-z0-9_]*)", MAX_VARIABLE_NAME_LEN)


def variable_value(field: str, value: object) -> str:
    """A channel variable value.

    Asterisk splits a ``Variable`` header on ``,`` (and older versions on ``|``), so
    either would smuggle in another variable; ``${`` and ``$[`` would be evaluated if
    the value ever reaches a dialplan expression.
    """
    text = check_value(field, value)
    for bad, why in ((",", "a ','"), ("|", "a '|'"), ("${", "'${'"), ("$[", "'$['")):
        if bad in text:
            raise _fail(field, f"contains {why}, which Asterisk would interpret", text)
    return text


def application(field: str, value: object) -> str:
    """A dialplan application name (``ChanSpy``)."""
    return _matching(field, value, _APPLICATION, "an application name", 64)


def application_data(field: str, value: object) -> str:
    """Arguments for an application (``PJSIP/7001,qE``): commas are its separators, expressions are refused."""
    text = check_value(field, value)
    for bad in ("${", "$["):
        if bad in text:
            raise _fail(field, f"contains {bad!r}, which Asterisk would evaluate", text)
    return text


def action_id(field: str, value: object) -> str:
    """An ActionID, ChannelId or Uniqueid we choose."""
    return _matching(field, value, _ID, "an id (letters, digits and _ . : / -)", MAX_ID_LEN)


def username(field: str, value: object) -> str:
    return _matching(field, value, _USERNAME, "a manager user name (letters, digits and _ . @ -)", 64)


def secret(field: str, value: object) -> str:
    """A manager secret: any printable text; never echoed in errors."""
    text = check_value(field, value, 128, secret=True)
    if not text:
        raise _fail(field, "is empty")
    if text != text.strip():
        raise _fail(field, "starts or ends with whitespace (Asterisk would not match it)")
    return text


def event_class(field: str, value: object) -> str:
    """One AMI event class (``call``, ``agent``, ``system``)."""
    return _matching(field, value, _EVENT_CLASS, "an event class (lowercase letters)", 32)


def conference(field: str, value: object) -> str:
    """A ConfBridge conference name (``agent7001``)."""
    return _matching(field, value, _CONFERENCE, "a conference name (letters, digits, '-' and '_')", MAX_DIALPLAN_NAME_LEN)


def file_path(field: str, value: object) -> str:
    """A recording path made of plain segments; never ``..``."""
    text = _matching(field, value, _FILE_PATH, "a file path (letters, digits and _ . / -)", 255)
    if ".." in text.split("/"):
        raise _fail(field, "contains a '..' segment", text)
    return text


def mixmonitor_options(field: str, value: object) -> str:
    return _matching(field, value, _MIXMONITOR_OPTIONS, "MixMonitor options (letters, digits, parentheses)", 64)


def caller_id(field: str, value: object) -> str:
    """``551130000000`` or ``Name <551130000000>``."""
    return _matching(field, value, _CALLER_ID, "a caller ID ('digits' or 'Name <digits>')", 128)


def int_in_range(field: str, value: object, low: int, high: int) -> int:
    """An integer within ``[low, high]`` (``bool`` is refused: ``True`` is not a timeout)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(field, f"must be an integer, not {type(value).__name__}")
    if not low <= value <= high:
        raise _fail(field, f"must be between {low} and {high}", value)
    return value
