"""What the simulated PBX's AMI actions are made of: requests, conferences, responses (pure helpers)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from dialer.ami.wire import Message
from dialer.simulator.channels import Channel

Sink = Callable[[Message], None]
Headers = list[tuple[str, str]]

PBX_ACTIONS = ("originate", "redirect", "hangup", "coreshowchannels", "confbridgelist", "mixmonitor", "mixmonitormute")


def ast_true(value: str | None) -> bool:
    return (value or "").strip().lower() in ("yes", "true", "y", "t", "1", "on")


def split_variables(values: list[str]) -> list[tuple[str, str]]:
    """``Variable`` headers (repeated, and/or comma lists with ``\\,`` escapes) → pairs."""
    out: list[tuple[str, str]] = []
    for value in values:
        for item in re.split(r"(?<!\\),", value):
            item = item.replace("\\,", ",")
            name, sep, val = item.partition("=")
            if sep and name.strip():
                out.append((name.strip(), val))
    return out


def response(action: Message, status: str, *pairs: tuple[str, str], message: str | None = None) -> Message:
    """A response in Asterisk's key order: Response, ActionID, then the rest, Message last."""
    headers: Headers = [("Response", status)]
    aid = action.action_id
    if aid is not None:
        headers.append(("ActionID", aid))
    headers.extend(pairs)
    if message is not None:
        headers.append(("Message", message))
    return Message(tuple(headers))


def error(action: Message, message: str) -> Message:
    return response(action, "Error", message=message)


def _aid(action: Message) -> Headers:
    aid = action.action_id
    return [("ActionID", aid)] if aid is not None else []


def _duration(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


@dataclass(eq=False)
class OriginateRequest:
    action_id: str | None
    channel: str
    context: str
    exten: str
    priority: int
    application: str | None
    data: str
    timeout_s: float
    variables: list[tuple[str, str]]
    caller: tuple[str, str] | None
    channel_id: str | None
    other_channel_id: str | None
    is_async: bool
    reply: Sink
    action: Message
    timer: object = None


@dataclass(eq=False)
class Conference:
    name: str
    bridge_id: str
    announcer: str
    members: list[Channel] = field(default_factory=list)

    def bridge_headers(self, count: int) -> Headers:
        return [
            ("BridgeUniqueid", self.bridge_id),
            ("BridgeType", "base"),
            ("BridgeTechnology", "softmix"),
            ("BridgeCreator", "ConfBridge"),
            ("BridgeName", self.name),
            ("BridgeNumChannels", str(count)),
            ("BridgeVideoSourceMode", "none"),
        ]

    def peers_of(self, ch: Channel) -> str:
        return ",".join([self.announcer] + [m.name for m in self.members if m is not ch])
