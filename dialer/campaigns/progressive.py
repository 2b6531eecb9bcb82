"""Progressive dialing: one call per ready agent (SPEC §5), as a pure function.

Calls to place now = free ready agents − calls in progress, where calls in progress are
ringing calls plus answered calls still waiting for an agent. Agents held for an owned
callback in flight are not free, and that call is not counted as in progress either (it
has its agent).
"""

from __future__ import annotations

from collections.abc import Sequence


def calls_to_place(free_ready_agents: int, calls_in_progress: int, limit: int | None = None) -> int:
    """How many originates to send this tick (never negative; at most ``limit`` if given)."""
    if free_ready_agents < 0 or calls_in_progress < 0:
        raise ValueError("free_ready_agents and calls_in_progress must be >= 0")
    n = max(0, free_ready_agents - calls_in_progress)
    return n if limit is None else min(n, max(0, limit))


def share_out(total: int, campaign_ids: Sequence[int], start: int = 0) -> dict[int, int]:
    """Split ``total`` new calls over running campaigns round-robin, beginning at index ``start``.

    Agents are not assigned to campaigns yet: running progressive campaigns share the ready
    pool, and rotating the start keeps one campaign from taking every spare agent.
    """
    out = {cid: 0 for cid in campaign_ids}
    if not campaign_ids:
        return out
    for i in range(total):
        out[campaign_ids[(start + i) % len(campaign_ids)]] += 1
    return out
