"""Routing an answered call: longest idle ready agent; owned callbacks to their agent."""

from __future__ import annotations

from dialer.agents.routing import Candidate, free_agents, pick_agent


def test_longest_idle_ready_agent_wins() -> None:
    agents = [Candidate(1, True, 30.0), Candidate(2, True, 10.0), Candidate(3, False, 1.0)]
    assert pick_agent(agents, "c1") == 2


def test_nobody_ready_means_nobody() -> None:
    assert pick_agent([Candidate(1, False, 0.0)], "c1") is None
    assert pick_agent([], "c1") is None


def test_owned_callback_goes_to_its_owner_even_if_others_idle_longer() -> None:
    agents = [Candidate(1, True, 1.0), Candidate(2, True, 50.0, held_for="cb")]
    assert pick_agent(agents, "cb", owner_id=2) == 2


def test_agent_held_for_another_call_is_not_given_this_one() -> None:
    agents = [Candidate(1, True, 1.0, held_for="other"), Candidate(2, True, 5.0)]
    assert pick_agent(agents, "c1") == 2
    assert pick_agent([Candidate(1, True, 1.0, held_for="other")], "c1") is None


def test_owner_not_ready_falls_back_to_longest_idle() -> None:
    agents = [Candidate(1, True, 3.0), Candidate(2, False, 1.0)]
    assert pick_agent(agents, "cb", owner_id=2) == 1


def test_ties_break_by_user_id_and_free_agents_are_sorted() -> None:
    agents = [Candidate(5, True, 1.0), Candidate(4, True, 1.0), Candidate(3, True, 0.5, held_for="x")]
    assert pick_agent(agents, "c") == 4
    assert [a.user_id for a in free_agents(agents)] == [4, 5]
