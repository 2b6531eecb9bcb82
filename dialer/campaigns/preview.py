"""Preview dialing: a ready agent is given the next lead's screen-pop and decides to dial (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from dialer.agents.routing import Candidate, free_agents


def agents_for_preview(agents: Iterable[Candidate], campaign_ids: Sequence[int]) -> list[tuple[int, int]]:
    """(user id, campaign id) pairs: each free ready agent, longest idle first, gets one preview.

    Preview campaigns take turns over the free agents in the order given.
    """
    if not campaign_ids:
        return []
    return [(a.user_id, campaign_ids[i % len(campaign_ids)]) for i, a in enumerate(free_agents(agents))]
