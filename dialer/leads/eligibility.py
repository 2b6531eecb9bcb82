"""Is this lead dialable now? A pure check over plain facts (SPEC §4 "Eligibility").

The lead picker loads the facts (phone, customer, open debts, the customer's
attempts across ALL campaigns and phones, matching do-not-call entries) and asks
:func:`check_eligibility`; every failing rule is reported, not just the first, so
supervisors see the whole picture and the scheduler knows when to look again.

Days ("today", "per day") are calendar days at the called number's local time.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from dialer.leads.aging import PRESCRIPTION_YEARS, aging_bucket, is_prescribed, prescribed_from
from dialer.leads.ddd import PhoneNumberError, offsets_for, uf_of
from dialer.leads.windows import (
    DEFAULT_RULES,
    CallingRules,
    WeeklyWindow,
    WindowDecision,
    WindowReason,
    is_callable_at,
    next_open_at,
)

__all__ = [
    "AttemptFacts",
    "CallResult",
    "CustomerFacts",
    "DebtFacts",
    "DncEntry",
    "Eligibility",
    "EligibilityPolicy",
    "Ineligibility",
    "IneligibleReason",
    "LeadFacts",
    "PhoneFacts",
    "PhoneKind",
    "PhoneStatus",
    "aging_bucket",
    "check_eligibility",
]


class PhoneKind(StrEnum):
    OWN = "own"
    REFERENCE = "reference"
    """A third party's number the debtor (or a bureau) gave: never called for RJ debtors/lines."""


class PhoneStatus(StrEnum):
    OK = "ok"
    WRONG = "wrong"
    BLOCKED = "blocked"


class CallResult(StrEnum):
    """How an attempt ended: the SPEC §7 outcome catalogue plus the system results."""

    BUSY = "busy"
    NO_ANSWER = "no_answer"
    CONGESTION = "congestion"
    FAILED = "failed"
    MACHINE = "machine"
    ABANDONED = "abandoned"
    AGREEMENT = "ACORDO"
    PROMISE = "PROMESSA"
    REFUSAL = "RECUSA"
    HARDSHIP = "SEM_CONDICOES"
    DISPUTE = "CONTESTA"
    ALREADY_PAID = "JA_PAGO"
    CALLBACK = "RETORNAR"
    THIRD_PARTY = "RECADO"
    WRONG_NUMBER = "TELEFONE_ERRADO"
    DECEASED = "FALECIDO"


RIGHT_PARTY_RESULTS = frozenset(
    {
        CallResult.AGREEMENT,
        CallResult.PROMISE,
        CallResult.REFUSAL,
        CallResult.HARDSHIP,
        CallResult.DISPUTE,
        CallResult.ALREADY_PAID,
        CallResult.CALLBACK,
    }
)
"""Results of a conversation with the debtor: they bind the customer, whichever phone was used."""

DEFAULT_RETRY_GAPS: Mapping[CallResult, timedelta] = MappingProxyType(
    {
        CallResult.BUSY: timedelta(minutes=15),
        CallResult.NO_ANSWER: timedelta(hours=2),
        CallResult.MACHINE: timedelta(hours=24),  # Ofcom's rule for AMD verdicts (SPEC §5)
        CallResult.ABANDONED: timedelta(hours=72),  # waived when the next call is a preview
        CallResult.REFUSAL: timedelta(hours=24),
    }
)


@dataclass(frozen=True, slots=True)
class PhoneFacts:
    e164: str
    kind: PhoneKind = PhoneKind.OWN
    status: PhoneStatus = PhoneStatus.OK


@dataclass(frozen=True, slots=True)
class CustomerFacts:
    cpf: str
    address_uf: str | None = None
    deceased: bool = False
    dispute_pending: bool = False
    has_lawyer: bool = False
    insolvency: bool = False
    """Bankruptcy or judicial recovery ("falência / recuperação judicial")."""
    declared_window: WeeklyWindow | None = None
    """When the customer said they can be called ("só depois das 18h")."""
    blocked_phones: frozenset[str] = frozenset()
    """Numbers the customer asked us not to call (E.164)."""


@dataclass(frozen=True, slots=True)
class DebtFacts:
    """An open debt of the customer (settled debts are not facts here)."""

    due_date: date


@dataclass(frozen=True, slots=True)
class AttemptFacts:
    """One past call attempt to any of the customer's phones, in any campaign."""

    at: datetime
    phone_e164: str
    result: CallResult
    promise_date: date | None = None
    callback_at: datetime | None = None
    """Set when the customer asked to be called back then: the callback replaces the cool-off."""

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise ValueError(f"attempt time must be timezone-aware, got {self.at.isoformat()}")
        if self.result is CallResult.PROMISE and self.promise_date is None:
            raise ValueError(f"a PROMESSA attempt at {self.at.isoformat()} needs promise_date")
        if self.callback_at is not None and self.callback_at.tzinfo is None:
            raise ValueError(f"callback_at must be timezone-aware, got {self.callback_at.isoformat()}")


def _digits(text: str) -> str:
    return re.sub(r"[^0-9]", "", text)


@dataclass(frozen=True, slots=True)
class DncEntry:
    """A do-not-call entry by phone or CPF; permanent, or until (and including) a date."""

    phone_e164: str | None = None
    cpf: str | None = None
    until: date | None = None
    source: str = ""
    """Where it came from (e.g. "procon-sp", "cliente"), shown to supervisors."""

    def __post_init__(self) -> None:
        if not self.phone_e164 and not self.cpf:
            raise ValueError("a do-not-call entry needs a phone or a CPF")

    def matches(self, phone_e164: str, cpf: str, today: date) -> bool:
        """True if the entry covers this phone or CPF and is in force today."""
        if self.until is not None and today > self.until:
            return False
        by_phone = self.phone_e164 is not None and self.phone_e164 == phone_e164
        by_cpf = self.cpf is not None and _digits(self.cpf) == _digits(cpf)
        return by_phone or by_cpf


@dataclass(frozen=True, slots=True)
class LeadFacts:
    """Everything the rules look at for one (customer, phone) pair."""

    phone: PhoneFacts
    customer: CustomerFacts
    debts: Sequence[DebtFacts] = ()
    attempts: Sequence[AttemptFacts] = ()
    dnc: Sequence[DncEntry] = ()
    """DNC entries the picker found for this phone or CPF (non-matching ones are ignored)."""


@dataclass(frozen=True)
class EligibilityPolicy:
    """Every knob of the rules, with the SPEC §4 defaults; a campaign overrides what it needs."""

    calling: CallingRules = DEFAULT_RULES
    max_attempts_phone_day: int = 3
    max_attempts_customer_day: int = 4
    max_attempts_customer_7d: int = 7
    retry_gaps: Mapping[CallResult, timedelta] = field(default_factory=lambda: DEFAULT_RETRY_GAPS)
    right_party_cooloff: timedelta = timedelta(days=3)
    prescription_years: int = PRESCRIPTION_YEARS
    call_reference_phones: bool = True
    """False: never call reference phones anywhere (RJ's ban applies regardless)."""

    def with_overrides(self, **changes: Any) -> EligibilityPolicy:
        """A copy with some fields changed; ``retry_gaps`` given here is merged over the current gaps."""
        if "retry_gaps" in changes:
            changes["retry_gaps"] = MappingProxyType({**self.retry_gaps, **changes["retry_gaps"]})
        return dataclasses.replace(self, **changes)


DEFAULT_POLICY = EligibilityPolicy()


class IneligibleReason(StrEnum):
    """Machine codes of why a lead can't be dialled now (pt-BR words, shown in reports)."""

    TELEFONE_INVALIDO = "telefone_invalido"
    TELEFONE_ERRADO = "telefone_errado"
    TELEFONE_BLOQUEADO = "telefone_bloqueado"
    REFERENCIA_RJ = "telefone_referencia_rj"
    REFERENCIA_NAO_PERMITIDA = "telefone_referencia_nao_permitido"
    FALECIDO = "falecido"
    CONTESTACAO_EM_ANALISE = "contestacao_em_analise"
    ADVOGADO = "representado_por_advogado"
    INSOLVENCIA = "falencia_ou_recuperacao_judicial"
    SEM_DIVIDA = "sem_divida_em_aberto"
    DIVIDAS_PRESCRITAS = "dividas_prescritas"
    NAO_LIGUE = "lista_nao_ligue"
    FERIADO = "feriado"
    FORA_DA_JANELA = "fora_da_janela"
    LIMITE_TELEFONE_DIA = "limite_tentativas_telefone_dia"
    LIMITE_CLIENTE_DIA = "limite_tentativas_cliente_dia"
    LIMITE_CLIENTE_7_DIAS = "limite_tentativas_cliente_7_dias"
    INTERVALO_RETENTATIVA = "intervalo_de_retentativa"
    PROMESSA_EM_ANDAMENTO = "promessa_em_andamento"
    DESCANSO_POS_CONTATO = "descanso_apos_contato"
    RETORNO_AGENDADO = "retorno_agendado"


@dataclass(frozen=True, slots=True)
class Ineligibility:
    code: IneligibleReason
    message_pt: str
    until: datetime | None = None
    """When this reason lapses by itself (UTC); None = only a change of facts lifts it."""


_TIMED = frozenset(
    {
        IneligibleReason.FERIADO,
        IneligibleReason.FORA_DA_JANELA,
        IneligibleReason.LIMITE_TELEFONE_DIA,
        IneligibleReason.LIMITE_CLIENTE_DIA,
        IneligibleReason.LIMITE_CLIENTE_7_DIAS,
        IneligibleReason.INTERVALO_RETENTATIVA,
        IneligibleReason.PROMESSA_EM_ANDAMENTO,
        IneligibleReason.DESCANSO_POS_CONTATO,
        IneligibleReason.RETORNO_AGENDADO,
    }
)


@dataclass(frozen=True, slots=True)
class Eligibility:
    dialable: bool
    reasons: tuple[Ineligibility, ...]
    window: WindowDecision | None
    not_before: datetime | None = None
    """When every reason will have lapsed and the window is open (UTC); None if dialable now
    or if some reason needs a change of facts (or no window opens within three weeks)."""

    @property
    def codes(self) -> frozenset[IneligibleReason]:
        return frozenset(reason.code for reason in self.reasons)


def _fmt(moment: datetime, offset: timedelta) -> str:
    return (moment.astimezone(UTC) + offset).strftime("%d/%m/%Y %H:%M")


def _local_midnight_after(now: datetime, offset: timedelta) -> datetime:
    """The next local midnight, as a UTC instant."""
    local_day = (now + offset).date() + timedelta(days=1)
    return datetime(local_day.year, local_day.month, local_day.day, tzinfo=UTC) - offset


def _holds(customer: CustomerFacts) -> list[Ineligibility]:
    found = []
    if customer.deceased:
        found.append(Ineligibility(IneligibleReason.FALECIDO, "Cliente falecido: cobrança suspensa."))
    if customer.dispute_pending:
        found.append(
            Ineligibility(IneligibleReason.CONTESTACAO_EM_ANALISE, "Contestação da dívida em análise.")
        )
    if customer.has_lawyer:
        found.append(
            Ineligibility(IneligibleReason.ADVOGADO, "Cliente representado por advogado: tratar com o advogado.")
        )
    if customer.insolvency:
        found.append(
            Ineligibility(IneligibleReason.INSOLVENCIA, "Falência ou recuperação judicial: cobrança suspensa.")
        )
    return found


def _phone_rules(facts: LeadFacts, policy: EligibilityPolicy, phone_uf: str, today: date) -> list[Ineligibility]:
    phone, customer = facts.phone, facts.customer
    found = []
    if phone.status is PhoneStatus.WRONG:
        found.append(Ineligibility(IneligibleReason.TELEFONE_ERRADO, "Telefone marcado como errado."))
    if phone.status is PhoneStatus.BLOCKED or phone.e164 in customer.blocked_phones:
        found.append(Ineligibility(IneligibleReason.TELEFONE_BLOQUEADO, "Telefone bloqueado para ligações."))
    if phone.kind is PhoneKind.REFERENCE:
        if "RJ" in (phone_uf, (customer.address_uf or "").upper()):
            found.append(
                Ineligibility(
                    IneligibleReason.REFERENCIA_RJ,
                    "Telefone de referência/terceiro com DDD ou endereço no RJ: "
                    "proibido pela Lei RJ 6.854/2014 (Lei 7.868/2018).",
                )
            )
        elif not policy.call_reference_phones:
            found.append(
                Ineligibility(
                    IneligibleReason.REFERENCIA_NAO_PERMITIDA,
                    "A política não permite ligar para telefones de referência.",
                )
            )
    for entry in facts.dnc:
        if entry.matches(phone.e164, customer.cpf, today):
            until = f" até {entry.until.strftime('%d/%m/%Y')}" if entry.until else ""
            what = "telefone" if entry.phone_e164 == phone.e164 else "CPF"
            source = f" ({entry.source})" if entry.source else ""
            found.append(
                Ineligibility(IneligibleReason.NAO_LIGUE, f"{what.capitalize()} na lista de não ligar{source}{until}.")
            )
            break
    return found


def _debt_rules(debts: Sequence[DebtFacts], policy: EligibilityPolicy, today: date) -> list[Ineligibility]:
    if not debts:
        return [Ineligibility(IneligibleReason.SEM_DIVIDA, "Cliente sem dívida em aberto.")]
    if all(is_prescribed(debt.due_date, today, policy.prescription_years) for debt in debts):
        newest = max(debt.due_date for debt in debts)
        since = prescribed_from(newest, policy.prescription_years).strftime("%d/%m/%Y")
        return [
            Ineligibility(
                IneligibleReason.DIVIDAS_PRESCRITAS,
                f"Todas as dívidas prescritas (desde {since}): não cobrar por telefone; "
                "pagamento espontâneo ainda pode ser recebido.",
            )
        ]
    return []


def _cap_rules(
    facts: LeadFacts, policy: EligibilityPolicy, now: datetime, offset: timedelta
) -> list[Ineligibility]:
    past = sorted((a for a in facts.attempts if a.at <= now), key=lambda a: a.at)
    today = (now + offset).date()
    midnight = _local_midnight_after(now, offset)
    today_all = [a for a in past if (a.at.astimezone(UTC) + offset).date() == today]
    today_phone = [a for a in today_all if a.phone_e164 == facts.phone.e164]
    week = [a for a in past if a.at > now - timedelta(days=7)]
    found = []
    if len(today_phone) >= policy.max_attempts_phone_day:
        found.append(
            Ineligibility(
                IneligibleReason.LIMITE_TELEFONE_DIA,
                f"Limite de {policy.max_attempts_phone_day} tentativas por telefone no dia atingido.",
                midnight,
            )
        )
    if len(today_all) >= policy.max_attempts_customer_day:
        found.append(
            Ineligibility(
                IneligibleReason.LIMITE_CLIENTE_DIA,
                f"Limite de {policy.max_attempts_customer_day} tentativas por cliente no dia atingido.",
                midnight,
            )
        )
    if len(week) >= policy.max_attempts_customer_7d:
        # The count drops under the cap when enough of the oldest attempts leave the 7-day window.
        frees_at = week[len(week) - policy.max_attempts_customer_7d].at.astimezone(UTC) + timedelta(days=7)
        found.append(
            Ineligibility(
                IneligibleReason.LIMITE_CLIENTE_7_DIAS,
                f"Limite de {policy.max_attempts_customer_7d} tentativas por cliente em 7 dias atingido "
                f"(libera em {_fmt(frees_at, offset)}).",
                frees_at,
            )
        )
    return found


_RESULT_PT = {
    CallResult.BUSY: "ocupado",
    CallResult.NO_ANSWER: "não atendeu",
    CallResult.CONGESTION: "congestionamento",
    CallResult.FAILED: "falha",
    CallResult.MACHINE: "caixa postal/secretária",
    CallResult.ABANDONED: "chamada abandonada",
    CallResult.REFUSAL: "recusa",
}


def _gap_rules(
    facts: LeadFacts, policy: EligibilityPolicy, now: datetime, offset: timedelta, preview: bool
) -> list[Ineligibility]:
    past = sorted((a for a in facts.attempts if a.at <= now), key=lambda a: a.at)
    found = []

    # Phone-level: what happened on this number last (busy, no answer, machine, abandoned...).
    on_phone = [a for a in past if a.phone_e164 == facts.phone.e164]
    if on_phone:
        last = on_phone[-1]
        gap = policy.retry_gaps.get(last.result) if last.result not in RIGHT_PARTY_RESULTS else None
        waived = last.result is CallResult.ABANDONED and preview
        if last.result is CallResult.WRONG_NUMBER:
            found.append(
                Ineligibility(IneligibleReason.TELEFONE_ERRADO, "Última ligação tabulada como telefone errado.")
            )
        elif gap and not waived and now < last.at + gap:
            until = last.at.astimezone(UTC) + gap
            found.append(
                Ineligibility(
                    IneligibleReason.INTERVALO_RETENTATIVA,
                    f"Última tentativa: {_RESULT_PT.get(last.result, last.result.value)}; "
                    f"aguardar até {_fmt(until, offset)}.",
                    until,
                )
            )

    if any(a.result is CallResult.DECEASED for a in past):
        found.append(Ineligibility(IneligibleReason.FALECIDO, "Ligação tabulada como cliente falecido."))

    # Customer-level: the last conversation with the debtor, on any phone.
    talks = [a for a in past if a.result in RIGHT_PARTY_RESULTS]
    if talks:
        last = talks[-1]
        if last.callback_at is not None:
            callback = last.callback_at.astimezone(UTC)
            if now < callback:
                found.append(
                    Ineligibility(
                        IneligibleReason.RETORNO_AGENDADO,
                        f"Retorno pedido pelo cliente para {_fmt(callback, offset)}.",
                        callback,
                    )
                )
        elif last.result is CallResult.PROMISE:
            assert last.promise_date is not None  # checked by AttemptFacts
            free_day = last.promise_date + timedelta(days=1)
            free_at = datetime(free_day.year, free_day.month, free_day.day, tzinfo=UTC) - offset
            if now < free_at:
                found.append(
                    Ineligibility(
                        IneligibleReason.PROMESSA_EM_ANDAMENTO,
                        f"Promessa de pagamento para {last.promise_date.strftime('%d/%m/%Y')}.",
                        free_at,
                    )
                )
        else:
            gap = policy.retry_gaps.get(last.result, policy.right_party_cooloff)
            until = last.at.astimezone(UTC) + gap
            if now < until:
                code = (
                    IneligibleReason.INTERVALO_RETENTATIVA
                    if last.result in policy.retry_gaps
                    else IneligibleReason.DESCANSO_POS_CONTATO
                )
                found.append(
                    Ineligibility(
                        code,
                        f"Contato com o cliente em {_fmt(last.at, offset)} ({last.result.value}); "
                        f"aguardar até {_fmt(until, offset)}.",
                        until,
                    )
                )
    return found


def _window_rules(
    facts: LeadFacts, policy: EligibilityPolicy, now: datetime
) -> tuple[WindowDecision, list[Ineligibility]]:
    decision = is_callable_at(
        now,
        facts.phone.e164,
        facts.customer.address_uf,
        rules=policy.calling,
        customer_window=facts.customer.declared_window,
    )
    if decision.allowed:
        return decision, []
    code = IneligibleReason.FERIADO if decision.reason is WindowReason.FERIADO else IneligibleReason.FORA_DA_JANELA
    return decision, [Ineligibility(code, decision.message_pt)]


def check_eligibility(
    lead_facts: LeadFacts,
    policy: EligibilityPolicy,
    now_utc: datetime,
    *,
    preview: bool = False,
) -> Eligibility:
    """Every rule of SPEC §4 for one phone of one customer at ``now_utc`` (timezone-aware).

    ``preview`` says the next call is a preview with an agent (waives the 72 h
    abandoned-call gap). Pass ``DEFAULT_POLICY`` for the SPEC defaults.
    """
    if now_utc.tzinfo is None:
        raise ValueError(f"now_utc must be timezone-aware, got naive {now_utc.isoformat()}")
    now = now_utc.astimezone(UTC)
    customer = lead_facts.customer

    try:
        offset = offsets_for(lead_facts.phone.e164)[0]
        phone_uf = uf_of(lead_facts.phone.e164)
    except PhoneNumberError as exc:
        reasons = [Ineligibility(IneligibleReason.TELEFONE_INVALIDO, f"Telefone inválido: {exc}")]
        reasons += _holds(customer)
        return Eligibility(False, tuple(reasons), None)

    today = (now + offset).date()
    reasons = _phone_rules(lead_facts, policy, phone_uf, today)
    reasons += _holds(customer)
    reasons += _debt_rules(lead_facts.debts, policy, today)
    reasons += _cap_rules(lead_facts, policy, now, offset)
    reasons += _gap_rules(lead_facts, policy, now, offset, preview)
    window, window_reasons = _window_rules(lead_facts, policy, now)
    reasons += window_reasons

    not_before = None
    if reasons and all(reason.code in _TIMED for reason in reasons):
        lapses = max([now, *(r.until for r in reasons if r.until is not None)])
        not_before = next_open_at(
            lapses,
            lead_facts.phone.e164,
            customer.address_uf,
            rules=policy.calling,
            customer_window=customer.declared_window,
        )
    return Eligibility(not reasons, tuple(reasons), window, not_before)
