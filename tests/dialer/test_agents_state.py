from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialer.agents.state import (
    AgentState,
    AgentStatus,
    InvalidTransition,
    PauseReason,
    Trigger,
    apply,
    is_available,
)


def run(*steps: tuple[Trigger, PauseReason | None]) -> AgentStatus:
    status = AgentStatus()
    for trigger, reason in steps:
        status = apply(status, trigger, reason)
    return status


def test_shift_walks_the_happy_path() -> None:
    s = AgentStatus()
    for trigger, expected in [
        (Trigger.GO_READY, AgentState.CONNECTING),
        (Trigger.LEG_UP, AgentState.READY),
        (Trigger.RESERVE, AgentState.RESERVED),
        (Trigger.CONNECT, AgentState.ON_CALL),
        (Trigger.CALL_END, AgentState.WRAP_UP),
        (Trigger.DISPOSE, AgentState.READY),
        (Trigger.LOGOUT, AgentState.OFFLINE),
    ]:
        s = apply(s, trigger)
        assert s.state is expected


def test_only_ready_is_available() -> None:
    assert is_available(run((Trigger.GO_READY, None), (Trigger.LEG_UP, None)))
    assert not is_available(run((Trigger.GO_READY, None)))
    assert not is_available(AgentStatus())


def test_pause_from_ready_carries_the_reason_and_resume_goes_ready() -> None:
    s = run((Trigger.GO_READY, None), (Trigger.LEG_UP, None), (Trigger.PAUSE, PauseReason.LANCHE))
    assert s == AgentStatus(AgentState.PAUSED, pause_reason=PauseReason.LANCHE)
    assert apply(s, Trigger.GO_READY).state is AgentState.READY


def test_pause_asked_during_a_call_takes_effect_after_disposing() -> None:
    s = run(
        (Trigger.GO_READY, None),
        (Trigger.LEG_UP, None),
        (Trigger.RESERVE, None),
        (Trigger.CONNECT, None),
        (Trigger.PAUSE, PauseReason.BANHEIRO),
    )
    assert s.state is AgentState.ON_CALL and s.pause_requested is PauseReason.BANHEIRO
    s = apply(apply(s, Trigger.CALL_END), Trigger.DISPOSE)
    assert s == AgentStatus(AgentState.PAUSED, pause_reason=PauseReason.BANHEIRO)


def test_pause_in_wrap_up_then_ready_cancels_it() -> None:
    s = run(
        (Trigger.GO_READY, None),
        (Trigger.LEG_UP, None),
        (Trigger.RESERVE, None),
        (Trigger.CALL_END, None),
        (Trigger.PAUSE, PauseReason.FEEDBACK),
        (Trigger.GO_READY, None),
        (Trigger.DISPOSE, None),
    )
    assert s.state is AgentState.READY


def test_pause_asked_while_reserved_applies_when_the_call_goes_away() -> None:
    s = run((Trigger.GO_READY, None), (Trigger.LEG_UP, None), (Trigger.RESERVE, None), (Trigger.PAUSE, PauseReason.OUTROS))
    assert apply(s, Trigger.RELEASE) == AgentStatus(AgentState.PAUSED, pause_reason=PauseReason.OUTROS)


def test_lost_leg_mid_call_still_needs_a_disposition_and_then_leaves_the_agent_offline() -> None:
    # finding 1 (ghost agents): with no phone the agent must not become ready after disposing
    s = run((Trigger.GO_READY, None), (Trigger.LEG_UP, None), (Trigger.RESERVE, None), (Trigger.CONNECT, None))
    s = apply(s, Trigger.LEG_DOWN)
    assert s.state is AgentState.WRAP_UP and s.leg_lost
    assert apply(s, Trigger.DISPOSE) == AgentStatus()
    paused = apply(apply(s, Trigger.PAUSE, PauseReason.LANCHE), Trigger.DISPOSE)
    assert paused == AgentStatus(), "a pause asked for does not bring back a lost phone"
    # "Disponível" again calls the phone in: connecting, then ready on the leg's join
    assert apply(apply(AgentStatus(), Trigger.GO_READY), Trigger.LEG_UP).state is AgentState.READY


@pytest.mark.parametrize(
    ("state", "trigger"),
    [
        (AgentState.OFFLINE, Trigger.RESERVE),
        (AgentState.OFFLINE, Trigger.DISPOSE),
        (AgentState.READY, Trigger.CONNECT),
        (AgentState.READY, Trigger.DISPOSE),
        (AgentState.PAUSED, Trigger.RESERVE),
        (AgentState.CONNECTING, Trigger.RESERVE),
        (AgentState.ON_CALL, Trigger.RESERVE),
    ],
)
def test_nonsense_is_refused(state: AgentState, trigger: Trigger) -> None:
    with pytest.raises(InvalidTransition):
        apply(AgentStatus(state), trigger)


def test_pause_without_reason_is_refused() -> None:
    with pytest.raises(InvalidTransition):
        apply(AgentStatus(AgentState.READY), Trigger.PAUSE)


@given(st.lists(st.tuples(st.sampled_from(list(Trigger)), st.sampled_from([None, *PauseReason])), max_size=40))
def test_any_sequence_keeps_the_invariants(steps: list[tuple[Trigger, PauseReason | None]]) -> None:
    s = AgentStatus()
    for trigger, reason in steps:
        try:
            s = apply(s, trigger, reason)
        except InvalidTransition:
            continue
        assert (s.pause_reason is not None) == (s.state is AgentState.PAUSED)
        if s.state in (AgentState.OFFLINE, AgentState.READY, AgentState.PAUSED, AgentState.CONNECTING):
            assert s.pause_requested is None
