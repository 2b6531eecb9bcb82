"""Which ready agent gets an answered call (pure).

The longest idle ready agent gets it (fairness, and the one most likely still at the
desk). A call placed for an owned callback goes to its owner while the owner can take it;
if the owner cannot (paused, dropped), the customer is already on the line, so the longest
idle agent takes it rather than letting the call be abandoned.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Candidate:
    """An agent as routing sees them."""

    user_id: int
    ready: bool  # state READY
    idle_since: float  # when they last became ready (any monotonic clock)
    held_for: str | None = None  # call id this agent is kept free for (an owned callback in flight)


def can_take(agent: Candidate, call_id: str) -> bool:
    return agent.ready and (agent.held_for is None or agent.held_for == call_id)


def pick_agent(agents: Iterable[Candidate], call_id: str, owner_id: int | None = None) -> int | None:
    """The user id that should get ``call_id``, or None when nobody can take it."""
    best: Candidate | None = None
    for agent in agents:
        if not can_take(agent, call_id):
            continue
        if owner_id is not None and agent.user_id == owner_id:
            return agent.user_id
        if agent.held_for is not None:
            continue  # kept for this very call, but only the owner clause above may use that
        if best is None or (agent.idle_since, agent.user_id) < (best.idle_since, best.user_id):
            best = agent
    return None if best is None else best.user_id


def free_agents(agents: Iterable[Candidate]) -> list[Candidate]:
    """Ready agents nobody holds, longest idle first."""
    return sorted((a for a in agents if a.ready and a.held_for is None), key=lambda a: (a.idle_since, a.user_id))
