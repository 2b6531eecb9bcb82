"""Typed AMI actions and their results.

Each action is a frozen dataclass whose :meth:`headers` validates every value (see
:mod:`dialer.ami.sanitize`) before producing the ``(key, value)`` pairs to send, so an
unsafe value is refused before anything reaches a socket. Results normalise the shapes
panoramisk hands back (one message, or a list ending in a ``...Complete`` event or an
``OriginateResponse``) into :class:`ActionResult` and :class:`OriginateResult`.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import ClassVar

from dialer.ami import sanitize
from dialer.ami.wire import Message
from dialer.errors import AmiValueError

Headers = list[tuple[str, str]]

# Unique per process (the prefix) and cheap to make (the counter); several Cobra
# processes can share one Asterisk, and ActionIDs only have to be unique per connection.
_ID_PREFIX = uuid.uuid4().hex[:8]
_ID_COUNTER = itertools.count(1)

# The event classes Cobra reads (SPEC §3.1): ``call`` carries channel, dial, bridge,
# hangup, ConfBridge, MixMonitor, ChanSpy and OriginateResponse events; ``agent`` the
# queue/agent events; ``system`` FullyBooted and Shutdown, which tell us the link is
# usable or going away; ``dialplan`` carries VarSet, which is how Asterisk reports the
# AMD verdict (``AMDSTATUS``/``AMDCAUSE``, see amd_on_silence.ami) and ``COBRA_CALL``.
# Everything else (``security``, ``cdr``, ``reporting``, ``cel``...) is load we don't read.
DEFAULT_EVENT_CLASSES: tuple[str, ...] = ("call", "agent", "system", "dialplan")

# Asterisk's Originate failure reasons (``Reason`` of OriginateResponse; see
# ``ast_control_frame_type`` in Asterisk's frame.h), as SPEC §3 uses them.
REASON_UNAVAILABLE = 0  # no such extension, channel unavailable, or refused before dialing
REASON_HUNGUP = 1
REASON_RING_TIMEOUT = 3
REASON_ANSWERED = 4
REASON_BUSY = 5
REASON_CONGESTION = 8


def new_action_id() -> str:
    """A fresh ActionID: ``<process prefix>-<counter>``."""
    return f"{_ID_PREFIX}-{next(_ID_COUNTER)}"


@dataclass(frozen=True, slots=True)
class Login:
    username: str
    secret: str = field(repr=False)
    events: Sequence[str] = DEFAULT_EVENT_CLASSES
    action_id: str = field(default_factory=new_action_id)
    name: ClassVar[str] = "Login"

    def headers(self) -> Headers:
        classes = [sanitize.event_class(f"events[{i}]", c) for i, c in enumerate(self.events)]
        return [
            ("Action", self.name),
            ("ActionID", sanitize.action_id("action_id", self.action_id)),
            ("Username", sanitize.username("username", self.username)),
            ("Secret", sanitize.secret("secret", self.secret)),
            # "off" subscribes to nothing; an empty list would mean "on" to some versions
            ("Events", ",".join(classes) if classes else "off"),
        ]


@dataclass(frozen=True, slots=True)
class Logoff:
    action_id: str = field(default_factory=new_action_id)
    name: ClassVar[str] = "Logoff"

    def headers(self) -> Headers:
        return [("Action", self.name), ("ActionID", sanitize.action_id("action_id", self.action_id))]


@dataclass(frozen=True, slots=True)
class Ping:
    action_id: str = field(default_factory=new_action_id)
    name: ClassVar[str] = "Ping"

    def headers(self) -> Headers:
        return [("Action", self.name), ("ActionID", sanitize.action_id("action_id", self.action_id))]


@dataclass(frozen=True, slots=True)
class Originate:
    """Place a call on ``channel`` and, once answered, send it to ``context``/``exten``
    (or run ``application``/``data``). ``channel_id`` becomes the Uniqueid of the new
    channel (``other_channel_id`` that of the ``;2`` half of a Local channel), so every
    later event of the call can be matched without waiting for OriginateResponse."""

    channel: str
    context: str | None = None
    exten: str | None = None
    priority: int = 1
    timeout_ms: int = 30_000
    caller_id: str | None = None
    variables: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    channel_id: str | None = None
    other_channel_id: str | None = None
    application: str | None = None
    data: str | None = None
    async_: bool = True
    action_id: str = field(default_factory=new_action_id)
    name: ClassVar[str] = "Originate"

    def headers(self) -> Headers:
        out: Headers = [
            ("Action", self.name),
            ("ActionID", sanitize.action_id("action_id", self.action_id)),
            ("Channel", sanitize.channel("channel", self.channel)),
        ]
        has_dialplan = self.context is not None or self.exten is not None
        if has_dialplan and self.application is not None:
            raise AmiValueError("application: give either context/exten or application/data, not both")
        if self.application is not None:
            out.append(("Application", sanitize.application("application", self.application)))
            if self.data is not None:
                out.append(("Data", sanitize.application_data("data", self.data)))
        elif self.context is not None and self.exten is not None:
            if self.data is not None:
                raise AmiValueError("data: only goes with application, not with context/exten")
            out.append(("Context", sanitize.context("context", self.context)))
            out.append(("Exten", sanitize.exten("exten", self.exten)))
            out.append(("Priority", str(sanitize.int_in_range("priority", self.priority, 1, 100_000))))
        else:
            missing = "exten" if self.context is not None else "context"
            raise AmiValueError(f"{missing}: Originate needs context and exten, or application")
        out.append(("Timeout", str(sanitize.int_in_range("timeout_ms", self.timeout_ms, 1, sanitize.MAX_TIMEOUT_MS))))
        if self.caller_id is not None:
            out.append(("CallerID", sanitize.caller_id("caller_id", self.caller_id)))
        for key, value in self.variables.items():
            name = sanitize.variable_name("variables", key)
            out.append(("Variable", f"{name}={sanitize.variable_value(f'variables[{name}]', value)}"))
        if self.channel_id is not None:
            out.append(("ChannelId", sanitize.action_id("channel_id", self.channel_id)))
        if self.other_channel_id is not None:
            if self.channel_id is None:
                raise AmiValueError("other_channel_id: needs channel_id too")
            out.append(("OtherChannelId", sanitize.action_id("other_channel_id", self.other_channel_id)))
        if not isinstance(self.async_, bool):
            raise AmiValueError(f"async_: must be a bool, not {type(self.async_).__name__}")
        out.append(("Async", "true" if self.async_ else "false"))
        return out


@dataclass(frozen=True, slots=True)
class Redirect:
    """Move a channel (the answered customer) to ``context``/``exten``."""

    channel: str
    context: str
    exten: str
    priority: int = 1
    action_id: str = field(default_factory=new_action_id)
    name: ClassVar[str] = "Redirect"

    def headers(self) -> Headers:
        return [
            ("Action", self.name),
            ("ActionID", sanitize.action_id("action_id", self.action_id)),
            ("Channel", sanitize.channel("channel", self.channel)),
            ("Context", sanitize.context("context", self.context)),
            ("Exten", sanitize.exten("exten", self.exten)),
            ("Priority", str(sanitize.int_in_range("priority", self.priority, 1, 100_000))),
        ]


@dataclass(frozen=True, slots=True)
class Hangup:
    """Hang up one channel by name, or every channel matching ``regex`` (``/^PJSIP\\/7001-.*$/``)."""

    channel: str | None = None
    regex: str | None = None
    cause: int | None = None
    action_id: str = field(default_factory=new_action_id)
    name: ClassVar[str] = "Hangup"

    def headers(self) -> Headers:
        if (self.channel is None) == (self.regex is None):
            raise AmiValueError("channel: give exactly one of channel or regex")
        target = (
            sanitize.channel("channel", self.channel)
            if self.channel is not None
            else sanitize.channel_regex("regex", self.regex)
        )
        out: Headers = [
            ("Action", self.name),
            ("ActionID", sanitize.action_id("action_id", self.action_id)),
            ("Channel", target),
        ]
        if self.cause is not None:
            out.append(("Cause", str(sanitize.int_in_range("cause", self.cause, 0, 127))))
        return out


@dataclass(frozen=True, slots=True)
class MixMonitor:
    """Start recording ``channel`` into ``file``."""

    channel: str
    file: str
    options: str | None = None
    action_id: str = field(default_factory=new_action_id)
    name: ClassVar[str] = "MixMonitor"

    def headers(self) -> Headers:
        out: Headers = [
            ("Action", self.name),
            ("ActionID", sanitize.action_id("action_id", self.action_id)),
            ("Channel", sanitize.channel("channel", self.channel)),
            ("File", sanitize.file_path("file", self.file)),
        ]
        if self.options is not None:
            out.append(("Options", sanitize.mixmonitor_options("options", self.options)))
        return out


# MixMonitorMute's Direction (Asterisk docs, AMI action MixMonitorMute): "read" (from the
# channel), "write" (to the channel) or "both"
MUTE_DIRECTIONS = frozenset({"read", "write", "both"})


@dataclass(frozen=True, slots=True)
class MixMonitorMute:
    """Mute (``muted``) or unmute the MixMonitor recording of ``channel`` (Asterisk 1.8+).

    Fields as Asterisk documents the action: ``Channel``, ``Direction`` (read, write or both)
    and ``State`` (1 mutes, 0 unmutes). "both" silences the customer and the agent alike.
    """

    channel: str
    muted: bool
    direction: str = "both"
    action_id: str = field(default_factory=new_action_id)
    name: ClassVar[str] = "MixMonitorMute"

    def headers(self) -> Headers:
        if self.direction not in MUTE_DIRECTIONS:
            raise AmiValueError(f"direction: must be one of read, write, both, not {self.direction!r}")
        return [
            ("Action", self.name),
            ("ActionID", sanitize.action_id("action_id", self.action_id)),
            ("Channel", sanitize.channel("channel", self.channel)),
            ("Direction", self.direction),
            ("State", "1" if self.muted else "0"),
        ]


@dataclass(frozen=True, slots=True)
class CoreShowChannels:
    action_id: str = field(default_factory=new_action_id)
    name: ClassVar[str] = "CoreShowChannels"

    def headers(self) -> Headers:
        return [("Action", self.name), ("ActionID", sanitize.action_id("action_id", self.action_id))]


@dataclass(frozen=True, slots=True)
class ConfbridgeList:
    conference: str
    action_id: str = field(default_factory=new_action_id)
    name: ClassVar[str] = "ConfbridgeList"

    def headers(self) -> Headers:
        return [
            ("Action", self.name),
            ("ActionID", sanitize.action_id("action_id", self.action_id)),
            ("Conference", sanitize.conference("conference", self.conference)),
        ]


AmiAction = (
    Login | Logoff | Ping | Originate | Redirect | Hangup | MixMonitor | MixMonitorMute | CoreShowChannels
    | ConfbridgeList
)


@dataclass(frozen=True, slots=True)
class ActionResult:
    """Asterisk's reply to an action: the response message and, for actions that answer
    with an event list (CoreShowChannels, ConfbridgeList, Hangup by regex), its events
    up to and including the ``...Complete`` one."""

    action_id: str
    response: str
    message: str
    headers: Message
    events: tuple[Message, ...] = ()

    @property
    def ok(self) -> bool:
        return self.response in ("Success", "Follows", "Goodbye")

    @classmethod
    def from_messages(cls, action_id: str, messages: Sequence[Message]) -> ActionResult:
        """Build from the messages of one action, first the response, then list events."""
        if not messages:
            raise ValueError("an action result needs at least one message")
        first = messages[0]
        return cls(
            action_id=action_id,
            response=first.get("Response") or "",
            message=first.get("Message") or "",
            headers=first,
            events=tuple(messages[1:]),
        )


@dataclass(frozen=True, slots=True)
class OriginateResult:
    """The outcome of an Originate, whichever shape Asterisk answered in.

    ``queued`` is False when Asterisk refused the action at once (``Response: Error``,
    e.g. a permission problem); then ``reason`` is 0 and ``error`` says why. Otherwise
    the values come from ``OriginateResponse``.
    """

    action_id: str
    success: bool
    reason: int
    channel: str | None
    uniqueid: str | None
    error: str | None
    queued: bool

    @property
    def answered(self) -> bool:
        return self.success and self.reason == REASON_ANSWERED

    @classmethod
    def from_messages(cls, action: Originate, messages: Sequence[Message]) -> OriginateResult:
        """Normalise panoramisk's two shapes: ``[Response: Error]`` or ``[Response: Success, OriginateResponse]``."""
        if not messages:
            raise ValueError("an originate result needs at least one message")
        first = messages[0]
        final = next((m for m in messages if m.get("Event") == "OriginateResponse"), None)
        if final is None:
            # Immediate answer: an error, or (Async=false) the synchronous outcome
            ok = first.get("Response") == "Success"
            return cls(
                action_id=action.action_id,
                success=ok,
                reason=REASON_ANSWERED if ok else REASON_UNAVAILABLE,
                channel=None,
                uniqueid=action.channel_id if ok else None,
                error=None if ok else (first.get("Message") or "Originate refused"),
                queued=ok,
            )
        success = final.get("Response") == "Success"
        reason_text = final.get("Reason") or "0"
        try:
            reason = int(reason_text)
        except ValueError:
            reason = REASON_UNAVAILABLE
        uniqueid = final.get("Uniqueid")
        if uniqueid in (None, "", "<unknown>"):
            uniqueid = None
        return cls(
            action_id=action.action_id,
            success=success,
            reason=reason,
            channel=final.get("Channel") or None,
            uniqueid=uniqueid,
            error=None if success else _reason_text(reason),
            queued=True,
        )


_REASONS = {
    REASON_UNAVAILABLE: "no such extension or channel unavailable",
    REASON_HUNGUP: "hung up before answer",
    REASON_RING_TIMEOUT: "no answer (ring timeout)",
    REASON_ANSWERED: "answered",
    REASON_BUSY: "busy",
    REASON_CONGESTION: "congestion",
}


def _reason_text(reason: int) -> str:
    return _REASONS.get(reason, f"failed (reason {reason})")
