"""The actions due on a day: given the rules, the accounts and the date, what the régua does.

Every action has an **idempotency key** ``rule:target:anchor date`` (target ``debt:12``,
``installment:7`` or ``agreement:3``); storage keeps one decision per key, so planning the
same day twice, or a later day that still sees an earlier step, acts once.

A step fires on ``anchor date + offset``. A run on day D also takes the steps that fell in
the ``catch_up_days`` before D and were not decided (a missed run, a holiday that deferred a
message); older ones are left alone, so a portfolio imported long after its due dates is not
flooded with every past step at once; a reminder before a due date is not caught up after
it. A message on a day its channel is closed (Sunday,
holiday; see :mod:`dialer.regua.channels`) is deferred to the next open day.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from dialer.leads.aging import aging_bucket, is_prescribed
from dialer.regua.channels import closed_reason
from dialer.regua.facts import AccountFacts, DebtFacts
from dialer.regua.rules import Action, Anchor, Channel, Rule

DEFAULT_CATCH_UP_DAYS = 7
BROKEN_RULE_KEY = "quebra"


@dataclass(frozen=True, slots=True)
class PlannedAction:
    key: str
    rule: Rule
    account: AccountFacts
    target: str  # "debt:12" | "installment:7" | "agreement:3"
    anchor_date: date
    fire_on: date
    amount: Decimal
    recipient: str | None  # e-mail address or E.164 for messages
    debt: DebtFacts | None = None
    installment_number: int | None = None

    @property
    def customer_id(self) -> int:
        return self.account.customer_id


@dataclass(frozen=True, slots=True)
class Skip:
    """A step due that the rules kept from going out, with the reason (for the preview)."""

    rule: Rule
    customer_id: int
    target: str
    reason: str


def decision_key(rule_key: str, target: str, anchor_date: date) -> str:
    return f"{rule_key}:{target}:{anchor_date.isoformat()}"


def _recipient(rule: Rule, account: AccountFacts) -> tuple[str | None, str | None]:
    """(address, None) or (None, why not)."""
    if rule.action is not Action.MESSAGE:
        return None, None
    if rule.channel is Channel.EMAIL:
        return (account.email, None) if account.email else (None, "sem e-mail")
    return (account.mobile, None) if account.mobile else (None, "sem celular")


def _account_skip(rule: Rule, account: AccountFacts) -> str | None:
    if account.stopped:
        return "cobrança suspensa"
    if rule.channel in account.opted_out:
        return "canal bloqueado pelo cliente"
    if account.outsourced and rule.anchor is Anchor.DEBT:
        return "conta com assessoria externa"
    tags = {t.lower() for t in account.tags}
    cond = rule.conditions
    if cond.tags_any and not tags & {t.lower() for t in cond.tags_any}:
        return "sem a etiqueta exigida"
    if cond.tags_none and tags & {t.lower() for t in cond.tags_none}:
        return "etiqueta excluída"
    if cond.campaigns and not {c.casefold() for c in account.campaigns} & {c.casefold() for c in cond.campaigns}:
        return "fora das campanhas do passo"
    return None


def _debt_skip(rule: Rule, debt: DebtFacts, today: date) -> str | None:
    if debt.in_agreement and rule.conditions.not_in_agreement:
        return "dívida em acordo"
    if not debt.in_agreement and (not debt.open or debt.balance <= 0):
        return "dívida paga ou encerrada"
    if is_prescribed(debt.due_date, today):
        return "dívida prescrita"
    cond = rule.conditions
    if cond.creditors and debt.creditor.casefold() not in {c.casefold() for c in cond.creditors}:
        return "outro credor"
    if cond.buckets and aging_bucket(debt.due_date, today) not in cond.buckets:
        return "fora da faixa de atraso"
    if cond.min_balance is not None and debt.balance < cond.min_balance:
        return "saldo abaixo do mínimo"
    if cond.max_balance is not None and debt.balance > cond.max_balance:
        return "saldo acima do máximo"
    return None


@dataclass(frozen=True, slots=True)
class _Candidate:
    target: str
    anchor_date: date
    amount: Decimal
    debt: DebtFacts | None = None
    installment_number: int | None = None
    skip: str | None = None


def _candidates(rule: Rule, account: AccountFacts, today: date) -> Iterable[_Candidate]:
    if rule.anchor is Anchor.DEBT:
        for debt in account.debts:
            yield _Candidate(f"debt:{debt.id}", debt.due_date, debt.balance, debt, skip=_debt_skip(rule, debt, today))
    elif rule.anchor is Anchor.INSTALLMENT:
        for inst in account.installments:
            skip = None if inst.open and inst.left > 0 else "parcela paga"
            yield _Candidate(f"installment:{inst.id}", inst.due_date, inst.left, installment_number=inst.number, skip=skip)
    else:
        for agreement in account.agreements:
            skip = "acordo cancelado" if agreement.cancelled else None
            yield _Candidate(f"agreement:{agreement.id}", agreement.made_on, agreement.total, skip=skip)


def plan_day(
    rules: Sequence[Rule],
    accounts: Iterable[AccountFacts],
    today: date,
    *,
    decided: Container[str] = frozenset(),
    catch_up_days: int = DEFAULT_CATCH_UP_DAYS,
    on_skip: Callable[[Skip], None] | None = None,
) -> list[PlannedAction]:
    """Every action due on ``today`` and not in ``decided``, oldest step first (see the module doc)."""
    out: list[PlannedAction] = []
    active = [r for r in rules if r.enabled]
    earliest = today - timedelta(days=catch_up_days)
    for account in accounts:
        for rule in active:
            account_skip = _account_skip(rule, account)
            for c in _candidates(rule, account, today):
                fire_on = c.anchor_date + timedelta(days=rule.offset_days)
                if not earliest <= fire_on <= today:
                    continue
                if rule.offset_days < 0 and today > c.anchor_date:
                    continue  # a reminder "before the due date" is pointless once it has passed
                key = decision_key(rule.key, c.target, c.anchor_date)
                if key in decided:
                    continue
                address, no_address = _recipient(rule, account)
                reason = account_skip or c.skip or no_address
                if reason is None and rule.action is Action.MESSAGE:
                    reason = closed_reason(rule.channel, today, uf=account.uf, phone=account.mobile)
                if reason is not None:
                    if on_skip is not None:
                        on_skip(Skip(rule, account.customer_id, c.target, reason))
                    continue
                out.append(
                    PlannedAction(key, rule, account, c.target, c.anchor_date, fire_on, c.amount, address,
                                  c.debt, c.installment_number)
                )
    out.sort(key=lambda a: (a.fire_on, a.rule.offset_days, a.customer_id, a.key))
    return out


@dataclass(frozen=True, slots=True)
class BrokenCommitment:
    """A promise or installment unpaid after its date plus the grace days."""

    key: str
    customer_id: int
    kind: str  # "promise" | "installment"
    id: int
    due_date: date


def broken_commitments(account: AccountFacts, today: date, grace_days: int) -> list[BrokenCommitment]:
    """What ``account`` failed to pay by ``date + grace_days`` (before ``today``)."""
    limit = today - timedelta(days=grace_days)
    out = [
        BrokenCommitment(decision_key(BROKEN_RULE_KEY, f"installment:{i.id}", i.due_date), account.customer_id,
                         "installment", i.id, i.due_date)
        for i in account.installments
        if i.open and i.left > 0 and i.due_date < limit
    ]
    out += [
        BrokenCommitment(decision_key(BROKEN_RULE_KEY, f"promise:{p.id}", p.due_date), account.customer_id,
                         "promise", p.id, p.due_date)
        for p in account.promises
        if p.pending and p.due_date < limit
    ]
    return out
