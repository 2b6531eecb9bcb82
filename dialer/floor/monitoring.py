"""Listen, whisper, barge: who monitors whom, and the ``Originate`` that starts it (pure).

A supervisor's phone (the ``endpoint`` on their user, like an agent's) is originated into
``ChanSpy(<agent leg channel>,<options>)`` (SPEC §3; ``ami-traces/supervisor_listen.ami``).
The options, from Asterisk's ChanSpy documentation:

- ``q``: no beep and no channel name spoken when spying starts (the agent is not told);
- ``E``: leave when the spied channel hangs up (the session ends with the agent's leg);
- ``w``: whisper: the supervisor talks to the agent only (the customer does not hear);
- ``B``: barge: the supervisor talks to both the agent and the customer.

The spied channel is the agent's nailed-up leg, named in full (ChanSpy matches it as a
prefix), so the supervisor hears whichever customer the agent talks to next, too.

One session per supervisor; an agent may be monitored by one supervisor at a time (two
people whispering into one ear helps nobody). The spy channel is known first by the
Uniqueid we give it (``ChannelId``), then by name from its first event, which is what
``Hangup`` needs to end it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from dialer.ami import events as ami
from dialer.ami.actions import Hangup, Originate, new_action_id

SPY_APPLICATION = "ChanSpy"
SUPERVISOR_RING_TIMEOUT_MS = 30_000  # the supervisor picks up their own phone; give them time


class MonitorMode(Enum):
    LISTEN = "listen"
    WHISPER = "whisper"
    BARGE = "barge"

    @property
    def options(self) -> str:
        return _OPTIONS[self]

    @property
    def label(self) -> str:
        return _LABELS[self]


_OPTIONS = {MonitorMode.LISTEN: "qE", MonitorMode.WHISPER: "qEw", MonitorMode.BARGE: "qEB"}
_LABELS = {MonitorMode.LISTEN: "ouvindo", MonitorMode.WHISPER: "sussurrando", MonitorMode.BARGE: "em conferência"}


class MonitorRefused(Exception):
    """A monitoring request the floor refuses; the message is for the supervisor (pt-BR)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(slots=True)
class MonitorSession:
    supervisor_id: int
    agent_id: int
    mode: MonitorMode
    action_id: str
    channel_id: str  # the Uniqueid we gave the supervisor's channel
    started_at: datetime
    channel: str | None = None  # its name, from its first event
    spying: bool = False  # ChanSpyStart seen: the supervisor's phone answered and hears the agent
    stop_requested: bool = False  # asked to stop before the channel's name was known


@dataclass(frozen=True, slots=True)
class MonitorEnded:
    """A session that ended (the supervisor hung up, stopped it, or the agent's leg went)."""

    session: MonitorSession
    why: str


class Monitors:
    """Every monitoring session on the floor, by supervisor (the one owner of who monitors whom)."""

    def __init__(self) -> None:
        self._by_supervisor: dict[int, MonitorSession] = {}

    def __iter__(self) -> Iterator[MonitorSession]:
        return iter(list(self._by_supervisor.values()))

    def of_supervisor(self, supervisor_id: int) -> MonitorSession | None:
        return self._by_supervisor.get(supervisor_id)

    def of_agent(self, agent_id: int) -> MonitorSession | None:
        return next((m for m in self._by_supervisor.values() if m.agent_id == agent_id), None)

    def start(
        self,
        *,
        supervisor_id: int,
        supervisor_endpoint: str | None,
        agent_id: int,
        agent_leg: str | None,
        mode: MonitorMode,
        at: datetime,
        link_up: bool,
    ) -> tuple[MonitorSession, Originate]:
        """Validate and open a session; the Originate that rings the supervisor's phone into ChanSpy."""
        if not supervisor_endpoint:
            raise MonitorRefused(
                "no_endpoint", "Seu usuário não tem telefone configurado; peça ao administrador (cobra user add --endpoint)."
            )
        if supervisor_id in self._by_supervisor:
            raise MonitorRefused("already_monitoring", "Você já está monitorando um operador; encerre antes de começar outra.")
        if agent_leg is None:
            raise MonitorRefused("agent_not_connected", "O telefone deste operador não está conectado.")
        other = self.of_agent(agent_id)
        if other is not None:
            raise MonitorRefused("agent_monitored", "Outro supervisor já está monitorando este operador.")
        if not link_up:
            raise MonitorRefused("dialer_unavailable", "Sem conexão com a central telefônica; tente novamente em instantes.")
        action_id = new_action_id()
        session = MonitorSession(supervisor_id, agent_id, mode, action_id, f"{action_id}-spy", at)
        action = Originate(
            channel=supervisor_endpoint,
            application=SPY_APPLICATION,
            data=f"{agent_leg},{mode.options}",
            timeout_ms=SUPERVISOR_RING_TIMEOUT_MS,
            channel_id=session.channel_id,
            action_id=action_id,
        )
        self._by_supervisor[supervisor_id] = session
        return session, action

    def stop(self, supervisor_id: int) -> tuple[MonitorSession | None, Hangup | None]:
        """End the supervisor's session: the Hangup of their channel (None while its name is unknown:
        it is hung up as soon as its first event names it)."""
        session = self._by_supervisor.get(supervisor_id)
        if session is None:
            return None, None
        if session.channel is None:
            session.stop_requested = True
            return session, None
        return session, Hangup(channel=session.channel)

    def observe(self, event: ami.AmiEvent | None) -> tuple[list[MonitorEnded], list[Hangup], list[MonitorSession]]:
        """Follow the spy channels: (sessions that ended, hang-ups now due, sessions that started spying)."""
        if not self._by_supervisor or event is None:
            return [], [], []
        ended: list[MonitorEnded] = []
        hangups: list[Hangup] = []
        spying: list[MonitorSession] = []
        if isinstance(event, ami.OriginateResponse):
            for session in self:
                if session.action_id == event.action_id and not event.success:
                    ended.append(self._end(session, "o telefone do supervisor não atendeu"))
            return ended, hangups, spying
        if isinstance(event, ami.ChanSpyStart):
            m = self._by_channel(event.spyer)
            if m is not None and not m.spying:
                m.spying = True
                spying.append(m)
            return ended, hangups, spying
        snapshot = getattr(event, "ch", None)
        if not isinstance(snapshot, ami.ChannelSnapshot):
            return ended, hangups, spying
        m = self._by_channel(snapshot)
        if m is None:
            return ended, hangups, spying
        if isinstance(event, ami.Hangup):
            ended.append(self._end(m, "encerrada"))
        elif m.stop_requested and m.channel is not None:
            m.stop_requested = False
            hangups.append(Hangup(channel=m.channel))
        return ended, hangups, spying

    def settle(self, live_uniqueids: set[str]) -> list[MonitorEnded]:
        """After a reconnect: sessions whose spy channel was seen but is no longer on the PBX ended meanwhile.

        A session whose channel was never seen is kept (its originate may still be ringing)."""
        return [
            self._end(m, "encerrada enquanto a central estava desconectada")
            for m in self
            if m.channel is not None and m.channel_id not in live_uniqueids
        ]

    def _by_channel(self, ch: ami.ChannelSnapshot) -> MonitorSession | None:
        for m in self._by_supervisor.values():
            if ch.uniqueid == m.channel_id or (m.channel is not None and ch.channel == m.channel):
                if m.channel is None and ch.uniqueid == m.channel_id:
                    m.channel = ch.channel
                return m
        return None

    def _end(self, m: MonitorSession, why: str) -> MonitorEnded:
        self._by_supervisor.pop(m.supervisor_id, None)
        return MonitorEnded(m, why)


__all__ = ["SPY_APPLICATION", "MonitorEnded", "MonitorMode", "MonitorRefused", "MonitorSession", "Monitors"]
