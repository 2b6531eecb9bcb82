"""Identity verification of the person on the line (pure: no I/O, no clock of its own).

The agent types what the person says — the date of birth, the first three digits of the
CPF, or the answer to another question the customer's data can serve — and Cobra answers
match / no match. Nothing the caller could be asked ever leaves the server: the page
only learns which questions exist and whether an answer matched (SPEC §6; CDC art. 42,
LGPD). Three wrong answers lock the check for the call; when the data can't serve (no
birth date on file, a person who won't say it) the agent may release the call with a
written reason, which supervisors see as an override.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

MAX_ATTEMPTS = 3
MIN_OVERRIDE_REASON = 10  # characters: "cliente não sabe" is fine, "ok" is not


class IdentityMethod(StrEnum):
    BIRTH_DATE = "data_nascimento"
    CPF_PREFIX = "cpf"
    OTHER = "outra"


class IdentityStatus(StrEnum):
    PENDING = "pendente"
    VERIFIED = "verificada"
    LOCKED = "bloqueada"
    OVERRIDDEN = "liberada_sem_verificacao"


STATUS_LABEL: dict[IdentityStatus, str] = {
    IdentityStatus.PENDING: "Identidade não verificada",
    IdentityStatus.VERIFIED: "Identidade verificada",
    IdentityStatus.LOCKED: "Verificação bloqueada (3 tentativas)",
    IdentityStatus.OVERRIDDEN: "Liberada sem verificação",
}

METHOD_LABEL: dict[IdentityMethod, str] = {
    IdentityMethod.BIRTH_DATE: "Data de nascimento",
    IdentityMethod.CPF_PREFIX: "3 primeiros dígitos do CPF",
    IdentityMethod.OTHER: "Outra pergunta",
}


class OtherField(StrEnum):
    """The stored customer fields the "outra" question may check (``[identity] other_field``)."""

    EMAIL = "email"  # customers.email
    UF = "uf"  # customers.uf: the state the person lives in (sigla or name)
    EXTERNAL_ID = "external_id"  # customers.external_id: the creditor's customer code
    CONTRACT = "contrato"  # debts.contract: any of the customer's open contracts


@dataclass(frozen=True, slots=True)
class OtherQuestion:
    """The third identity question: what the agent sees (``label``) and which stored field answers it."""

    label: str
    field: OtherField

    def __post_init__(self) -> None:
        label = " ".join(self.label.split())
        if not MIN_LABEL <= len(label) <= MAX_LABEL:
            raise ValueError(f"other_question: must be {MIN_LABEL} to {MAX_LABEL} characters, got {self.label!r}")
        object.__setattr__(self, "label", label)


MIN_LABEL, MAX_LABEL = 3, 60
DEFAULT_OTHER_QUESTION = OtherQuestion("E-mail cadastrado", OtherField.EMAIL)

# Brazil's states: a person says "Pernambuco" as often as "PE"
UF_NAMES: dict[str, str] = {
    "AC": "Acre", "AL": "Alagoas", "AP": "Amapá", "AM": "Amazonas", "BA": "Bahia", "CE": "Ceará",
    "DF": "Distrito Federal", "ES": "Espírito Santo", "GO": "Goiás", "MA": "Maranhão", "MT": "Mato Grosso",
    "MS": "Mato Grosso do Sul", "MG": "Minas Gerais", "PA": "Pará", "PB": "Paraíba", "PR": "Paraná",
    "PE": "Pernambuco", "PI": "Piauí", "RJ": "Rio de Janeiro", "RN": "Rio Grande do Norte",
    "RS": "Rio Grande do Sul", "RO": "Rondônia", "RR": "Roraima", "SC": "Santa Catarina", "SP": "São Paulo",
    "SE": "Sergipe", "TO": "Tocantins",
}


def other_answers(
    question: OtherQuestion,
    *,
    email: str | None = None,
    uf: str | None = None,
    external_id: str | None = None,
    contracts: tuple[str, ...] = (),
) -> tuple[str, ...]:
    """The answers on file that match ``question`` (empty: the record can't serve it, the question is not offered)."""
    if question.field is OtherField.EMAIL:
        found: tuple[str | None, ...] = (email,)
    elif question.field is OtherField.UF:
        found = (uf, UF_NAMES.get((uf or "").upper()))
    elif question.field is OtherField.EXTERNAL_ID:
        found = (external_id,)
    else:
        found = contracts
    return tuple(dict.fromkeys(a for a in found if a and normalize_text(a)))


class IdentityRefused(ValueError):
    """An answer that cannot be checked (locked, method unavailable, malformed); not counted as an attempt."""

    def __init__(self, message: str, field: str = "answer") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class IdentityKey:
    """What the customer's record can verify; never sent to a page."""

    birth_date: date | None = None
    cpf: str | None = None  # 11 digits
    other_question: str | None = None  # the configured label, e.g. "E-mail cadastrado"
    other_answer: str | None = None
    other_alternatives: tuple[str, ...] = ()  # further accepted answers (each contract; the state's name)

    def methods(self) -> tuple[IdentityMethod, ...]:
        out = []
        if self.birth_date is not None:
            out.append(IdentityMethod.BIRTH_DATE)
        if self.cpf and len(_digits(self.cpf)) == 11:
            out.append(IdentityMethod.CPF_PREFIX)
        if self.other_question and self._other_answers():
            out.append(IdentityMethod.OTHER)
        return tuple(out)

    def _other_answers(self) -> set[str]:
        return {n for a in (self.other_answer, *self.other_alternatives) if a and (n := normalize_text(a))}

    @classmethod
    def of(
        cls,
        question: OtherQuestion,
        *,
        birth_date: date | None,
        cpf: str | None,
        email: str | None = None,
        uf: str | None = None,
        external_id: str | None = None,
        contracts: tuple[str, ...] = (),
    ) -> IdentityKey:
        """The key of a customer's record, with the configured third question."""
        answers = other_answers(question, email=email, uf=uf, external_id=external_id, contracts=contracts)
        return cls(
            birth_date=birth_date,
            cpf=cpf,
            other_question=question.label if answers else None,
            other_answer=answers[0] if answers else None,
            other_alternatives=answers[1:],
        )


@dataclass(frozen=True, slots=True)
class IdentityAttempt:
    at: datetime
    method: IdentityMethod
    matched: bool


@dataclass
class IdentityCheck:
    """One call's verification: attempts, and how it ended (verified, locked, overridden)."""

    key: IdentityKey
    max_attempts: int = MAX_ATTEMPTS
    attempts: list[IdentityAttempt] = field(default_factory=list)
    status: IdentityStatus = IdentityStatus.PENDING
    settled_at: datetime | None = None
    override_reason: str | None = None

    @property
    def failures(self) -> int:
        return sum(1 for a in self.attempts if not a.matched)

    @property
    def attempts_left(self) -> int:
        return max(0, self.max_attempts - self.failures)

    @property
    def released(self) -> bool:
        """The debt may be disclosed: verified, or released with a recorded reason."""
        return self.status in (IdentityStatus.VERIFIED, IdentityStatus.OVERRIDDEN)

    def check(self, method: IdentityMethod, answer: str, at: datetime) -> IdentityAttempt:
        """Compare ``answer`` with the record; a malformed answer raises (and costs no attempt)."""
        if self.status is IdentityStatus.VERIFIED:
            raise IdentityRefused("A identidade já foi verificada nesta chamada.")
        if self.status is IdentityStatus.OVERRIDDEN:
            raise IdentityRefused("A chamada já foi liberada sem verificação.")
        if self.status is IdentityStatus.LOCKED:
            raise IdentityRefused(
                f"Verificação bloqueada após {self.max_attempts} tentativas: não fale da dívida. "
                "Se houver motivo, libere com justificativa (o supervisor é avisado)."
            )
        if method not in self.key.methods():
            raise IdentityRefused(f"{METHOD_LABEL[method]}: não há este dado no cadastro; use outra pergunta.", "method")
        matched = self._matches(method, answer)
        attempt = IdentityAttempt(at, method, matched)
        self.attempts.append(attempt)
        if matched:
            self.status, self.settled_at = IdentityStatus.VERIFIED, at
        elif self.failures >= self.max_attempts:
            self.status, self.settled_at = IdentityStatus.LOCKED, at
        return attempt

    def override(self, reason: str, at: datetime) -> None:
        """Release the call without a match: the reason is kept and shown to supervisors."""
        text = " ".join(reason.split())
        if self.status is IdentityStatus.VERIFIED:
            raise IdentityRefused("A identidade já foi verificada nesta chamada.", "reason")
        if self.status is IdentityStatus.OVERRIDDEN:
            raise IdentityRefused("A chamada já foi liberada.", "reason")
        if len(text) < MIN_OVERRIDE_REASON:
            raise IdentityRefused(
                f"Escreva o motivo da liberação sem verificação (pelo menos {MIN_OVERRIDE_REASON} caracteres).", "reason"
            )
        self.status, self.settled_at, self.override_reason = IdentityStatus.OVERRIDDEN, at, text

    def _matches(self, method: IdentityMethod, answer: str) -> bool:
        key = self.key
        if method is IdentityMethod.BIRTH_DATE:
            typed = parse_birth_date(answer)
            if typed is None:
                raise IdentityRefused("Digite a data de nascimento como dd/mm/aaaa, por exemplo 07/03/1985.")
            return typed == key.birth_date
        if method is IdentityMethod.CPF_PREFIX:
            digits = _digits(answer)
            if len(digits) != 3 or digits != answer.strip():
                raise IdentityRefused("Digite os 3 primeiros dígitos do CPF, só números.")
            return key.cpf is not None and _digits(key.cpf)[:3] == digits
        typed_text = normalize_text(answer)
        if not typed_text:
            raise IdentityRefused("Digite a resposta da pessoa.")
        return typed_text in key._other_answers()


_DATE = re.compile(r"^\s*(\d{1,2})\s*[/.\-]?\s*(\d{1,2})\s*[/.\-]?\s*(\d{4})\s*$")


def parse_birth_date(text: str) -> date | None:
    """``dd/mm/aaaa`` (also ``ddmmaaaa``, ``dd.mm.aaaa``, ``dd-mm-aaaa``); None when it is no real date."""
    compact = text.strip()
    if re.fullmatch(r"\d{8}", compact):
        compact = f"{compact[:2]}/{compact[2:4]}/{compact[4:]}"
    m = _DATE.match(compact)
    if m is None:
        return None
    try:
        return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    except ValueError:
        return None


def normalize_text(text: str) -> str:
    """Case, accents and spacing don't matter: "  José  da Silva " == "jose da silva"."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return " ".join(plain.casefold().split())


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())
