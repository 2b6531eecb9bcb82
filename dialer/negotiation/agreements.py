"""Storing what a negotiation ended in: ``ACORDO``, ``PROMESSA`` and the call's script run.

API (``db`` is an ``AsyncSession`` the caller owns and commits)::

    agreement = await close_agreement(
        db, call_id=..., customer_id=..., campaign_id=..., agent_id=..., today=..., at=now,
        kind=OfferKind.INSTALLMENTS, installments=6, discount_pct=None,      # None: the agent's limit
        first_due=None, down_payment=None, approval_id=None,                 # approval_id: above the limit
    )
    promise = await record_promise(db, call_id=..., customer_id=..., campaign_id=..., agent_id=...,
                                   amount=Decimal("150.00"), due_date=date(...), today=..., at=now)
    await record_script_run(db, call_id=..., agent_id=..., run=script_run)  # ScriptRun or its to_record()

The agreement is priced again on the server (the page's numbers are never trusted) from
the same inputs as the offer the agent showed; it is stored with its installment schedule,
its contracts (which move to ``in_agreement``) and the whole calculation
(``NegotiationQuote.to_record``), from which :func:`reproduce` rebuilds and checks it.
A discount above the agent's limit needs ``approval_id`` of a request approved for this
agent and customer at that discount or more. Calling again for the same call returns the
stored agreement/promise (retries are safe).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dialer.negotiation.errors import NegotiationError, NotAllowed
from dialer.negotiation.offers import NegotiationQuote, quote_for_customer
from scripting.debt import DebtBreakdown
from scripting.money import ZERO, format_brl, format_date_br, format_percent_br, to_cents
from scripting.offers import Offer, OfferKind
from scripting.policy import Authority
from scripting.run import ScriptRun
from storage.models import Agreement, ApprovalStatus, Promise, ScriptRunRecord
from storage.repositories import audit
from storage.repositories.negotiation import (
    DebtShare,
    InstallmentSpec,
    add_agreement,
    add_promise,
    agreement_of_attempt,
    get_approval_request,
    save_script_run,
)

MAX_PROMISE_DAYS = 60


async def close_agreement(
    session: AsyncSession,
    *,
    call_id: str | None,
    customer_id: int,
    campaign_id: int | None,
    agent_id: int,
    today: date,
    at: datetime,
    kind: OfferKind | str,
    installments: int | None = None,
    discount_pct: Decimal | None = None,
    first_due: date | None = None,
    down_payment: Decimal | None = None,
    approval_id: int | None = None,
) -> Agreement:
    """Price the chosen offer again and store it as the call's agreement."""
    if call_id is not None:
        existing = await agreement_of_attempt(session, call_id)
        if existing is not None:
            return existing
    kind = OfferKind(kind)
    quote = await quote_for_customer(
        session,
        customer_id=customer_id,
        campaign_id=campaign_id,
        agent_id=agent_id,
        today=today,
        discount_pct=discount_pct,
        first_due=first_due,
        down_payment=down_payment,
        installment_counts=None if kind is OfferKind.CASH or installments is None else [installments],
    )
    offer = quote.find(kind, installments)
    return await store_agreement(
        session, quote=quote, offer=offer, call_id=call_id, approval_id=approval_id, at=at
    )


async def store_agreement(
    session: AsyncSession,
    *,
    quote: NegotiationQuote,
    offer: Offer,
    call_id: str | None,
    approval_id: int | None,
    at: datetime,
) -> Agreement:
    """Store ``offer`` (one of ``quote.offers``) as an agreement, checking the agent's authority for its discount."""
    if offer not in quote.offers:
        raise NegotiationError("a oferta não pertence a este cálculo", field="offer", code="bad_offer")
    await _check_authority(session, quote, offer, approval_id)
    agreement, created = await add_agreement(
        session,
        customer_id=quote.customer_id,
        attempt_id=call_id,
        campaign_id=quote.campaign_id,
        agent_id=quote.agent_id,
        approval_id=approval_id,
        kind=offer.kind.value,
        discount_pct=offer.discount_pct,
        discount_amount=offer.debt.discount,
        debt_total=quote.debt.total,
        calculation=quote.to_record(offer),
        installments=[InstallmentSpec(i.number, i.due_on, i.amount) for i in offer.installments],
        debts=[DebtShare(c.debt_id, c.breakdown.total) for c in quote.contracts],
        created_at=at,
    )
    if created:
        await audit.record(
            session,
            user_id=quote.agent_id,
            action="agreement_created",
            entity="agreement",
            entity_id=agreement.id,
            at=at,
            after={
                "customer_id": quote.customer_id,
                "call_id": call_id,
                "kind": offer.kind.value,
                "discount_pct": str(offer.discount_pct),
                "total": str(offer.total_payable),
                "approval_id": approval_id,
            },
        )
    return agreement


async def _check_authority(session: AsyncSession, quote: NegotiationQuote, offer: Offer, approval_id: int | None) -> None:
    authority = quote.limits.of(offer.discount_pct)
    if authority is Authority.WITHIN_AGENT:
        return
    pct = format_percent_br(offer.discount_pct)
    if authority is Authority.REFUSED:
        raise NotAllowed(f"desconto de {pct} acima do limite de aprovação", field="discount_pct")
    if approval_id is None:
        raise NotAllowed(f"desconto de {pct} acima da sua alçada: peça aprovação ao supervisor", field="discount_pct")
    try:
        approval = await get_approval_request(session, approval_id)
    except LookupError:
        raise NotAllowed(f"aprovação {approval_id} não existe", field="approval_id") from None
    if (
        approval.status is not ApprovalStatus.APPROVED
        or approval.agent_id != quote.agent_id
        or approval.customer_id != quote.customer_id
        or approval.requested_pct < offer.discount_pct
    ):
        raise NotAllowed(f"a aprovação {approval_id} não cobre um desconto de {pct} para este cliente", field="approval_id")


def reproduce(calculation: Mapping[str, Any]) -> tuple[list[DebtBreakdown], Decimal]:
    """Rebuild a stored calculation: each contract's breakdown (checked to add up) and the offer's total.

    Raises ``DebtError``/``NegotiationError`` when the record no longer adds up.
    """
    contracts = [DebtBreakdown.from_record(c["breakdown"]) for c in calculation["contracts"]]
    combined = DebtBreakdown.from_record(calculation["debt"])
    gross = sum((b.gross_total for b in contracts), ZERO)
    if gross != combined.gross_total:
        raise NegotiationError(f"os contratos somam {gross}, o cálculo diz {combined.gross_total}", code="bad_record")
    offer = calculation.get("offer")
    if offer is None:
        return contracts, combined.total
    payments = sum((Decimal(i["amount"]) for i in offer["installments"]), ZERO)
    if payments != Decimal(offer["total_payable"]):
        raise NegotiationError(f"as parcelas somam {payments}, o total diz {offer['total_payable']}", code="bad_record")
    offered = DebtBreakdown.from_record(offer["debt"])
    if offered.gross_total != combined.gross_total:
        raise NegotiationError("a oferta foi calculada sobre outro débito", code="bad_record")
    return contracts, payments


async def record_promise(
    session: AsyncSession,
    *,
    call_id: str | None,
    customer_id: int,
    campaign_id: int | None,
    agent_id: int | None,
    amount: Decimal,
    due_date: date,
    today: date,
    at: datetime,
) -> Promise:
    """Store the customer's promise to pay ``amount`` by ``due_date`` (the payments import settles it)."""
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0 or to_cents(amount) != amount:
        raise NegotiationError(f"valor inválido {amount!r}: informe um valor em reais acima de zero", field="promise_amount")
    if due_date < today:
        raise NegotiationError(f"a data {format_date_br(due_date)} já passou", field="promise_date")
    if (due_date - today).days > MAX_PROMISE_DAYS:
        raise NegotiationError(
            f"a data {format_date_br(due_date)} passa de {MAX_PROMISE_DAYS} dias; registre um acordo", field="promise_date"
        )
    promise, created = await add_promise(
        session,
        customer_id=customer_id,
        attempt_id=call_id,
        campaign_id=campaign_id,
        agent_id=agent_id,
        amount=amount,
        due_date=due_date,
        created_at=at,
    )
    if created:
        await audit.record(
            session,
            user_id=agent_id,
            action="promise_created",
            entity="promise",
            entity_id=promise.id,
            at=at,
            after={"customer_id": customer_id, "call_id": call_id, "amount": str(amount), "due_date": due_date.isoformat(),
                   "text": f"{format_brl(amount)} até {format_date_br(due_date)}"},
        )
    return promise


async def record_script_run(
    session: AsyncSession, *, call_id: str, agent_id: int | None, run: ScriptRun | Mapping[str, Any]
) -> ScriptRunRecord:
    """Store (or update, as the call goes on) the call's script run."""
    record = run.to_record() if isinstance(run, ScriptRun) else dict(run)
    return await save_script_run(session, attempt_id=call_id, agent_id=agent_id, record=record)


__all__ = ["MAX_PROMISE_DAYS", "close_agreement", "record_promise", "record_script_run", "reproduce", "store_agreement"]
