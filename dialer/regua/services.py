"""The régua's runs over the database: preview a day, run a day (decisions + outbox), break missed commitments.

API::

    report = await run_day(sessions, day, settings, now=clock())   # idempotent: twice = once
    preview = await preview_day(sessions, day, settings, now=clock())

A run reads the portfolio a page of customers at a time, plans with
:func:`dialer.regua.planner.plan_day` (minus the keys already decided), and stores each
decision with its outbox message in the same transaction (short transactions of a few dozen
steps, so the run never keeps SQLite's one write lock long enough to fail a login or an agent's
result): a crash leaves either both or neither, and a key stored by a concurrent run only
costs that step. At most ``max_per_run`` steps are taken per run, oldest
first; the rest wait for the next run.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialer.regua.channels import not_before
from dialer.regua.defaults import DEFAULT_REGUA
from dialer.regua.facts import (
    AccountFacts,
    AgreementFacts,
    DebtFacts,
    InstallmentFacts,
    PromiseFacts,
)
from dialer.regua.links import new_nonce, survey_url
from dialer.regua.planner import (
    BROKEN_RULE_KEY,
    DEFAULT_CATCH_UP_DAYS,
    BrokenCommitment,
    PlannedAction,
    Skip,
    broken_commitments,
    plan_day,
)
from dialer.regua.pop import SUPERVISOR_SUFFIX
from dialer.regua.rules import Action, Anchor, Channel, Offer, Rule
from dialer.regua.templates import MessageContext, TemplateRenderError, render_message
from scripting.money import format_brl, format_date_br, format_percent_br, to_cents
from scripting.pix import PixError, build_pix_payload
from scripting.render import Empresa
from storage.models import DebtStatus, InstallmentStatus, PromiseStatus, ReguaDecision
from storage.repositories import audit, outbox
from storage.repositories import regua as repo

log = logging.getLogger(__name__)

BRASILIA_OFFSET = timedelta(hours=-3)
PAGE = 500
# A run's write transactions: this many steps each (a fraction of a second of the write lock),
# then a pause for the writers that waited meanwhile (see _in_short_transactions)
STEPS_PER_TRANSACTION = 50
WRITER_GAP_S = 0.12
BROKEN_REASON = "PROMESSA_QUEBRADA"
HANDOFF_REASON = "TERCEIRIZADO"


@dataclass(frozen=True, slots=True)
class PixSettings:
    key: str
    name: str
    city: str


@dataclass(frozen=True, slots=True)
class ReguaSettings:
    company: Empresa = field(default_factory=lambda: Empresa("Cobra", "0800 000 0000"))
    catch_up_days: int = DEFAULT_CATCH_UP_DAYS
    max_per_run: int = 5000
    grace_days: int = 3
    broken_boost: int = 10
    offer_standard_pct: Decimal = Decimal(10)
    offer_supervisor_pct: Decimal = Decimal(30)
    pix: PixSettings | None = None
    public_url: str = "http://127.0.0.1:8080"
    link_secret: str | None = None


def reason_of(rule: Rule) -> str:
    """The lead's last result a DIAL step leaves (≤ 20 chars): ``REGUA_D+5``, ``REGUA_D+30_SUP`` (supervisor offer)."""
    return f"REGUA_{rule.day_label}{SUPERVISOR_SUFFIX if rule.offer is Offer.SUPERVISOR else ''}"[:20]


async def current_rules(db: AsyncSession) -> list[Rule]:
    """The stored régua, or the default one when none was stored yet."""
    stored = await repo.load_rules(db)
    return [Rule.from_dict(d) for d in stored] if stored else list(DEFAULT_REGUA)


async def save_rules(db: AsyncSession, rules: Sequence[Rule], *, user_id: int | None, at: datetime) -> None:
    before = [r.as_dict() for r in await current_rules(db)]
    await repo.replace_rules(db, [r.as_dict() for r in rules], user_id=user_id, at=at)
    await audit.record(db, user_id=user_id, action="regua.rules", entity="regua", entity_id="rules", at=at,
                       before={"rules": before}, after={"rules": [r.as_dict() for r in rules]})


def _local_day(moment: datetime) -> date:
    return (moment + BRASILIA_OFFSET).date() if moment.tzinfo is not None else moment.date()


def to_facts(row: repo.AccountRow) -> AccountFacts:
    c = row.customer
    opted: set[Channel] = set()
    for channel in row.opted_out:
        try:
            opted.add(Channel(channel))
        except ValueError:
            continue
    return AccountFacts(
        customer_id=c.id,
        name=c.name,
        cpf=c.cpf,
        email=c.email or None,
        uf=c.uf,
        mobile=row.mobile,
        tags=frozenset(row.tags),
        campaigns=frozenset(row.campaigns),
        stopped=bool(c.deceased or c.dispute_pending or row.on_hold),
        outsourced=row.outsourced,
        opted_out=frozenset(opted),
        debts=tuple(
            DebtFacts(d.id, d.contract, d.creditor, d.balance, d.due_date, open=DebtStatus(d.status) is DebtStatus.OPEN,
                      in_agreement=covered or DebtStatus(d.status) is DebtStatus.IN_AGREEMENT)
            for d, covered in row.debts
        ),
        installments=tuple(
            InstallmentFacts(i.id, i.agreement_id, i.number, i.due_date, i.amount, i.paid_amount,
                             open=active and InstallmentStatus(i.status) is InstallmentStatus.OPEN)
            for i, active in row.installments
        ),
        agreements=tuple(
            AgreementFacts(a.id, _local_day(a.created_at), a.total, cancelled=a.status.value == "cancelled")
            for a in row.agreements
        ),
        promises=tuple(
            PromiseFacts(p.id, p.due_date, p.amount - p.paid_amount, pending=PromiseStatus(p.status) is PromiseStatus.PENDING)
            for p in row.promises
        ),
    )


async def _pages(sessions: async_sessionmaker[AsyncSession], now: datetime) -> AsyncIterator[list[AccountFacts]]:
    after = 0
    while True:
        async with sessions() as db:
            ids = await repo.customer_ids_page(db, after_id=after, limit=PAGE)
            if not ids:
                return
            rows = await repo.load_accounts(db, ids, now=now)
        yield [to_facts(r) for r in rows]
        after = ids[-1]


def _offered(rule: Rule, amount: Decimal, settings: ReguaSettings) -> tuple[Decimal, Decimal] | None:
    """(discount %, amount to pay) of the rule's offer on ``amount``; None without one."""
    if rule.offer is Offer.NONE or amount <= 0:
        return None
    pct = settings.offer_supervisor_pct if rule.offer is Offer.SUPERVISOR else settings.offer_standard_pct
    return pct, to_cents(amount * (Decimal(100) - pct) / Decimal(100))


def _pix_amount(action: PlannedAction, settings: ReguaSettings) -> Decimal:
    """What the message's Pix charges: the offered amount when the step makes an offer (a Pix for the
    whole balance would ask for more than the message promises), the installment's or debt's amount
    otherwise; nothing for a debt covered by an agreement (its installments' reminders carry the
    agreed amounts) or for an agreement-anchored step (the satisfaction survey)."""
    if action.rule.anchor is Anchor.AGREEMENT or (action.debt is not None and action.debt.in_agreement):
        return Decimal(0)
    offer = _offered(action.rule, action.amount, settings)
    return action.amount if offer is None else offer[1]


def _pix(settings: ReguaSettings, amount: Decimal, key: str) -> str:
    if settings.pix is None or amount <= 0:
        return ""
    try:
        txid = re.sub(r"[^A-Za-z0-9]", "", key)[-25:]
        return build_pix_payload(settings.pix.key, settings.pix.name, settings.pix.city, amount=to_cents(amount), txid=txid)
    except PixError:
        return ""


def message_context(action: PlannedAction, settings: ReguaSettings, *, link: str = "") -> MessageContext:
    rule, debt = action.rule, action.debt
    offer = _offered(rule, action.amount, settings)
    pix_amount = _pix_amount(action, settings)
    pix = _pix(settings, pix_amount, action.key)
    return MessageContext(
        nome=action.account.name,
        empresa=settings.company,
        valor=format_brl(action.amount),
        vencimento=format_date_br(action.anchor_date),
        dias_atraso=max(0, (action.fire_on - action.anchor_date).days),
        contrato="" if debt is None else debt.contract,
        credor="" if debt is None else debt.creditor,
        parcela="" if action.installment_number is None else str(action.installment_number),
        oferta="" if offer is None else f"Pagando à vista, você tem {format_percent_br(offer[0], 0)} de desconto.",
        valor_oferta="" if offer is None else format_brl(offer[1]),
        pix=pix,
        valor_pix=format_brl(pix_amount) if pix else "",
        link_avaliacao=link,
    )


@dataclass
class RunReport:
    day: date
    decided: int = 0
    messages: int = 0
    boosted: int = 0
    handed_off: int = 0
    broken: int = 0
    already: int = 0  # keys another run stored first
    left_for_next_run: int = 0
    errors: list[str] = field(default_factory=list)
    per_rule: Counter[str] = field(default_factory=Counter)
    boosted_customers: set[tuple[str, int]] = field(default_factory=set)

    def as_dict(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(), "decided": self.decided, "messages": self.messages, "boosted": self.boosted,
            "handed_off": self.handed_off, "broken": self.broken, "already": self.already,
            "left_for_next_run": self.left_for_next_run, "errors": self.errors[:20], "per_rule": dict(self.per_rule),
        }


def _decision(action: PlannedAction, day: date, now: datetime, detail: dict[str, Any]) -> ReguaDecision:
    return ReguaDecision(
        key=action.key, rule_key=action.rule.key, customer_id=action.customer_id, target=action.target,
        anchor_date=action.anchor_date, fire_on=action.fire_on, run_on=day, action=action.rule.action.value,
        channel=action.rule.channel.value, detail=detail, decided_at=now,
    )


async def _take(db: AsyncSession, action: PlannedAction, day: date, now: datetime, settings: ReguaSettings,
                report: RunReport) -> None:
    rule = action.rule
    detail: dict[str, Any] = {"amount": str(action.amount)}
    if rule.action is Action.MESSAGE:
        link = ""
        nonce = None
        if rule.anchor is Anchor.AGREEMENT:
            if not settings.link_secret:
                report.errors.append(f"{action.key}: sem [regua] link_secret, pesquisa não enviada")
                return
            if await repo.survey_for(db, int(action.target.split(":")[1])) is not None:
                return
            nonce = new_nonce()
            link = survey_url(settings.public_url, nonce, settings.link_secret)
        try:
            subject, body = render_message(rule.subject, rule.body, message_context(action, settings, link=link))
        except TemplateRenderError as exc:
            report.errors.append(f"{action.key}: {exc.message_pt}")
            return
        assert action.recipient is not None  # the planner only plans messages with an address
        due = not_before(rule.channel, now, uf=action.account.uf, phone=action.account.mobile) or now
        message = outbox.new_message(channel=rule.channel.value, recipient=action.recipient, subject=subject, body=body,
                                     not_before=due, customer_id=action.customer_id, created_at=now)
        detail["recipient"] = action.recipient
        if not await repo.record_decision(db, _decision(action, day, now, detail), [message]):
            report.already += 1
            return
        if nonce is not None:
            await repo.add_survey(db, agreement_id=int(action.target.split(":")[1]), customer_id=action.customer_id,
                                  nonce=nonce, at=now)
        report.messages += 1
    elif rule.action is Action.DIAL:
        detail["boost"] = rule.boost
        detail["offer"] = rule.offer.value
        if not await repo.record_decision(db, _decision(action, day, now, detail)):
            report.already += 1
            return
        # one boost per customer and step per run, however many of their contracts reached the step
        if (rule.key, action.customer_id) not in report.boosted_customers:
            report.boosted_customers.add((rule.key, action.customer_id))
            report.boosted += await repo.boost_customer_leads(db, action.customer_id, now=now, boost=rule.boost,
                                                              reason=reason_of(rule))
    else:
        detail["agency"] = rule.agency
        if not await repo.record_decision(db, _decision(action, day, now, detail)):
            report.already += 1
            return
        debt_id = None if action.debt is None else action.debt.id
        await repo.add_handoff(db, customer_id=action.customer_id, debt_id=debt_id, agency=rule.agency, at=now)
        await repo.stop_customer_leads(db, action.customer_id, now=now, reason=HANDOFF_REASON)
        report.handed_off += 1
    report.decided += 1
    report.per_rule[rule.key] += 1


async def _break(db: AsyncSession, broken: BrokenCommitment, day: date, now: datetime, settings: ReguaSettings,
                 report: RunReport) -> None:
    decision = ReguaDecision(
        key=broken.key, rule_key="quebra", customer_id=broken.customer_id, target=f"{broken.kind}:{broken.id}",
        anchor_date=broken.due_date, fire_on=day, run_on=day, action="dial", channel=Channel.CALL.value,
        detail={"kind": broken.kind, "boost": settings.broken_boost, "reason": BROKEN_REASON}, decided_at=now,
    )
    if not await repo.record_decision(db, decision):
        report.already += 1
        return
    if broken.kind == "promise":
        await repo.break_promise(db, broken.id, now=now)
    await repo.boost_customer_leads(db, broken.customer_id, now=now, boost=settings.broken_boost, reason=BROKEN_REASON)
    await audit.record(
        db, user_id=None, action=f"{broken.kind}_broken", entity=broken.kind, entity_id=broken.id, at=now,
        after={"due_date": broken.due_date.isoformat(), "grace_days": settings.grace_days,
               "lead_boost": settings.broken_boost, "reason": BROKEN_REASON, "source": "regua"},
    )
    report.broken += 1
    report.per_rule["quebra"] += 1


async def _in_short_transactions(
    sessions: async_sessionmaker[AsyncSession], steps: Sequence[Callable[[AsyncSession], Awaitable[None]]]
) -> None:
    """Run ``steps`` in transactions of at most :data:`STEPS_PER_TRANSACTION`, with a gap between them.

    SQLite has one writer at a time and the others wait ``busy_timeout`` for it: a run that
    kept its write lock for a whole page (seconds on a big portfolio) made a login or an
    agent's result wait past it and fail with 503. Each step keeps a decision and its outbox
    message in one transaction (both or neither); the gap after each commit is longer than
    SQLite's longest busy-handler sleep (100 ms), so a writer waiting for the lock takes it
    there instead of finding the run's next transaction already holding it.
    """
    for start in range(0, len(steps), STEPS_PER_TRANSACTION):
        if start:
            await asyncio.sleep(WRITER_GAP_S)
        async with sessions.begin() as db:
            for step in steps[start : start + STEPS_PER_TRANSACTION]:
                await step(db)


async def run_day(
    sessions: async_sessionmaker[AsyncSession], day: date, settings: ReguaSettings, *, now: datetime
) -> RunReport:
    """Take every step due on ``day`` not taken yet (at most ``max_per_run``); see the module doc."""
    report = RunReport(day)
    async with sessions() as db:
        rules = await current_rules(db)
        decided = await repo.decided_keys_since(db, day - timedelta(days=settings.catch_up_days + 1),
                                                always=BROKEN_RULE_KEY)
    budget = settings.max_per_run
    async for accounts in _pages(sessions, now):
        actions = plan_day(rules, accounts, day, decided=decided, catch_up_days=settings.catch_up_days)
        broken = [b for a in accounts for b in broken_commitments(a, day, settings.grace_days) if b.key not in decided]
        steps: list[Callable[[AsyncSession], Awaitable[None]]] = [
            partial(_break, broken=b, day=day, now=now, settings=settings, report=report) for b in broken
        ]
        for action in actions:
            if budget <= 0:
                report.left_for_next_run += 1
                continue
            budget -= 1
            steps.append(partial(_take, action=action, day=day, now=now, settings=settings, report=report))
        await _in_short_transactions(sessions, steps)
    async with sessions.begin() as db:
        await audit.record(db, user_id=None, action="regua.run", entity="regua", entity_id=day.isoformat(), at=now,
                           after=report.as_dict())
    log.info("régua %s: %s", day.isoformat(), report.as_dict())
    return report


@dataclass(frozen=True, slots=True)
class PreviewItem:
    rule: Rule
    customer_id: int
    name: str
    recipient: str | None
    target: str
    amount: Decimal
    fire_on: date


@dataclass
class Preview:
    day: date
    items: list[PreviewItem] = field(default_factory=list)
    skipped: Counter[tuple[str, str]] = field(default_factory=Counter)  # (rule key, reason) -> count
    rules: list[Rule] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts = {r.key: 0 for r in self.rules if r.enabled}
        for item in self.items:
            counts[item.rule.key] = counts.get(item.rule.key, 0) + 1
        return counts


async def preview_day(
    sessions: async_sessionmaker[AsyncSession], day: date, settings: ReguaSettings, *, now: datetime
) -> Preview:
    """What a run on ``day`` would do now (nothing is stored)."""
    async with sessions() as db:
        rules = await current_rules(db)
        decided = await repo.decided_keys_since(db, day - timedelta(days=settings.catch_up_days + 1))
    preview = Preview(day, rules=rules)

    def skipped(skip: Skip) -> None:
        preview.skipped[(skip.rule.key, skip.reason)] += 1

    async for accounts in _pages(sessions, now):
        for a in plan_day(rules, accounts, day, decided=decided, catch_up_days=settings.catch_up_days, on_skip=skipped):
            preview.items.append(PreviewItem(a.rule, a.customer_id, a.account.name, a.recipient, a.target, a.amount, a.fire_on))
    return preview
