"""Cobra's AMI client: typed actions and events over panoramisk, behind :class:`AmiGateway`.

The gateway names are imported lazily: the pure middle (``dialer.calls`` reading
``dialer.ami.events``) must not pull panoramisk in just by importing this package.
"""

from typing import TYPE_CHECKING, Any

from dialer.ami.actions import (
    DEFAULT_EVENT_CLASSES,
    ActionResult,
    ConfbridgeList,
    CoreShowChannels,
    Hangup,
    Login,
    Logoff,
    MixMonitor,
    MixMonitorMute,
    Originate,
    OriginateResult,
    Ping,
    Redirect,
    new_action_id,
)

if TYPE_CHECKING:
    from dialer.ami.gateway import (
        AmiGateway,
        AmiSettings,
        EventsLost,
        GatewayItem,
        LinkChanged,
        LinkStatus,
        Received,
    )
    from dialer.ami.link import LinkState

_GATEWAY_NAMES = frozenset(
    {"AmiGateway", "AmiSettings", "EventsLost", "GatewayItem", "LinkChanged", "LinkState", "LinkStatus", "Received"}
)


def __getattr__(name: str) -> Any:
    if name in _GATEWAY_NAMES:
        from dialer.ami import gateway

        return getattr(gateway, name)
    raise AttributeError(f"module 'dialer.ami' has no attribute {name!r}")

__all__ = [
    "DEFAULT_EVENT_CLASSES",
    "ActionResult",
    "AmiGateway",
    "AmiSettings",
    "ConfbridgeList",
    "CoreShowChannels",
    "EventsLost",
    "GatewayItem",
    "Hangup",
    "LinkChanged",
    "LinkState",
    "LinkStatus",
    "Login",
    "Logoff",
    "MixMonitor",
    "MixMonitorMute",
    "Originate",
    "OriginateResult",
    "Ping",
    "Received",
    "Redirect",
    "new_action_id",
]
