"""The agent state machine of SPEC §6, as a pure function over states and triggers.

offline → connecting → ready → reserved → on_call → wrap_up → ready; paused (with a reason)
from ready or wrap_up. ``connecting`` is the time between "Disponível" and the agent's
``ConfbridgeJoin``: the agent's phone is being called into their conference. An agent is
ready only while their leg is in their conference: losing it leaves ready, reserved and
paused for offline at once, and on_call or wrap_up for wrap_up, whose disposition then
ends offline instead of ready.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from dialer.errors import DialerError


class AgentState(str, enum.Enum):
    OFFLINE = "offline"
    CONNECTING = "connecting"
    READY = "ready"
    RESERVED = "reserved"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    PAUSED = "paused"


class PauseReason(str, enum.Enum):
    BANHEIRO = "banheiro"
    LANCHE = "lanche"
    TREINAMENTO = "treinamento"
    FEEDBACK = "feedback"
    OUTROS = "outros"


class Trigger(str, enum.Enum):
    GO_READY = "go_ready"  # agent pressed "Disponível"
    LEG_UP = "leg_up"  # the agent's channel joined their conference
    LEG_DOWN = "leg_down"  # the agent's channel hung up (phone dropped, logout)
    PAUSE = "pause"
    RESERVE = "reserve"  # the dialer picked this agent for an answered call / a preview
    RELEASE = "release"  # the reserved call went away before connecting
    CONNECT = "connect"  # the customer joined the agent's conference
    CALL_END = "call_end"
    DISPOSE = "dispose"  # disposition saved (or wrap-up maximum reached)
    LOGOUT = "logout"
    # after a restart: the agent's last call ended with no outcome stored (a crash in wrap-up);
    # the phone is unknown, so the disposition leaves the agent offline (they press Disponível)
    RESUME_WRAP_UP = "resume_wrap_up"


class InvalidTransition(DialerError):
    def __init__(self, state: AgentState, trigger: Trigger) -> None:
        super().__init__(f"cannot {trigger.value} while {state.value}")
        self.state = state
        self.trigger = trigger


@dataclass(frozen=True, slots=True)
class AgentStatus:
    """An agent's state plus what decides the next one."""

    state: AgentState = AgentState.OFFLINE
    pause_reason: PauseReason | None = None
    # A pause asked for during a call takes effect when the call is disposed
    pause_requested: PauseReason | None = None
    # The phone leg dropped during the call: after the disposition the agent is offline
    # (no phone, so no call) until "Disponível" calls the phone back in
    leg_lost: bool = False


_PLAIN: dict[tuple[AgentState, Trigger], AgentState] = {
    (AgentState.OFFLINE, Trigger.GO_READY): AgentState.CONNECTING,
    (AgentState.CONNECTING, Trigger.LEG_UP): AgentState.READY,
    (AgentState.PAUSED, Trigger.GO_READY): AgentState.READY,
    (AgentState.READY, Trigger.RESERVE): AgentState.RESERVED,
    (AgentState.RESERVED, Trigger.RELEASE): AgentState.READY,
    (AgentState.RESERVED, Trigger.CONNECT): AgentState.ON_CALL,
    (AgentState.RESERVED, Trigger.CALL_END): AgentState.WRAP_UP,
    (AgentState.ON_CALL, Trigger.CALL_END): AgentState.WRAP_UP,
}


def apply(status: AgentStatus, trigger: Trigger, reason: PauseReason | None = None) -> AgentStatus:
    """The status after ``trigger``; raises :class:`InvalidTransition` when it makes no sense."""
    state = status.state
    if trigger in (Trigger.LOGOUT, Trigger.LEG_DOWN):
        # Losing the phone leg mid-call still leaves the call to be disposed
        if trigger is Trigger.LEG_DOWN and state in (AgentState.ON_CALL, AgentState.WRAP_UP):
            return replace(status, state=AgentState.WRAP_UP, leg_lost=True)
        return AgentStatus()
    if trigger is Trigger.RESUME_WRAP_UP:
        if state is not AgentState.OFFLINE:
            raise InvalidTransition(state, trigger)
        return AgentStatus(AgentState.WRAP_UP, leg_lost=True)
    if trigger is Trigger.PAUSE:
        if reason is None:
            raise InvalidTransition(state, trigger)
        if state in (AgentState.READY, AgentState.WRAP_UP, AgentState.PAUSED):
            if state is AgentState.WRAP_UP:
                return replace(status, pause_requested=reason)
            return AgentStatus(AgentState.PAUSED, pause_reason=reason)
        if state in (AgentState.RESERVED, AgentState.ON_CALL):
            return replace(status, pause_requested=reason)
        raise InvalidTransition(state, trigger)
    if trigger is Trigger.GO_READY and state in (AgentState.READY, AgentState.CONNECTING):
        return status
    if trigger is Trigger.GO_READY and state in (AgentState.RESERVED, AgentState.ON_CALL, AgentState.WRAP_UP):
        # "Disponível" during a call cancels a pending pause
        return replace(status, pause_requested=None)
    if trigger is Trigger.DISPOSE:
        if state is not AgentState.WRAP_UP:
            raise InvalidTransition(state, trigger)
        if status.leg_lost:
            return AgentStatus()
        if status.pause_requested is not None:
            return AgentStatus(AgentState.PAUSED, pause_reason=status.pause_requested)
        return AgentStatus(AgentState.READY)
    nxt = _PLAIN.get((state, trigger))
    if nxt is None:
        raise InvalidTransition(state, trigger)
    if nxt is AgentState.READY and status.pause_requested is not None:
        return AgentStatus(AgentState.PAUSED, pause_reason=status.pause_requested)
    return AgentStatus(nxt, pause_requested=status.pause_requested)


def is_available(status: AgentStatus) -> bool:
    """Whether the dialer may give this agent a call now."""
    return status.state is AgentState.READY
