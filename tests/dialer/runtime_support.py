"""Shared parts of the runtime's functional tests: a real simulator, a real SQLite file, a recording notifier."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from dialer.agents.desktop import CallPhase, ScreenPop
from dialer.agents.state import AgentStatus
from dialer.clocks import business_clock  # noqa: F401  (re-exported for the runtime tests)
from dialer.simulator.server import SimulatorServer
from storage import migrate
from storage.models import Campaign, CampaignMode, CampaignStatus, Customer, Debt, Lead, Phone, Role, User

# Guard for waits that should end quickly; reaching it fails the test (it is not a measurement)
GUARD_S = 10.0

_template: list[Path] = []
BRASILIA = timezone(timedelta(hours=-3))
# Leads seeded as due since long ago (the hopper picks only leads with a due next_attempt_at)
DUE_SINCE = datetime(2025, 1, 1, tzinfo=UTC)


def migrated_copy(dest: Path, scratch: Path) -> str:
    """A fresh SQLite file built by the migrations (migrated once per run, then copied)."""
    if not _template:
        src = scratch / "template.db"
        # migrate.upgrade runs its own event loop: keep it off the test's thread
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(migrate.upgrade, f"sqlite+aiosqlite:///{src}").result()
        _template.append(src)
    shutil.copy(_template[0], dest)
    return f"sqlite+aiosqlite:///{dest}"


@dataclass
class Record:
    kind: str
    user_id: int
    payload: Any
    redirects_seen: int  # Redirect actions the simulator had read when this was notified


@dataclass
class RecordingNotifier:
    """Our AgentNotifier, keeping everything in order (the web layer's real one enqueues frames)."""

    sim: SimulatorServer
    records: list[Record] = field(default_factory=list)

    def _redirects(self) -> int:
        return sum(1 for m in self.sim.received_actions if m.get("Action") == "Redirect")

    def _add(self, kind: str, user_id: int, payload: Any) -> None:
        self.records.append(Record(kind, user_id, payload, self._redirects()))

    def agent_state(self, user_id: int, status: AgentStatus, at: datetime) -> None:
        self._add("agent_state", user_id, status)

    def screen_pop(self, user_id: int, pop: ScreenPop) -> None:
        self._add("screen_pop", user_id, pop)

    def call_state(self, user_id: int, call_id: str, phase: CallPhase, at: datetime) -> None:
        self._add("call_state", user_id, (call_id, phase))

    def call_ended(self, user_id: int, call_id: str, result: str, cause: int | None, at: datetime) -> None:
        self._add("call_ended", user_id, (call_id, result, cause))

    def error(self, user_id: int, code: str, message: str) -> None:
        self._add("error", user_id, (code, message))

    def of(self, kind: str, user_id: int | None = None) -> list[Record]:
        return [r for r in self.records if r.kind == kind and (user_id is None or r.user_id == user_id)]

    def pops(self, user_id: int | None = None) -> list[ScreenPop]:
        return [r.payload for r in self.of("screen_pop", user_id)]


async def eventually(check: Callable[[], object], what: str, guard: float = GUARD_S) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` past the guard."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + guard
    while True:
        value = check()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"never happened: {what}")
        await asyncio.sleep(0.01)


def actions(sim: SimulatorServer, name: str) -> list[Any]:
    return [m for m in sim.received_actions if m.get("Action") == name]


async def add_agent(db: Any, login: str, extension: str) -> User:
    user = User(
        login=login,
        password_hash="$argon2id$not-a-real-hash",
        role=Role.AGENT,
        full_name=f"Agente {login}",
        extension=extension,
        endpoint=f"Local/{extension}@agent-sim",
    )
    db.add(user)
    await db.flush()
    return user


async def add_campaign(
    db: Any, mode: CampaignMode = CampaignMode.PROGRESSIVE, running: bool = True, *, name: str | None = None
) -> Campaign:
    campaign = Campaign(
        name=name or f"Carteira {mode.value}",
        mode=mode,
        status=CampaignStatus.ACTIVE if running else CampaignStatus.PAUSED,
        dial_template="Local/{number}@cust-sim",
        caller_id="551130000000",
        pbx_name="sim",
    )
    db.add(campaign)
    await db.flush()
    return campaign


async def add_lead(
    db: Any,
    campaign: Campaign,
    number: str,
    *,
    name: str = "Maria da Silva",
    priority: int = 0,
    boost: int = 0,
    cpf: str = "12345678909",
    uf: str = "SP",
    birth_date: date | None = date(1980, 5, 17),
) -> Lead:
    """A customer with one phone (``number``: E.164 digits), one debt and a lead in ``campaign``, due now."""
    customer = Customer(external_id=f"ext-{number}", name=name, cpf=cpf, uf=uf, birth_date=birth_date)
    db.add(customer)
    await db.flush()
    db.add(Phone(customer_id=customer.id, e164=f"+{number}", ddd=number[2:4]))
    db.add(
        Debt(
            customer_id=customer.id,
            contract=f"CT-{number[-4:]}",
            creditor="Banco Exemplo",
            product="Cartão",
            original_amount=Decimal("1000.00"),
            balance=Decimal("1234.56"),
            due_date=date(2025, 3, 10),
        )
    )
    lead = Lead(campaign_id=campaign.id, customer_id=customer.id, priority=priority, boost=boost, next_attempt_at=DUE_SINCE)
    db.add(lead)
    await db.flush()
    return lead
