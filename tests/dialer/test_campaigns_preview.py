"""Preview: each free ready agent, longest idle first, gets one lead's pop."""

from __future__ import annotations

from dialer.agents.routing import Candidate
from dialer.campaigns.preview import agents_for_preview


def test_free_ready_agents_get_previews_in_idle_order() -> None:
    agents = [Candidate(1, True, 9.0), Candidate(2, True, 1.0), Candidate(3, False, 0.0), Candidate(4, True, 0.5, "x")]
    assert agents_for_preview(agents, [7]) == [(2, 7), (1, 7)]
    assert agents_for_preview(agents, [7, 8]) == [(2, 7), (1, 8)]
    assert agents_for_preview(agents, []) == []
