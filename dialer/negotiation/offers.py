"""Offers for the customer on the line: updated debt + offers from storage, campaign policy and authority.

API (what the agent websocket handler calls; ``db`` is an ``AsyncSession`` it owns)::

    ctx = await load_context(db, customer_id=..., campaign_id=..., agent_id=...)
    quote = quote_offers(ctx, today)                   # default: the agent's own limit
    quote = quote_offers(ctx, today, discount_pct=Decimal("25"), installment_counts=[3, 6])
    quote.offers           # tuple[scripting.offers.Offer]: cash first, then the plans
    quote.authority        # Authority.WITHIN_AGENT / NEEDS_SUPERVISOR / REFUSED for quote.discount_pct
    quote.view()           # JSON-ready dict for the page (pt-BR texts, money as strings)
    quote.to_record(offer) # the reproducible calculation to store with an agreement

    # or both steps at once:
    quote = await quote_for_customer(db, customer_id=..., campaign_id=..., agent_id=..., today=...)

How it is priced:

- every open contract of the customer is updated on its own (``scripting.debt.update_debt``
  from its balance and due date, with the campaign's charge terms) and the quote carries
  each itemised breakdown; the offers are priced on their sum;
- the policy bucket is the one of the oldest contract's days overdue, from the campaign's
  ``policy`` document (``scripting.policy.policy_from_mapping`` plus an optional ``terms``
  mapping of ``ChargeTerms`` fields); a campaign without one uses :data:`DEFAULT_POLICY`;
- authority (alçada): the supervisor limit is the highest ``discount_limit_pct`` of the
  active supervisors, capped by the bucket's cash discount cap; the agent's limit is their
  own ``discount_limit_pct`` (0 when unset), capped by the supervisor limit. Without a
  ``discount_pct`` the cash offer carries the agent's own limit.
- due dates skip weekends and national holidays plus those of the customer's state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.negotiation.errors import (
    NegotiationError,
    NoPolicy,
    NotAllowed,
    NothingToNegotiate,
)
from scripting.business_days import BusinessCalendar
from scripting.debt import (
    ChargeTerms,
    CorrectionIndex,
    DebtBreakdown,
    DebtError,
    FineBase,
    update_debt,
)
from scripting.figures import figures_of
from scripting.indices import IndexTable
from scripting.money import ZERO, format_brl, format_date_br, format_percent_br
from scripting.offers import Offer, OfferError, OfferKind, simulate_offers
from scripting.policy import (
    Authority,
    BucketPolicy,
    NegotiationPolicy,
    PolicyError,
    authorize,
    policy_from_mapping,
)
from scripting.promise import PromiseLimits
from storage.models import Campaign, Customer, Debt, DebtStatus, Role, User

#: Used when a campaign has no ``policy``: the six aging buckets of SPEC §4 (0 days = not yet overdue).
DEFAULT_POLICY: dict[str, Any] = {
    "campaign": "padrão",
    "buckets": [
        {"name": "1-30", "min_days": 0, "max_days": 30, "max_cash_discount_pct": "5", "min_down_payment_pct": "20",
         "max_installments": 3, "min_installment": "50.00", "first_due_max_days": 10},
        {"name": "31-60", "min_days": 31, "max_days": 60, "max_cash_discount_pct": "10", "min_down_payment_pct": "15",
         "max_installments": 6, "min_installment": "50.00", "first_due_max_days": 10},
        {"name": "61-90", "min_days": 61, "max_days": 90, "max_cash_discount_pct": "15", "min_down_payment_pct": "10",
         "max_installments": 6, "min_installment": "50.00", "first_due_max_days": 15},
        {"name": "91-180", "min_days": 91, "max_days": 180, "max_cash_discount_pct": "25", "min_down_payment_pct": "10",
         "max_installments": 10, "min_installment": "40.00", "first_due_max_days": 15},
        {"name": "181-360", "min_days": 181, "max_days": 360, "max_cash_discount_pct": "40", "min_down_payment_pct": "5",
         "max_installments": 12, "min_installment": "30.00", "first_due_max_days": 20},
        {"name": "360+", "min_days": 361, "max_days": None, "max_cash_discount_pct": "60", "min_down_payment_pct": "5",
         "max_installments": 18, "min_installment": "30.00", "first_due_max_days": 30},
    ],
}


@dataclass(frozen=True, slots=True)
class AuthorityLimits:
    """Percentages in percent units; ``agent_pct <= supervisor_pct <= bucket_cap_pct``."""

    agent_pct: Decimal
    supervisor_pct: Decimal
    bucket_cap_pct: Decimal

    def of(self, discount_pct: Decimal) -> Authority:
        return authorize(discount_pct, self.agent_pct, self.supervisor_pct)


@dataclass(frozen=True, slots=True)
class OpenDebt:
    debt_id: int
    contract: str
    creditor: str
    balance: Decimal
    due_date: date


@dataclass(frozen=True, slots=True)
class NegotiationContext:
    """Everything read from storage to price offers for one customer (pricing itself is pure)."""

    customer_id: int
    customer_name: str
    uf: str | None
    campaign_id: int | None
    agent_id: int
    debts: tuple[OpenDebt, ...]
    policy: NegotiationPolicy
    terms: ChargeTerms
    agent_limit_pct: Decimal | None
    supervisor_limit_pct: Decimal | None

    @property
    def first_name(self) -> str:
        parts = self.customer_name.split()
        return parts[0] if parts else self.customer_name


@dataclass(frozen=True, slots=True)
class ContractQuote:
    debt_id: int
    contract: str
    creditor: str
    breakdown: DebtBreakdown


@dataclass(frozen=True)
class NegotiationQuote:
    """Updated debt, policy bucket, limits and the offers for one customer on one day."""

    customer_id: int
    customer_first_name: str
    campaign_id: int | None
    agent_id: int
    computed_on: date
    contracts: tuple[ContractQuote, ...]
    debt: DebtBreakdown
    bucket: BucketPolicy
    limits: AuthorityLimits
    discount_pct: Decimal
    offers: tuple[Offer, ...]

    @property
    def authority(self) -> Authority:
        return self.limits.of(self.discount_pct)

    @property
    def cash(self) -> Offer:
        return self.offers[0]

    def find(self, kind: OfferKind | str, installments: int | None = None) -> Offer:
        """The offer of ``kind`` (and, for plans, that many regular installments)."""
        kind = OfferKind(kind)
        for offer in self.offers:
            if offer.kind is kind and (
                kind is OfferKind.CASH or installments is None or len(offer.regular_installments) == installments
            ):
                return offer
        what = "à vista" if kind is OfferKind.CASH else f"parcelado em {installments}x"
        raise NegotiationError(f"nenhuma oferta {what} é possível pela política", field="installments", code="no_such_offer")

    def promise_limits(self) -> PromiseLimits:
        """What a promise on this debt may be: the policy's minimum payment up to the updated balance,
        due within the policy's first-payment horizon."""
        return PromiseLimits.of(self.debt.total, self.bucket.min_installment, self.computed_on, self.bucket.first_due_max_days)

    def to_record(self, offer: Offer | None = None) -> dict[str, Any]:
        """The reproducible calculation: each contract's breakdown, the bucket, limits and (if given) the offer."""
        return {
            "computed_on": self.computed_on.isoformat(),
            "customer_id": self.customer_id,
            "campaign_id": self.campaign_id,
            "bucket": _bucket_record(self.bucket),
            "limits": {
                "agent_pct": str(self.limits.agent_pct),
                "supervisor_pct": str(self.limits.supervisor_pct),
                "bucket_cap_pct": str(self.limits.bucket_cap_pct),
            },
            "contracts": [
                {"debt_id": c.debt_id, "contract": c.contract, "creditor": c.creditor, "breakdown": c.breakdown.to_record()}
                for c in self.contracts
            ],
            "debt": self.debt.to_record(),
            "offer": None if offer is None else offer.to_record(),
        }

    def view(self) -> dict[str, Any]:
        """A JSON-ready view for the agent's offer calculator (pt-BR labels, money as ``"1234.56"`` strings)."""
        return {
            "customer_id": self.customer_id,
            "computed_on": self.computed_on.isoformat(),
            "bucket": self.bucket.name,
            "days_overdue": self.debt.days_overdue,
            "discount_pct": str(self.discount_pct),
            "authority": self.authority.value,
            "limits": {
                "agent_pct": str(self.limits.agent_pct),
                "supervisor_pct": str(self.limits.supervisor_pct),
                "bucket_cap_pct": str(self.limits.bucket_cap_pct),
            },
            "debt": {
                "total": str(self.debt.total),
                "total_text": format_brl(self.debt.total),
                "lines": [[label, str(value), format_brl(value)] for label, value in self.debt.lines()],
                "sentence": self.debt.as_sentence(),
                "figures": figures_of(self.debt).view(),
            },
            "contracts": [
                {"contract": c.contract, "creditor": c.creditor, "total": str(c.breakdown.total),
                 "lines": [[label, str(value), format_brl(value)] for label, value in c.breakdown.lines()],
                 "figures": figures_of(c.breakdown).view()}
                for c in self.contracts
            ],
            "promise": self.promise_limits().view(),
            "offers": [offer_view(o) for o in self.offers],
        }


def offer_view(offer: Offer) -> dict[str, Any]:
    """One offer for a page: kind, discount, total and each payment with pt-BR texts."""
    return {
        "kind": offer.kind.value,
        "installments_count": len(offer.regular_installments),
        "discount_pct": str(offer.discount_pct),
        "discount": str(offer.debt.discount),
        "total": str(offer.total_payable),
        "text": offer.describe(),
        "payments": [
            {"number": i.number, "due_on": i.due_on.isoformat(), "due_text": format_date_br(i.due_on),
             "amount": str(i.amount), "amount_text": format_brl(i.amount)}
            for i in offer.installments
        ],
    }


def _bucket_record(b: BucketPolicy) -> dict[str, Any]:
    return {
        "name": b.name,
        "min_days": b.min_days,
        "max_days": b.max_days,
        "max_cash_discount_pct": str(b.max_cash_discount_pct),
        "min_down_payment_pct": str(b.min_down_payment_pct),
        "max_installments": b.max_installments,
        "min_installment": str(b.min_installment),
        "first_due_max_days": b.first_due_max_days,
        "monthly_rate_pct": str(b.monthly_rate_pct),
        "installment_discount_pct": str(b.installment_discount_pct),
        "discount_base": b.discount_base.value,
    }


def terms_from_mapping(data: Mapping[str, Any] | None) -> ChargeTerms:
    """``ChargeTerms`` from a policy document's ``terms`` mapping (absent: the defaults)."""
    if data is None:
        return ChargeTerms()
    if not isinstance(data, Mapping):
        raise NoPolicy("precisa ser um mapeamento de encargos", field="policy.terms")
    allowed = {"index", "fine_pct", "fine_base", "interest_pct_month", "consumer"}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise NoPolicy(f"campo(s) desconhecido(s): {', '.join(unknown)}", field="policy.terms")
    values: dict[str, Any] = {}
    try:
        if "index" in data:
            values["index"] = CorrectionIndex(data["index"])
        if "fine_pct" in data:
            values["fine_pct"] = Decimal(str(data["fine_pct"]))
        if "fine_base" in data:
            values["fine_base"] = FineBase(data["fine_base"])
        if "interest_pct_month" in data:
            raw = data["interest_pct_month"]
            values["interest_pct_month"] = None if raw is None else Decimal(str(raw))
        if "consumer" in data:
            values["consumer"] = bool(data["consumer"])
        return ChargeTerms(**values)
    except (ValueError, InvalidOperation, DebtError) as exc:
        raise NoPolicy(f"valor inválido ({exc})", field="policy.terms") from None


def parse_campaign_policy(document: Mapping[str, Any] | None, campaign_name: str) -> tuple[NegotiationPolicy, ChargeTerms]:
    """The campaign's policy and charge terms (or :data:`DEFAULT_POLICY`), errors naming the field."""
    data = dict(DEFAULT_POLICY if document is None else document)
    data.setdefault("campaign", campaign_name)
    try:
        policy = policy_from_mapping(data)
    except PolicyError as exc:
        raise NoPolicy(f"política de negociação da campanha {campaign_name!r} inválida: {exc}", field="policy") from None
    return policy, terms_from_mapping(data.get("terms"))


async def load_context(
    session: AsyncSession, *, customer_id: int, campaign_id: int | None, agent_id: int
) -> NegotiationContext:
    """Read the customer's open debts, the campaign's policy and the authority limits."""
    customer = await session.get(Customer, customer_id)
    if customer is None:
        raise NothingToNegotiate(f"cliente {customer_id} não existe", field="customer_id")
    rows = await session.execute(
        select(Debt)
        .where(Debt.customer_id == customer_id, Debt.status == DebtStatus.OPEN, Debt.balance > 0)
        .order_by(Debt.due_date, Debt.contract)
    )
    debts = tuple(OpenDebt(d.id, d.contract, d.creditor, d.balance, d.due_date) for d in rows.scalars())
    document: Mapping[str, Any] | None = None
    name = "padrão"
    if campaign_id is not None:
        campaign = await session.get(Campaign, campaign_id)
        if campaign is None:
            raise NoPolicy(f"campanha {campaign_id} não existe", field="campaign_id")
        document, name = campaign.policy, campaign.name
    policy, terms = parse_campaign_policy(document, name)
    agent = await session.get(User, agent_id)
    if agent is None:
        raise NegotiationError(f"usuário {agent_id} não existe", field="agent_id", code="unknown_user")
    supervisor_max = (
        await session.execute(
            select(func.max(User.discount_limit_pct)).where(User.role == Role.SUPERVISOR, User.active.is_(True))
        )
    ).scalar()
    return NegotiationContext(
        customer_id=customer.id,
        customer_name=customer.name,
        uf=customer.uf,
        campaign_id=campaign_id,
        agent_id=agent_id,
        debts=debts,
        policy=policy,
        terms=terms,
        agent_limit_pct=agent.discount_limit_pct,
        supervisor_limit_pct=supervisor_max,
    )


def _calendar(uf: str | None) -> BusinessCalendar:
    if uf:
        try:
            return BusinessCalendar(subdiv=uf.upper())
        except NotImplementedError:  # an unknown state code: national holidays only
            pass
    return BusinessCalendar()


def combine(breakdowns: Sequence[DebtBreakdown]) -> DebtBreakdown:
    """The sum of several contracts' breakdowns as one (the oldest due date and its days overdue).

    Every item is the sum of already-rounded items, so the itemised lines still add up;
    the per-contract breakdowns stay in the quote for the record.
    """
    if len(breakdowns) == 1:
        return breakdowns[0]
    oldest = min(breakdowns, key=lambda b: b.due_on)
    return DebtBreakdown(
        principal=sum((b.principal for b in breakdowns), ZERO),
        due_on=oldest.due_on,
        computed_on=oldest.computed_on,
        terms=oldest.terms,
        correction_factor=oldest.correction_factor,
        factor_source=f"{len(breakdowns)} contratos somados" if oldest.factor_source != "none" else "none",
        days_overdue=oldest.days_overdue,
        correction=sum((b.correction for b in breakdowns), ZERO),
        fine_pct=oldest.fine_pct,
        fine=sum((b.fine for b in breakdowns), ZERO),
        interest=sum((b.interest for b in breakdowns), ZERO),
        interest_periods=oldest.interest_periods,
    )


def limits_for(ctx: NegotiationContext, bucket: BucketPolicy) -> AuthorityLimits:
    cap = bucket.max_cash_discount_pct
    supervisor = cap if ctx.supervisor_limit_pct is None else min(ctx.supervisor_limit_pct, cap)
    agent = min(ctx.agent_limit_pct or Decimal(0), supervisor)
    return AuthorityLimits(agent_pct=agent, supervisor_pct=supervisor, bucket_cap_pct=cap)


def quote_offers(
    ctx: NegotiationContext,
    today: date,
    *,
    discount_pct: Decimal | None = None,
    first_due: date | None = None,
    down_payment: Decimal | None = None,
    installment_counts: list[int] | None = None,
    indices: IndexTable | None = None,
    calendar: BusinessCalendar | None = None,
) -> NegotiationQuote:
    """Price the offers for ``ctx`` as of ``today`` (pure: no I/O).

    ``discount_pct`` above the agent's limit is priced too (to show what a supervisor would
    approve); above the supervisor limit it raises :class:`NotAllowed`.
    """
    if not ctx.debts:
        raise NothingToNegotiate("o cliente não tem contratos em aberto para negociar", field="customer_id")
    try:
        contracts = tuple(
            ContractQuote(d.debt_id, d.contract, d.creditor, update_debt(d.balance, d.due_date, today, ctx.terms, indices=indices))
            for d in ctx.debts
        )
    except DebtError as exc:
        raise NegotiationError(f"não foi possível atualizar o débito: {exc}", field="debts", code="debt_error") from None
    debt = combine([c.breakdown for c in contracts])
    try:
        bucket = ctx.policy.bucket_for(debt.days_overdue)
    except PolicyError as exc:
        raise NoPolicy(str(exc), field="policy") from None
    limits = limits_for(ctx, bucket)
    pct = limits.agent_pct if discount_pct is None else discount_pct
    if pct < 0:
        raise NotAllowed("o desconto não pode ser negativo", field="discount_pct")
    if limits.of(pct) is Authority.REFUSED:
        raise NotAllowed(
            f"desconto de {format_percent_br(pct)} acima do limite de aprovação ({format_percent_br(limits.supervisor_pct)})",
            field="discount_pct",
        )
    try:
        offers = simulate_offers(
            debt,
            bucket,
            today,
            business_calendar=calendar or _calendar(ctx.uf),
            discount_pct=pct,
            first_due=first_due,
            down_payment=down_payment,
            installment_counts=installment_counts,
        )
    except OfferError as exc:
        text = str(exc)
        field, _, _ = text.partition(":")
        raise NegotiationError(f"fora da política: {text}", field=field or None, code="outside_policy") from None
    return NegotiationQuote(
        customer_id=ctx.customer_id,
        customer_first_name=ctx.first_name,
        campaign_id=ctx.campaign_id,
        agent_id=ctx.agent_id,
        computed_on=today,
        contracts=contracts,
        debt=debt,
        bucket=bucket,
        limits=limits,
        discount_pct=pct,
        offers=tuple(offers),
    )


async def quote_for_customer(
    session: AsyncSession,
    *,
    customer_id: int,
    campaign_id: int | None,
    agent_id: int,
    today: date,
    **options: Any,
) -> NegotiationQuote:
    """:func:`load_context` then :func:`quote_offers` (``options`` as that takes)."""
    ctx = await load_context(session, customer_id=customer_id, campaign_id=campaign_id, agent_id=agent_id)
    return quote_offers(ctx, today, **options)


__all__ = [
    "DEFAULT_POLICY",
    "AuthorityLimits",
    "ContractQuote",
    "NegotiationContext",
    "NegotiationQuote",
    "OpenDebt",
    "combine",
    "limits_for",
    "load_context",
    "offer_view",
    "parse_campaign_policy",
    "quote_for_customer",
    "quote_offers",
    "terms_from_mapping",
]
