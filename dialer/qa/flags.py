"""Automatic QA flags of a call, computed from what was stored (pure: no I/O).

Each flag is a code and a pt-BR sentence. They are computed in the dispose transaction
(and again by ``cobra qa reflag`` for calls stored before a rule existed):

- ``divida_antes_identidade``: the debt was shown (a script step revealing it, an offer,
  an agreement or a promise) before the identity was confirmed, or never confirmed;
- ``chamada_curta``: a right-party outcome on a call shorter than the configured seconds;
- ``desconto_sem_aprovacao``: an agreement's discount above the agent's authority with no
  supervisor's approval;
- ``promessa_acima_saldo``: a promise larger than the customer's balance.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from scripting.money import format_brl, format_percent_br

DEBT_BEFORE_IDENTITY = "divida_antes_identidade"
SHORT_CALL = "chamada_curta"
DISCOUNT_WITHOUT_APPROVAL = "desconto_sem_aprovacao"
PROMISE_ABOVE_BALANCE = "promessa_acima_saldo"
LABELS = {
    DEBT_BEFORE_IDENTITY: "Dívida antes da identificação",
    SHORT_CALL: "Chamada curta com contato",
    DISCOUNT_WITHOUT_APPROVAL: "Desconto acima da alçada sem aprovação",
    PROMISE_ABOVE_BALANCE: "Promessa acima do saldo",
}
# Outcomes that say the agent spoke with the debtor (right-party contact)
RIGHT_PARTY = frozenset({"ACORDO", "PROMESSA", "RECUSA", "SEM_CONDICOES", "CONTESTA", "JA_PAGO"})
NEGOTIATED = frozenset({"ACORDO", "PROMESSA"})


@dataclass(frozen=True, slots=True)
class Flag:
    code: str
    detail: str


@dataclass(frozen=True, slots=True)
class CallFacts:
    """What the rules read about one call (every field may be unknown)."""

    outcome: str | None = None
    talk_s: int | None = None
    identity_confirmed_at: datetime | None = None
    # when the debt was first on screen, if known (the script's identity gate keeps revealing steps after it)
    debt_revealed_at: datetime | None = None
    negotiated_at: datetime | None = None  # the agreement's or promise's time
    discount_pct: Decimal | None = None
    agent_limit_pct: Decimal | None = None
    approval_id: int | None = None
    promise_amount: Decimal | None = None
    balance: Decimal | None = None


def compute_flags(facts: CallFacts, *, short_call_s: int) -> list[Flag]:
    """The flags ``facts`` deserve, in a fixed order."""
    out: list[Flag] = []
    confirmed = facts.identity_confirmed_at
    shown = [t for t in (facts.debt_revealed_at, facts.negotiated_at) if t is not None]
    if shown and (confirmed is None or min(shown) < confirmed):
        when = "sem confirmação de identidade" if confirmed is None else "antes da confirmação de identidade"
        out.append(Flag(DEBT_BEFORE_IDENTITY, f"Dívida apresentada {when}."))
    elif confirmed is None and facts.outcome in NEGOTIATED:
        out.append(Flag(DEBT_BEFORE_IDENTITY, "Negociação registrada sem confirmação de identidade."))
    if facts.outcome in RIGHT_PARTY and facts.talk_s is not None and facts.talk_s < short_call_s:
        out.append(Flag(SHORT_CALL, f"Resultado {facts.outcome} em {facts.talk_s} s de conversa (mínimo {short_call_s} s)."))
    if (
        facts.discount_pct is not None
        and facts.agent_limit_pct is not None
        and facts.discount_pct > facts.agent_limit_pct
        and facts.approval_id is None
    ):
        out.append(Flag(
            DISCOUNT_WITHOUT_APPROVAL,
            f"Desconto de {format_percent_br(facts.discount_pct)} acima da alçada de {format_percent_br(facts.agent_limit_pct)} sem aprovação.",
        ))
    if facts.promise_amount is not None and facts.balance is not None and facts.promise_amount > facts.balance:
        out.append(Flag(
            PROMISE_ABOVE_BALANCE,
            f"Promessa de {format_brl(facts.promise_amount)} acima do saldo de {format_brl(facts.balance)}.",
        ))
    return out


__all__ = [
    "DEBT_BEFORE_IDENTITY", "DISCOUNT_WITHOUT_APPROVAL", "LABELS", "PROMISE_ABOVE_BALANCE", "RIGHT_PARTY", "SHORT_CALL",
    "CallFacts", "Flag", "compute_flags",
]
