"""What the agent reads: pt-BR labels, names at the identity gate, money and dates."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dialer.agents.state import AgentState, AgentStatus, PauseReason
from storage.models import OutcomeCode
from web.agent.views import OUTCOMES, agent_state_frame, br_datetime, greeting_name


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
