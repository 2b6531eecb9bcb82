"""Typed AMI events: the subset of Asterisk's events Cobra reads, parsed at the edge.

Every name and field here appears in the transcripts recorded from a real Asterisk 22
(``tests/fixtures/ami-traces``). ``parse_event`` turns a wire :class:`Message` into one of
these dataclasses, or ``None`` for events Cobra does not read. A missing field the
dataclass needs raises :class:`AmiProtocolError` instead of reading as ``''``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

from dialer.ami.wire import Message
from dialer.errors import AmiProtocolError

UNKNOWN = "<unknown>"


def _req(msg: Message, key: str) -> str:
    value = msg.get(key)
    if value is None:
        raise AmiProtocolError(f"{msg.event or 'message'} without {key!r}")
    return value


def _int(msg: Message, key: str, default: int | None = None) -> int:
    value = msg.get(key)
    if value is None or value == "":
        if default is None:
            raise AmiProtocolError(f"{msg.event or 'message'} without {key!r}")
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise AmiProtocolError(f"{msg.event}: {key}={value!r} is not an integer") from exc


def _opt(value: str | None) -> str | None:
    return None if value in (None, "", UNKNOWN) else value


@dataclass(frozen=True, slots=True)
class ChannelSnapshot:
    """The channel fields Asterisk repeats in every channel event."""

    channel: str
    uniqueid: str
    linkedid: str
    state: int
    context: str
    exten: str
    caller_id_num: str | None

    @classmethod
    def from_message(cls, msg: Message, prefix: str = "") -> ChannelSnapshot:
        return cls(
            channel=_req(msg, prefix + "Channel"),
            uniqueid=_req(msg, prefix + "Uniqueid"),
            linkedid=msg.get(prefix + "Linkedid") or _req(msg, prefix + "Uniqueid"),
            state=_int(msg, prefix + "ChannelState", 0),
            context=msg.get(prefix + "Context") or "",
            exten=msg.get(prefix + "Exten") or "",
            caller_id_num=_opt(msg.get(prefix + "CallerIDNum")),
        )


@dataclass(frozen=True, slots=True)
class FullyBooted:
    status: str


@dataclass(frozen=True, slots=True)
class Newchannel:
    ch: ChannelSnapshot


@dataclass(frozen=True, slots=True)
class Newstate:
    ch: ChannelSnapshot


@dataclass(frozen=True, slots=True)
class Newexten:
    ch: ChannelSnapshot
    application: str
    app_data: str


@dataclass(frozen=True, slots=True)
class VarSet:
    ch: ChannelSnapshot
    variable: str
    value: str


@dataclass(frozen=True, slots=True)
class Hangup:
    ch: ChannelSnapshot
    cause: int
    cause_txt: str


@dataclass(frozen=True, slots=True)
class HangupRequest:
    """A hang-up asked of a channel, with the Q.850 cause, before its ``Hangup``.

    It can be the only place the cause shows up before ``OriginateResponse``
    (``no_answer_far_end.ami``: cause 19 here, the ``Hangup`` events come after).
    """

    ch: ChannelSnapshot
    cause: int


@dataclass(frozen=True, slots=True)
class DialBegin:
    dest: ChannelSnapshot
    dial_string: str


@dataclass(frozen=True, slots=True)
class DialState:
    dest: ChannelSnapshot
    dial_status: str


@dataclass(frozen=True, slots=True)
class DialEnd:
    dest: ChannelSnapshot
    dial_status: str


@dataclass(frozen=True, slots=True)
class LocalBridge:
    """The two halves (``;1`` and ``;2``) of a Local channel."""

    one: ChannelSnapshot
    two: ChannelSnapshot


@dataclass(frozen=True, slots=True)
class OriginateResponse:
    action_id: str
    success: bool
    reason: int
    channel: str
    context: str
    exten: str
    uniqueid: str | None


@dataclass(frozen=True, slots=True)
class BridgeEnter:
    bridge_uniqueid: str
    ch: ChannelSnapshot


@dataclass(frozen=True, slots=True)
class BridgeLeave:
    bridge_uniqueid: str
    ch: ChannelSnapshot


@dataclass(frozen=True, slots=True)
class ConfbridgeJoin:
    conference: str
    bridge_uniqueid: str
    ch: ChannelSnapshot


@dataclass(frozen=True, slots=True)
class ConfbridgeLeave:
    conference: str
    bridge_uniqueid: str
    ch: ChannelSnapshot


@dataclass(frozen=True, slots=True)
class MixMonitorStart:
    ch: ChannelSnapshot


@dataclass(frozen=True, slots=True)
class ChanSpyStart:
    spyer: ChannelSnapshot
    spyee: ChannelSnapshot


@dataclass(frozen=True, slots=True)
class ChanSpyStop:
    spyer: ChannelSnapshot
    spyee: ChannelSnapshot


@dataclass(frozen=True, slots=True)
class CoreShowChannel:
    """One row of a ``CoreShowChannels`` listing (used to reconcile after a reconnect)."""

    action_id: str | None
    ch: ChannelSnapshot
    application: str
    application_data: str
    duration: str
    bridge_id: str


@dataclass(frozen=True, slots=True)
class ConfbridgeList:
    action_id: str | None
    conference: str
    ch: ChannelSnapshot


@dataclass(frozen=True, slots=True)
class ListComplete:
    """``CoreShowChannelsComplete``, ``ConfbridgeListComplete``, ``ChannelsHungupListComplete``."""

    name: str
    action_id: str | None
    list_items: int


AmiEvent: TypeAlias = (
    FullyBooted
    | Newchannel
    | Newstate
    | Newexten
    | VarSet
    | Hangup
    | HangupRequest
    | DialBegin
    | DialState
    | DialEnd
    | LocalBridge
    | OriginateResponse
    | BridgeEnter
    | BridgeLeave
    | ConfbridgeJoin
    | ConfbridgeLeave
    | MixMonitorStart
    | ChanSpyStart
    | ChanSpyStop
    | CoreShowChannel
    | ConfbridgeList
    | ListComplete
)


def _ch(m: Message) -> ChannelSnapshot:
    return ChannelSnapshot.from_message(m)


_PARSERS: dict[str, Callable[[Message], AmiEvent]] = {
    "FullyBooted": lambda m: FullyBooted(status=m.get("Status") or ""),
    "Newchannel": lambda m: Newchannel(_ch(m)),
    "Newstate": lambda m: Newstate(_ch(m)),
    "Newexten": lambda m: Newexten(_ch(m), m.get("Application") or "", m.get("AppData") or ""),
    "VarSet": lambda m: VarSet(_ch(m), _req(m, "Variable"), m.get("Value") or ""),
    "Hangup": lambda m: Hangup(_ch(m), _int(m, "Cause", 0), m.get("Cause-txt") or ""),
    "HangupRequest": lambda m: HangupRequest(_ch(m), _int(m, "Cause", 0)),
    "DialBegin": lambda m: DialBegin(ChannelSnapshot.from_message(m, "Dest"), m.get("DialString") or ""),
    "DialState": lambda m: DialState(ChannelSnapshot.from_message(m, "Dest"), m.get("DialStatus") or ""),
    "DialEnd": lambda m: DialEnd(ChannelSnapshot.from_message(m, "Dest"), m.get("DialStatus") or ""),
    "LocalBridge": lambda m: LocalBridge(
        ChannelSnapshot.from_message(m, "LocalOne"), ChannelSnapshot.from_message(m, "LocalTwo")
    ),
    "OriginateResponse": lambda m: OriginateResponse(
        action_id=_req(m, "ActionID"),
        success=_req(m, "Response") == "Success",
        reason=_int(m, "Reason", 0),
        channel=m.get("Channel") or "",
        context=m.get("Context") or "",
        exten=m.get("Exten") or "",
        uniqueid=_opt(m.get("Uniqueid")),
    ),
    "BridgeEnter": lambda m: BridgeEnter(_req(m, "BridgeUniqueid"), _ch(m)),
    "BridgeLeave": lambda m: BridgeLeave(_req(m, "BridgeUniqueid"), _ch(m)),
    "ConfbridgeJoin": lambda m: ConfbridgeJoin(_req(m, "Conference"), m.get("BridgeUniqueid") or "", _ch(m)),
    "ConfbridgeLeave": lambda m: ConfbridgeLeave(_req(m, "Conference"), m.get("BridgeUniqueid") or "", _ch(m)),
    "MixMonitorStart": lambda m: MixMonitorStart(_ch(m)),
    "ChanSpyStart": lambda m: ChanSpyStart(
        ChannelSnapshot.from_message(m, "Spyer"), ChannelSnapshot.from_message(m, "Spyee")
    ),
    "ChanSpyStop": lambda m: ChanSpyStop(
        ChannelSnapshot.from_message(m, "Spyer"), ChannelSnapshot.from_message(m, "Spyee")
    ),
    "CoreShowChannel": lambda m: CoreShowChannel(
        m.get("ActionID"),
        _ch(m),
        m.get("Application") or "",
        m.get("ApplicationData") or "",
        m.get("Duration") or "",
        m.get("BridgeId") or "",
    ),
    "ConfbridgeList": lambda m: ConfbridgeList(m.get("ActionID"), _req(m, "Conference"), _ch(m)),
}



def _list_complete(name: str) -> Callable[[Message], AmiEvent]:
    # a closure per name: a lambda default argument would hide the parser's type from mypy
    def parse(m: Message) -> AmiEvent:
        return ListComplete(name, m.get("ActionID"), _int(m, "ListItems", 0))

    return parse


for _name in ("CoreShowChannelsComplete", "ConfbridgeListComplete", "ChannelsHungupListComplete"):
    _PARSERS[_name] = _list_complete(_name)

EVENT_NAMES: frozenset[str] = frozenset(_PARSERS)


def parse_event(msg: Message) -> AmiEvent | None:
    """The typed event for ``msg``, or ``None`` if it is not an event Cobra reads."""
    name = msg.get("Event")
    if name is None:
        return None
    parser = _PARSERS.get(name)
    return parser(msg) if parser is not None else None
