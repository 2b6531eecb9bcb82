"""Agent sessions: who is logged in to the dialer, their state, their leg and their call.

:class:`AgentSessions` is in-memory and synchronous (the floor model owns it); every state change goes through :meth:`AgentSessions.transition`, which uses
the pure state machine and returns a :class:`StateChange` for the runtime to store and
notify. The errors here are what the agent's screen shows, so their messages are pt-BR.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from dialer.agents.desktop import ScreenPop
from dialer.agents.routing import Candidate
from dialer.agents.state import AgentState, AgentStatus, PauseReason, Trigger, apply
from dialer.errors import DialerError


class AgentError(DialerError):
    """An agent's request the dialer refuses; ``code`` is stable, the message is for the agent."""

    code = "agent_error"


class UnknownAgent(AgentError):
    code = "unknown_agent"


class NoExtension(AgentError):
    code = "no_extension"


class NotOnCall(AgentError):
    code = "not_on_call"


class WrongCall(AgentError):
    code = "wrong_call"


class NotAllowedNow(AgentError):
    code = "not_allowed_now"


class DialerUnavailable(AgentError):
    code = "dialer_unavailable"


class InvalidDisposition(AgentError):
    """A disposition the form must fix; ``field`` names the form field."""

    code = "invalid_disposition"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True, slots=True)
class StateChange:
    user_id: int
    before: AgentStatus
    after: AgentStatus
    at: datetime


@dataclass(eq=False)
class AgentSession:
    """One agent known to the dialer (kept after logout so the next login is cheap)."""

    user_id: int
    name: str
    extension: str
    endpoint: str
    status: AgentStatus = field(default_factory=AgentStatus)
    idle_since: float = 0.0  # loop time they last became ready
    leg_action_id: str | None = None
    leg_channel: str | None = None
    leg_up: bool = False
    call_id: str | None = None  # reserved / connected / wrap-up / previewed call
    pop: ScreenPop | None = None
    held_for: str | None = None  # owned callback in flight that this agent is kept free for
    wrapup_timer: bool = False  # a wrap-up maximum is armed for the current call
    disposing: str | None = None  # client key of the disposition being stored for the current call
    since: float = 0.0  # loop time of the last state change

    def candidate(self) -> Candidate:
        ready = self.status.state is AgentState.READY and self.leg_up
        return Candidate(self.user_id, ready, self.idle_since, self.held_for)


class AgentSessions:
    """The registry of agent sessions, by user id and by extension."""

    def __init__(self) -> None:
        self._by_user: dict[int, AgentSession] = {}
        self._by_extension: dict[str, AgentSession] = {}

    def add(self, session: AgentSession) -> AgentSession:
        old = self._by_user.get(session.user_id)
        if old is not None:
            self._by_extension.pop(old.extension, None)
        self._by_user[session.user_id] = session
        self._by_extension[session.extension] = session
        return session

    def get(self, user_id: int) -> AgentSession | None:
        return self._by_user.get(user_id)

    def require(self, user_id: int) -> AgentSession:
        session = self._by_user.get(user_id)
        if session is None:
            raise NotAllowedNow("Você não está conectado ao discador; clique em Disponível.")
        return session

    def by_extension(self, extension: str) -> AgentSession | None:
        return self._by_extension.get(extension)

    def __iter__(self) -> Iterator[AgentSession]:
        return iter(list(self._by_user.values()))

    def candidates(self) -> list[Candidate]:
        return [s.candidate() for s in self._by_user.values()]

    def transition(
        self, session: AgentSession, trigger: Trigger, at: datetime, now: float, reason: PauseReason | None = None
    ) -> StateChange | None:
        """Apply ``trigger``; the change, or None when the status stayed the same."""
        before = session.status
        after = apply(before, trigger, reason)
        if after == before:
            return None
        session.status = after
        if after.state is AgentState.READY and before.state is not AgentState.READY:
            session.idle_since = now
        if after.state in (AgentState.OFFLINE, AgentState.READY, AgentState.PAUSED, AgentState.CONNECTING):
            # back to no call: what the screen showed of the last one is gone
            session.call_id = None
            session.pop = None
            session.disposing = None
        if after.state is not before.state:
            session.since = now
        return StateChange(session.user_id, before, after, at)
