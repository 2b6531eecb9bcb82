"""What the planner knows about an account: read by ``storage.repositories.regua``, judged here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from dialer.regua.rules import Channel


@dataclass(frozen=True, slots=True)
class DebtFacts:
    id: int
    contract: str
    creditor: str
    balance: Decimal
    due_date: date
    open: bool  # status open (not settled, cancelled or in an agreement)
    in_agreement: bool  # covered by an active agreement


@dataclass(frozen=True, slots=True)
class InstallmentFacts:
    id: int
    agreement_id: int
    number: int  # 0 = down payment ("entrada")
    due_date: date
    amount: Decimal
    paid_amount: Decimal
    open: bool  # unpaid and its agreement active

    @property
    def left(self) -> Decimal:
        return max(self.amount - self.paid_amount, Decimal("0.00"))


@dataclass(frozen=True, slots=True)
class AgreementFacts:
    id: int
    made_on: date  # the company's calendar day it was made
    total: Decimal
    cancelled: bool


@dataclass(frozen=True, slots=True)
class PromiseFacts:
    id: int
    due_date: date
    amount: Decimal
    pending: bool


@dataclass(frozen=True, slots=True)
class AccountFacts:
    """One customer with everything a rule may look at."""

    customer_id: int
    name: str
    cpf: str
    email: str | None
    uf: str | None
    mobile: str | None  # the customer's own, working phone the messages go to (E.164)
    tags: frozenset[str] = frozenset()
    campaigns: frozenset[str] = frozenset()  # names of the campaigns the customer is in
    stopped: bool = False  # deceased, disputing or on hold: nothing goes out
    outsourced: bool = False  # handed to an outside agency: the régua is done with its debts
    opted_out: frozenset[Channel] = frozenset()
    debts: tuple[DebtFacts, ...] = ()
    installments: tuple[InstallmentFacts, ...] = ()
    agreements: tuple[AgreementFacts, ...] = ()
    promises: tuple[PromiseFacts, ...] = ()

    @property
    def first_name(self) -> str:
        parts = self.name.split()
        return parts[0] if parts else self.name
