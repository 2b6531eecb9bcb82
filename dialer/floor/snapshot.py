"""The floor as supervisors see it: every agent and every campaign now (pure values, built by the floor).

One snapshot feeds the wallboard (pushed over the supervisor websocket) and ``GET
/api/v1/floor``; nothing else keeps a copy of agent or call state for them. Customers are
named by first name and last-name initial only (SPEC §6, §11).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class AgentRow:
    user_id: int
    name: str
    extension: str
    state: str  # offline, connecting, ready, reserved, on_call, wrap_up, paused
    since: datetime  # when the agent entered ``state`` (the dialer's clock)
    pause_reason: str | None
    phone_connected: bool  # the agent's leg is in their conference
    call_id: str | None
    campaign_id: int | None
    customer: str | None  # "Maria S.": first name and last-name initial, never more
    calls_today: int  # calls given to the agent today (Brasília)
    contacts_today: int  # of which connected (the person talked to the agent)
    monitored_by: int | None = None  # the supervisor listening / whispering / barging in (user id)
    monitor_mode: str | None = None  # listen, whisper, barge
    # the identity check of the call on screen: pendente, verificada, bloqueada, liberada_sem_verificacao
    identity: str | None = None
    identity_override_reason: str | None = None  # the agent's reason when released without a match


@dataclass(frozen=True, slots=True)
class CampaignRow:
    id: int
    name: str
    status: str
    mode: str
    max_dial_level: float
    abandon_cap: float
    ringing: int
    waiting: int  # answered, no agent yet (or in AMD)
    talking: int  # with an agent
    connects_last_hour: int
    connects_by_slot: tuple[int, ...] = ()  # the last hour in 5-minute slots, oldest first (sparkline)


@dataclass(frozen=True, slots=True)
class FloorSnapshot:
    at: datetime
    link_up: bool
    agents: tuple[AgentRow, ...]
    campaigns: tuple[CampaignRow, ...]


def customer_label(name: str) -> str:
    """"Maria da Silva Souza" → "Maria S." (what a supervisor may see of the person on the line)."""
    parts = [p for p in name.split() if p]
    if not parts:
        return ""
    if len(parts) == 1:
        return parts[0]
    return f"{parts[0]} {parts[-1][0].upper()}."
