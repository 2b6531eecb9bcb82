"""Call and agent-leg state: typed AMI events in, domain events out (pure, no I/O)."""

from dialer.calls.events import (
    AgentLegDown,
    AgentLegFailed,
    AgentLegUp,
    AmdDetected,
    CallAbandoned,
    CallAnswered,
    CallConnected,
    CallEnded,
    CallFailed,
    CallRinging,
    DomainEvent,
    FailReason,
    RecordingStarted,
    fail_reason,
)
from dialer.calls.tracker import CallTracker

__all__ = [
    "AgentLegDown",
    "AgentLegFailed",
    "AgentLegUp",
    "AmdDetected",
    "CallAbandoned",
    "CallAnswered",
    "CallConnected",
    "CallEnded",
    "CallFailed",
    "CallRinging",
    "CallTracker",
    "DomainEvent",
    "FailReason",
    "RecordingStarted",
    "fail_reason",
]
