"""Closed vocabularies stored as VARCHAR + CHECK (see ``storage.models.base._str_enum``)."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    QA = "qa"
    ADMIN = "admin"


class AgentState(enum.StrEnum):
    """Agent states of SPEC §6."""

    OFFLINE = "offline"
    CONNECTING = "connecting"  # "Disponível" pressed, the agent's phone is being called in
    READY = "ready"
    RESERVED = "reserved"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    PAUSED = "paused"


class PhoneKind(enum.StrEnum):
    OWN = "own"
    REFERENCE = "reference"  # a third party's phone given by the debtor: never called in RJ


class PhoneStatus(enum.StrEnum):
    OK = "ok"
    WRONG = "wrong"
    BLOCKED = "blocked"


class DebtStatus(enum.StrEnum):
    OPEN = "open"
    IN_AGREEMENT = "in_agreement"
    SETTLED = "settled"
    CANCELLED = "cancelled"


class CampaignMode(enum.StrEnum):
    MANUAL = "manual"
    PREVIEW = "preview"
    PROGRESSIVE = "progressive"
    PREDICTIVE = "predictive"


class CampaignStatus(enum.StrEnum):
    """Whether the dialer works a campaign.

    ``paused`` is temporary: no new calls, calls in progress finish. ``stopped`` takes the
    campaign off the floor until someone starts it again.
    """

    ACTIVE = "active"
    PAUSED = "paused"
    STOPPED = "stopped"


class LeadState(enum.StrEnum):
    NEW = "new"
    DIALABLE = "dialable"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    STOPPED = "stopped"


class CallResult(enum.StrEnum):
    """System results of a call attempt (the agent's disposition is an ``Outcome``)."""

    BUSY = "busy"
    NO_ANSWER = "no_answer"
    CONGESTION = "congestion"
    FAILED = "failed"
    MACHINE = "machine"
    ABANDONED = "abandoned"
    ANSWERED = "answered"
    CONNECTED = "connected"
    CANCELLED = "cancelled"


class HoldKind(enum.StrEnum):
    """Why collection of a customer is suspended (SPEC §4 holds)."""

    DECEASED = "deceased"
    DISPUTE = "dispute"  # dispute under review
    LAWYER = "lawyer"  # represented by a lawyer: talk to the lawyer, not the debtor
    INSOLVENCY = "insolvency"  # bankruptcy or judicial recovery


class DncKind(enum.StrEnum):
    PHONE = "phone"
    CPF = "cpf"


class OutcomeCode(enum.StrEnum):
    """The default outcome catalogue of SPEC §7."""

    ACORDO = "ACORDO"
    PROMESSA = "PROMESSA"
    RECUSA = "RECUSA"
    SEM_CONDICOES = "SEM_CONDICOES"
    CONTESTA = "CONTESTA"
    JA_PAGO = "JA_PAGO"
    RETORNAR = "RETORNAR"
    RECADO = "RECADO"
    TELEFONE_ERRADO = "TELEFONE_ERRADO"
    FALECIDO = "FALECIDO"


class AgreementKind(enum.StrEnum):
    """Same values as ``scripting.offers.OfferKind`` (storage imports nothing of ours)."""

    CASH = "a_vista"
    INSTALLMENTS = "parcelado"


class AgreementStatus(enum.StrEnum):
    ACTIVE = "active"  # installments still open
    PAID = "paid"  # every installment paid
    CANCELLED = "cancelled"


class InstallmentStatus(enum.StrEnum):
    OPEN = "open"
    PAID = "paid"


class PromiseStatus(enum.StrEnum):
    PENDING = "pending"  # the date has not passed and it is not paid yet
    KEPT = "kept"  # paid (in full) by its date
    BROKEN = "broken"  # its date passed without full payment


class ApprovalStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"
    EXPIRED = "expired"
