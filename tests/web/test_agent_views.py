"""What the agent reads: pt-BR labels, names at the identity gate, money and dates."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from dialer.agents.desktop import ScreenPop
from dialer.agents.state import AgentState, AgentStatus, PauseReason
from dialer.calls.services import build_screen_pop, pop_window
from storage.models import OutcomeCode
from storage.repositories.screen_pop import PopData
from web.agent.views import (
    OUTCOMES,
    agent_state_frame,
    br_datetime,
    greeting_name,
    pop_summary,
)


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("Maria da Conceição Souza", "Maria S."),
        ("José Ávila", "José Á."),
        ("joão érico", "joão É."),
        ("Xuxa", "Xuxa"),
    ],
)
def test_greeting_name_is_first_name_and_last_initial(name: str, shown: str) -> None:
    assert greeting_name(name) == shown


def test_every_outcome_of_the_catalogue_is_offered_once_with_distinct_shortcuts() -> None:
    assert sorted(code.value for code, _, _ in OUTCOMES) == sorted(c.value for c in OutcomeCode)
    keys = [key for _, _, key in OUTCOMES if key]
    assert len(keys) == len(set(keys))


def test_state_labels_in_portuguese_with_the_pause_reason() -> None:
    at = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    frame = agent_state_frame(AgentStatus(AgentState.PAUSED, PauseReason.TREINAMENTO), at)
    assert (frame.label, frame.pause_reason) == ("Pausa: Treinamento", "treinamento")
    assert agent_state_frame(AgentStatus(AgentState.WRAP_UP), at).label == "Pós-atendimento"


def test_times_are_shown_in_brasilia() -> None:
    assert br_datetime(datetime(2026, 3, 2, 2, 30, tzinfo=UTC)) == "01/03/2026 23:30"


def _claimed_pop(at: datetime) -> ScreenPop:
    """A pop as the scheduler builds it when the lead is claimed (its window worked out at ``at``)."""
    data = PopData(
        customer_id=7, name="João Gonçalves da Silva", cpf="12345678909", uf="SP", tags=(), debts=(),
        attempts=(), promises=(), attempts_today=0, attempts_7d=0,
    )
    return build_screen_pop(
        data, call_id="c1", campaign_id=1, campaign_name="A", mode="progressive",
        phone_e164="+5511987654321", at=at, today_local=at.date(),
    )


def test_the_pop_reuses_the_window_worked_out_at_claim_time_within_that_minute() -> None:
    claimed = datetime(2026, 3, 2, 15, 0, 10, tzinfo=UTC)  # 12:00 in São Paulo, a Monday
    pop = _claimed_pop(claimed)
    assert pop.window is not None and pop.window.allowed is True and pop.window.local_time == "12:00"
    marked = replace(pop, window=replace(pop.window, message="worked out at claim"))
    # answered 40 s later, same minute: nothing is worked out again on the way to the agent
    summary = pop_summary(marked, claimed + timedelta(seconds=40))
    assert (summary.window_message, summary.local_time, summary.window_open) == ("worked out at claim", "12:00", True)


def test_a_pop_shown_in_another_minute_works_its_window_out_again() -> None:
    claimed = datetime(2026, 3, 2, 22, 59, 50, tzinfo=UTC)  # 19:59:50 in São Paulo: the window closes at 20:00
    pop = _claimed_pop(claimed)
    assert pop.window is not None and pop.window.allowed is True
    later = claimed + timedelta(seconds=20)
    summary = pop_summary(pop, later)
    fresh = pop_window(later, pop.phone_e164, "SP")
    assert (summary.local_time, summary.window_open, summary.window_message) == (
        fresh.local_time, fresh.allowed, fresh.message,
    )
    assert (summary.local_time, summary.window_open) == ("20:00", False)  # not the claim's "19:59", open
