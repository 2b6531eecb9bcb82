"""Pacing: how many calls to launch now (pure), its statistics, and the shift simulator that proves it."""

from __future__ import annotations

from dialer.pacing.abandons import AbandonCounts, AbandonLedger
from dialer.pacing.pacer import Pacer, PacingConfig, PacingDecision, PacingMode, PacingSnapshot, PacingState
from dialer.pacing.stats import CallStats, DialResult, StatsSummary

__all__ = [
    "AbandonCounts",
    "AbandonLedger",
    "CallStats",
    "DialResult",
    "Pacer",
    "PacingConfig",
    "PacingDecision",
    "PacingMode",
    "PacingSnapshot",
    "PacingState",
    "StatsSummary",
]
