"""A synthetic call history: attempts, outcomes, script runs, promises, agreements, agent states.

For the KPI tests and ``bench/kpis.py`` (and anyone who wants the KPI page to show weeks
of work without running the bots that long). Rows are built as plain dicts, deterministic
for a seed, and written with bulk ``INSERT``s; the dicts are returned so a test can recompute
every figure from them. Nothing here is realistic beyond being plausible: the rates are
the rough shape of a collections floor (a third of calls answered, a few promises).
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    AgentState,
    AgentStateChange,
    Agreement,
    AgreementInstallment,
    AgreementKind,
    AgreementStatus,
    CallAttempt,
    CallResult,
    CampaignMode,
    InstallmentStatus,
    Outcome,
    Promise,
    PromiseStatus,
    ScriptRunRecord,
)
from storage.repositories.calls import refresh_all_call_amounts

FINANCIAL = ("DESEMPREGO", "REDUCAO_RENDA", "DOENCA", "OUTRAS_DIVIDAS", "ESQUECIMENTO", "OUTRO")
COMPANY = ("NAO_RECEBEU_FATURA", "PROBLEMA_PRODUTO_SERVICO", "CONTESTA_COBRANCA")
OUTCOMES = (
    ("ACORDO", 12), ("PROMESSA", 18), ("RECUSA", 14), ("SEM_CONDICOES", 10), ("CONTESTA", 4), ("JA_PAGO", 4),
    ("RETORNAR", 12), ("RECADO", 14), ("TELEFONE_ERRADO", 10), ("FALECIDO", 2),
)
RIGHT_PARTY = {"ACORDO", "PROMESSA", "RECUSA", "SEM_CONDICOES", "CONTESTA", "JA_PAGO"}
BATCH = 2000


@dataclass
class History:
    """The rows written (as dicts, in the models' column names)."""

    attempts: list[dict[str, Any]] = field(default_factory=list)
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    script_runs: list[dict[str, Any]] = field(default_factory=list)
    promises: list[dict[str, Any]] = field(default_factory=list)
    agreements: list[dict[str, Any]] = field(default_factory=list)
    installments: list[list[dict[str, Any]]] = field(default_factory=list)  # per agreement, in its order
    state_changes: list[dict[str, Any]] = field(default_factory=list)


def _money(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low * 100, high * 100)) / 100


def _call(rng: random.Random, h: History, *, at: datetime, campaign_id: int, agent_ids: list[int],
          customer_ids: list[int]) -> None:
    attempt_id = uuid.UUID(int=rng.getrandbits(128)).hex
    customer_id = rng.choice(customer_ids)
    row: dict[str, Any] = {
        "id": attempt_id, "campaign_id": campaign_id, "customer_id": customer_id, "agent_id": None,
        "mode": CampaignMode.PREDICTIVE, "number": "+5511" + str(rng.randint(10**8, 10**9 - 1)),
        "caller_id": "551130000000", "created_at": at, "originated_at": at, "answered_at": None,
        "connected_at": None, "ended_at": None, "wrapup_ended_at": None, "result": None,
        "abandoned": False, "short_call": False,
    }
    h.attempts.append(row)
    roll = rng.random()
    ring = timedelta(seconds=rng.uniform(3, 25))
    if roll < 0.01:  # still ringing
        return
    if roll < 0.03:
        row.update(result=CallResult.CANCELLED, ended_at=at + timedelta(seconds=1))
        return
    if roll < 0.55:
        row.update(result=rng.choice((CallResult.NO_ANSWER, CallResult.BUSY, CallResult.CONGESTION, CallResult.FAILED)),
                   ended_at=at + ring)
        return
    answered = at + ring
    row["answered_at"] = answered
    if roll < 0.66:
        talk = rng.uniform(2, 30)
        row.update(result=CallResult.MACHINE, ended_at=answered + timedelta(seconds=talk), short_call=talk <= 6)
        return
    if roll < 0.68:
        talk = rng.uniform(1, 10)
        row.update(result=CallResult.ABANDONED, abandoned=True, ended_at=answered + timedelta(seconds=talk),
                   short_call=talk <= 6)
        return
    agent_id = rng.choice(agent_ids)
    connected = answered + timedelta(seconds=rng.uniform(0.2, 1.5))
    talk = rng.uniform(3, 420)
    ended = connected + timedelta(seconds=talk)
    row.update(result=CallResult.CONNECTED, agent_id=agent_id, connected_at=connected, ended_at=ended,
               short_call=talk <= 6)
    if rng.random() < 0.03:  # the agent is still in wrap-up: no outcome yet
        return
    wrapped = ended + timedelta(seconds=rng.uniform(5, 90))
    row["wrapup_ended_at"] = wrapped
    code = rng.choices([c for c, _ in OUTCOMES], weights=[w for _, w in OUTCOMES])[0]
    h.outcomes.append({"attempt_id": attempt_id, "agent_id": agent_id, "code": code,
                       "client_key": uuid.UUID(int=rng.getrandbits(128)).hex, "created_at": wrapped})
    identity = code in RIGHT_PARTY and rng.random() < 0.9
    captures: dict[str, Any] = {}
    if code in ("ACORDO", "PROMESSA", "RECUSA", "SEM_CONDICOES") and rng.random() < 0.8:
        captures["motivo_atraso"] = rng.choice(COMPANY) if rng.random() < 0.2 else rng.choice(FINANCIAL)
    h.script_runs.append({
        "attempt_id": attempt_id, "agent_id": agent_id, "script_id": "padrao", "script_version": 1,
        "identity_confirmed_at": connected + timedelta(seconds=20) if identity else None, "outcome": code,
        "finished_at": wrapped, "steps": [], "captures": captures, "updated_at": wrapped,
    })
    deal = {"customer_id": customer_id, "attempt_id": attempt_id, "campaign_id": campaign_id, "agent_id": agent_id,
            "created_at": ended}
    if code == "PROMESSA":
        amount = _money(rng, 80, 1500)
        status = rng.choice((PromiseStatus.PENDING, PromiseStatus.KEPT, PromiseStatus.BROKEN))
        paid = amount if status is PromiseStatus.KEPT else (
            (amount * Decimal(rng.randint(0, 60)) / 100).quantize(Decimal("0.01")) if status is PromiseStatus.BROKEN
            else Decimal("0.00"))
        h.promises.append({**deal, "amount": amount, "due_date": ended.date() + timedelta(days=5),
                           "paid_amount": paid, "status": status})
    elif code == "ACORDO":
        total = _money(rng, 200, 5000)
        n = rng.randint(1, 4)
        each = (total / n).quantize(Decimal("0.01"))
        amounts = [each] * (n - 1) + [total - each * (n - 1)]
        paid_count = rng.randint(0, n)
        h.agreements.append({**deal, "kind": AgreementKind.INSTALLMENTS if n > 1 else AgreementKind.CASH,
                             "discount_pct": Decimal("10.00"), "discount_amount": (total / 9).quantize(Decimal("0.01")),
                             "debt_total": total + (total / 9).quantize(Decimal("0.01")), "total": total,
                             "calculation": {"synthetic": True},
                             "status": AgreementStatus.PAID if paid_count == n else AgreementStatus.ACTIVE})
        h.installments.append([
            {"number": i, "due_date": ended.date() + timedelta(days=30 * i), "amount": amt,
             "paid_amount": amt if i < paid_count else Decimal("0.00"),
             "status": InstallmentStatus.PAID if i < paid_count else InstallmentStatus.OPEN,
             "paid_on": ended.date() if i < paid_count else None}
            for i, amt in enumerate(amounts)
        ])


def _shift(rng: random.Random, h: History, *, agent_id: int, day_start: datetime) -> None:
    """One agent's day: log in, cycles of ready → on call → wrap-up, a pause or two, log out."""
    at = day_start + timedelta(minutes=rng.uniform(0, 30))
    end = day_start + timedelta(hours=8, minutes=rng.uniform(0, 60))
    state = AgentState.OFFLINE

    def change(to: AgentState, when: datetime, reason: str | None = None) -> None:
        nonlocal state
        h.state_changes.append({"user_id": agent_id, "from_state": state, "to_state": to, "reason": reason, "at": when})
        state = to

    change(AgentState.READY, at)
    while at < end:
        at += timedelta(seconds=rng.uniform(5, 120))
        if rng.random() < 0.04:
            change(AgentState.PAUSED, at, rng.choice(("banheiro", "lanche", "feedback")))
            at += timedelta(minutes=rng.uniform(3, 15))
            change(AgentState.READY, at)
            continue
        change(AgentState.ON_CALL, at)
        at += timedelta(seconds=rng.uniform(20, 400))
        change(AgentState.WRAP_UP, at)
        at += timedelta(seconds=rng.uniform(5, 60))
        change(AgentState.READY, at)
    change(AgentState.OFFLINE, at + timedelta(seconds=1))


def build_history(
    *, seed: int, first_day: date, days: int, attempts: int, campaign_ids: list[int], agent_ids: list[int],
    customer_ids: list[int], utc_offset_s: float = -3 * 3600.0,
) -> History:
    """``attempts`` calls spread over ``days`` local days from 08:00 to 18:00, and the agents' shifts."""
    rng = random.Random(seed)
    h = History()
    midnights = [
        datetime(d.year, d.month, d.day, tzinfo=UTC) - timedelta(seconds=utc_offset_s)
        for d in (first_day + timedelta(days=i) for i in range(days))
    ]
    for _ in range(attempts):
        at = rng.choice(midnights) + timedelta(hours=8, seconds=rng.uniform(0, 10 * 3600))
        _call(rng, h, at=at, campaign_id=rng.choice(campaign_ids), agent_ids=agent_ids, customer_ids=customer_ids)
    for midnight in midnights:
        for agent_id in agent_ids:
            _shift(rng, h, agent_id=agent_id, day_start=midnight + timedelta(hours=8))
    return h


async def _bulk(db: AsyncSession, model: Any, rows: list[dict[str, Any]]) -> None:
    for i in range(0, len(rows), BATCH):
        await db.execute(insert(model), rows[i : i + BATCH])


async def store_history(db: AsyncSession, h: History) -> None:
    """Write the rows (in the caller's transaction)."""
    await _bulk(db, CallAttempt, h.attempts)
    await _bulk(db, Outcome, h.outcomes)
    await _bulk(db, ScriptRunRecord, h.script_runs)
    await _bulk(db, Promise, h.promises)
    for i in range(0, len(h.agreements), BATCH):
        chunk = h.agreements[i : i + BATCH]
        ids = (await db.execute(insert(Agreement).returning(Agreement.id, sort_by_parameter_order=True), chunk)).scalars()
        rows = [
            {**inst, "agreement_id": agreement_id}
            for agreement_id, insts in zip(ids, h.installments[i : i + BATCH], strict=True)
            for inst in insts
        ]
        await _bulk(db, AgreementInstallment, rows)
    await refresh_all_call_amounts(db)  # the bulk inserts bypass add_outcome/add_agreement, which keep it per call
    await _bulk(db, AgentStateChange, h.state_changes)


__all__ = ["History", "build_history", "store_history"]
