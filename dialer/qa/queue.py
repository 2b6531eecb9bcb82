"""The review queue's random sample: a few calls per agent per week, the same ones all week (pure).

The seed is the ISO week (``2026-W10``) and a configured salt, so every reviewer and every
process sees the same picks, and the picks change each week.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from dialer.qa.records import BRASILIA


def week_of(at: datetime) -> tuple[str, date]:
    """The ISO week label of ``at`` (Brasília) and its Monday."""
    local = at.astimezone(BRASILIA).date()
    year, week, _ = local.isocalendar()
    return f"{year}-W{week:02d}", local - timedelta(days=local.weekday())


def _rank(seed: str, call_id: str) -> str:
    return hashlib.sha256(f"{seed}:{call_id}".encode()).hexdigest()


def sample_per_agent(calls: Iterable[tuple[int, str]], *, per_agent: int, seed: str) -> set[str]:
    """``per_agent`` call ids of each agent's ``(agent_id, call_id)`` calls, chosen by ``seed`` (deterministic)."""
    by_agent: dict[int, list[str]] = {}
    for agent_id, call_id in calls:
        by_agent.setdefault(agent_id, []).append(call_id)
    picked: set[str] = set()
    for ids in by_agent.values():
        picked.update(sorted(ids, key=lambda c: _rank(seed, c))[:per_agent])
    return picked


__all__ = ["sample_per_agent", "week_of"]
