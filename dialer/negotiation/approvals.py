"""The live discount approval broker (alçada, SPEC §7, §8).

API (the agent websocket handler and the supervisor console call these)::

    broker = ApprovalBroker(sessions, ttl=timedelta(minutes=2))
    await broker.start()                       # picks up requests left pending by a previous run
    broker.subscribe(listener)                 # ApprovalListener: approval_opened / approval_resolved
    result = await broker.request_discount(
        agent_id=7, customer_id=42, campaign_id=3, call_id="ab12…", discount_pct=Decimal("20"),
        today=date.today(), on_result=lambda r: hub.push(7, ...),   # plain callable, must not block
        kind=OfferKind.CASH, installments=None,
    )
    view = await broker.decide(request_id, supervisor_id=2, approve=True, reason=None)
    broker.pending()                           # list[ApprovalView], oldest first (for snapshots)
    await broker.close()                       # cancels the expiry timers (it owns them)

What happens to a request for ``discount_pct`` (limits from :mod:`dialer.negotiation.offers`):

- within the agent's limit: granted at once;
- above the supervisor limit (or the bucket's cap): refused at once;
- in between: stored as pending, every listener (each online supervisor's console) gets
  ``approval_opened``; the first ``decide`` wins (a conditional UPDATE, so two supervisors
  answering together store one decision; the other gets :class:`AlreadyDecided`); every
  listener then gets ``approval_resolved``. A request nobody answers within ``ttl``
  expires: an expiry task per request, owned by the broker and cancelled on decision.

``on_result`` is called exactly once per request with the final :class:`ApprovalResult`
(at once for granted/refused, later for approved/refused/expired); the returned result
is the immediate one (``status == "pending"`` while a supervisor decides). Every request
and decision is stored (``approval_requests``) and audited (``audit_log``, entity
``approval_request``). A supervisor may approve only up to their own ``discount_limit_pct``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialer.clocks import Clock, system_clock
from dialer.negotiation.errors import (
    AlreadyDecided,
    NegotiationError,
    NotAllowed,
    UnknownRequest,
)
from dialer.negotiation.offers import load_context, offer_view, quote_offers
from scripting.money import format_percent_br
from scripting.offers import OfferKind
from scripting.policy import Authority
from storage.models import ApprovalRequest, ApprovalStatus, Role, User, WebSession
from storage.repositories import audit
from storage.repositories.negotiation import (
    add_approval_request,
    decide_approval_request,
    get_approval_request,
    pending_approval_requests,
)

log = logging.getLogger(__name__)

DEFAULT_TTL = timedelta(minutes=2)
ENTITY = "approval_request"


@dataclass(frozen=True, slots=True)
class ApprovalView:
    """A request as the supervisor console shows it."""

    id: int
    status: str
    agent_id: int
    agent_name: str
    customer_id: int
    customer_first_name: str
    call_id: str | None
    requested_pct: Decimal
    agent_limit_pct: Decimal
    supervisor_limit_pct: Decimal
    offer: dict[str, Any]  # ``offers.offer_view`` of the proposal at the requested discount
    created_at: datetime
    expires_at: datetime
    decided_by_id: int | None = None
    decided_by_name: str | None = None
    decided_at: datetime | None = None
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "agent_id": self.agent_id,
            "agent_name": self.agent_name,
            "customer_id": self.customer_id,
            "customer_first_name": self.customer_first_name,
            "call_id": self.call_id,
            "requested_pct": str(self.requested_pct),
            "agent_limit_pct": str(self.agent_limit_pct),
            "supervisor_limit_pct": str(self.supervisor_limit_pct),
            "requested_text": format_percent_br(self.requested_pct),
            "agent_limit_text": format_percent_br(self.agent_limit_pct),
            "supervisor_limit_text": format_percent_br(self.supervisor_limit_pct),
            "offer": self.offer,
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "decided_by_id": self.decided_by_id,
            "decided_by_name": self.decided_by_name,
            "decided_at": None if self.decided_at is None else self.decided_at.isoformat(),
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class ApprovalResult:
    """What the agent learns: ``granted`` (own limit), ``pending``, ``approved``, ``refused`` or ``expired``."""

    request_id: int
    status: str
    call_id: str | None
    discount_pct: Decimal
    message: str  # pt-BR, for the agent's screen
    decided_by_name: str | None = None

    @property
    def allowed(self) -> bool:
        return self.status in ("granted", "approved")

    def as_dict(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "status": self.status,
            "call_id": self.call_id,
            "discount_pct": str(self.discount_pct),
            "allowed": self.allowed,
            "message": self.message,
            "decided_by_name": self.decided_by_name,
        }


ResultCallback = Callable[[ApprovalResult], None]


class ApprovalListener(Protocol):
    """Implemented by the supervisor console hub; both methods only enqueue and return."""

    def approval_opened(self, view: ApprovalView) -> None: ...

    def approval_resolved(self, view: ApprovalView) -> None: ...


@dataclass
class _Pending:
    view: ApprovalView
    on_result: ResultCallback | None
    timer: asyncio.Task[None] | None = field(default=None, repr=False)


class ApprovalBroker:
    """Holds the pending requests of this process, fans them out to supervisors and times them out."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        ttl: timedelta = DEFAULT_TTL,
        clock: Clock = system_clock,
    ) -> None:
        self._sessions = sessions
        self._ttl = ttl
        self._clock = clock
        self._pending: dict[int, _Pending] = {}
        self._listeners: list[ApprovalListener] = []
        self._lock = asyncio.Lock()
        self._closed = False

    # ------------------------------------------------------------------ listeners

    def subscribe(self, listener: ApprovalListener) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: ApprovalListener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def pending(self) -> list[ApprovalView]:
        return sorted((p.view for p in self._pending.values()), key=lambda v: (v.created_at, v.id))

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Expire requests left pending past their time by an earlier run; watch the others again."""
        now = self._clock()
        async with self._sessions() as db:
            rows = await pending_approval_requests(db)
            names = await _names(db, {r.agent_id for r in rows})
            views = [_view(r, names.get(r.agent_id, "?"), str(r.offer.get("customer_first_name", ""))) for r in rows]
        for view in views:
            self._pending[view.id] = _Pending(view, None)
            if view.expires_at <= now:
                await self._expire(view.id)
            else:
                self._arm(view.id, (view.expires_at - now).total_seconds())

    async def close(self) -> None:
        """Cancel every expiry timer (the requests stay pending in the database for the next run)."""
        self._closed = True
        timers = [p.timer for p in self._pending.values() if p.timer is not None]
        for timer in timers:
            timer.cancel()
        await asyncio.gather(*timers, return_exceptions=True)
        self._pending.clear()

    # ------------------------------------------------------------------ the agent asks

    async def request_discount(
        self,
        *,
        agent_id: int,
        customer_id: int,
        campaign_id: int | None,
        call_id: str | None,
        discount_pct: Decimal,
        today: date,
        on_result: ResultCallback | None = None,
        kind: OfferKind | str = OfferKind.CASH,
        installments: int | None = None,
    ) -> ApprovalResult:
        """Ask for ``discount_pct`` on the customer's debt (see the module doc for what follows)."""
        if self._closed:
            raise NegotiationError("o serviço de aprovação está encerrado", code="unavailable")
        if any(p.view.agent_id == agent_id and p.view.status == "pending" for p in self._pending.values()):
            raise NegotiationError(
                "já existe um pedido de aprovação seu aguardando o supervisor", field="discount_pct", code="already_pending"
            )
        now = self._clock()
        async with self._sessions() as db:
            ctx = await load_context(db, customer_id=customer_id, campaign_id=campaign_id, agent_id=agent_id)
            base = quote_offers(ctx, today)
            limits = base.limits
            authority = limits.of(discount_pct) if discount_pct >= 0 else Authority.REFUSED
            offer: dict[str, Any] = {"customer_first_name": ctx.first_name}
            if authority is not Authority.REFUSED:
                quote = quote_offers(ctx, today, discount_pct=discount_pct)
                chosen = quote.find(kind, installments)
                offer.update(view=offer_view(chosen), calculation=quote.to_record(chosen))
            status = {
                Authority.WITHIN_AGENT: ApprovalStatus.APPROVED,
                Authority.NEEDS_SUPERVISOR: ApprovalStatus.PENDING,
                Authority.REFUSED: ApprovalStatus.REFUSED,
            }[authority]
            reason = {
                Authority.WITHIN_AGENT: "dentro da alçada do operador",
                Authority.NEEDS_SUPERVISOR: None,
                Authority.REFUSED: "acima do limite de aprovação",
            }[authority]
            row = await add_approval_request(
                db,
                attempt_id=call_id,
                customer_id=customer_id,
                campaign_id=campaign_id,
                agent_id=agent_id,
                requested_pct=discount_pct,
                agent_limit_pct=limits.agent_pct,
                supervisor_limit_pct=limits.supervisor_pct,
                offer=offer,
                created_at=now,
                expires_at=now + self._ttl,
                status=status,
                reason=reason,
            )
            if authority is Authority.WITHIN_AGENT:
                row.decided_by_id = agent_id
            action = {
                Authority.WITHIN_AGENT: "discount_granted",
                Authority.NEEDS_SUPERVISOR: "discount_requested",
                Authority.REFUSED: "discount_refused_above_limit",
            }[authority]
            await audit.record(
                db,
                user_id=agent_id,
                action=action,
                entity=ENTITY,
                entity_id=row.id,
                at=now,
                after={
                    "customer_id": customer_id,
                    "call_id": call_id,
                    "requested_pct": str(discount_pct),
                    "agent_limit_pct": str(limits.agent_pct),
                    "supervisor_limit_pct": str(limits.supervisor_pct),
                    "status": status.value,
                },
            )
            names = await _names(db, {agent_id})
            await db.commit()
        view = _view(row, names.get(agent_id, "?"), ctx.first_name)
        pct_text = format_percent_br(discount_pct)
        if authority is Authority.WITHIN_AGENT:
            result = ApprovalResult(row.id, "granted", call_id, discount_pct, f"Desconto de {pct_text} dentro da sua alçada.")
        elif authority is Authority.REFUSED:
            result = ApprovalResult(
                row.id,
                "refused",
                call_id,
                discount_pct,
                f"Desconto de {pct_text} acima do limite de aprovação ({format_percent_br(limits.supervisor_pct)}).",
            )
        else:
            self._pending[row.id] = _Pending(view, on_result)
            self._arm(row.id, self._ttl.total_seconds())
            self._tell(lambda listener: listener.approval_opened(view))
            return ApprovalResult(row.id, "pending", call_id, discount_pct, f"Pedido de {pct_text} enviado ao supervisor.")
        _call(on_result, result)
        return result

    # ------------------------------------------------------------------ a supervisor answers

    async def decide(
        self,
        request_id: int,
        *,
        supervisor_id: int,
        approve: bool,
        reason: str | None = None,
        session_hash: str | None = None,
    ) -> ApprovalView:
        """Approve or refuse a pending request; AlreadyDecided if another decision came first.

        Refused (NotAllowed, code ``session_revoked``) for a disabled supervisor and, when
        ``session_hash`` names the login session the decision comes through, for a session
        that ended or expired: checked in the decision's own transaction, so a supervisor
        disabled a moment earlier (from any process) decides nothing."""
        now = self._clock()
        reason = (reason or "").strip()[:500] or None
        async with self._sessions() as db:
            try:
                row = await get_approval_request(db, request_id)
            except LookupError:
                raise UnknownRequest(f"pedido {request_id} não existe", field="request_id") from None
            supervisor = await db.get(User, supervisor_id)
            if supervisor is None or supervisor.role not in (Role.SUPERVISOR, Role.ADMIN):
                raise NotAllowed("só supervisores decidem pedidos de desconto", field="request_id")
            if not supervisor.active:
                raise NotAllowed("seu acesso foi desativado: a decisão não foi registrada", code="session_revoked")
            if session_hash is not None and not await _session_open(db, session_hash, supervisor_id, now):
                raise NotAllowed("sua sessão foi encerrada: entre de novo para decidir", code="session_revoked")
            if row.status is not ApprovalStatus.PENDING:
                raise AlreadyDecided(_already(row.status), field="request_id")
            if approve and supervisor.discount_limit_pct is not None and row.requested_pct > supervisor.discount_limit_pct:
                raise NotAllowed(
                    f"o desconto pedido ({format_percent_br(row.requested_pct)}) passa do seu limite "
                    f"({format_percent_br(supervisor.discount_limit_pct)})",
                    field="request_id",
                )
            status = ApprovalStatus.APPROVED if approve else ApprovalStatus.REFUSED
            won = await decide_approval_request(
                db, request_id, status=status, decided_by_id=supervisor_id, at=now, reason=reason
            )
            if not won:
                await db.rollback()
                fresh = await get_approval_request(db, request_id)
                raise AlreadyDecided(_already(fresh.status), field="request_id")
            await audit.record(
                db,
                user_id=supervisor_id,
                action="discount_approved" if approve else "discount_refused",
                entity=ENTITY,
                entity_id=request_id,
                at=now,
                before={"status": ApprovalStatus.PENDING.value},
                after={"status": status.value, "requested_pct": str(row.requested_pct), "reason": reason},
            )
            await db.commit()
            row = await get_approval_request(db, request_id)
            names = await _names(db, {row.agent_id})
        first_name = str(row.offer.get("customer_first_name", ""))
        view = _view(row, names.get(row.agent_id, "?"), first_name, decided_by_name=supervisor.full_name)
        pct_text = format_percent_br(row.requested_pct)
        verdict = "aprovou" if approve else "recusou"
        # the supervisor's reason travels with the decision: the agent reads why, not only who
        message = f"{supervisor.full_name} {verdict} o desconto de {pct_text}." + (f" Motivo: {reason}" if reason else "")
        self._resolve(view, ApprovalResult(request_id, status.value, row.attempt_id, row.requested_pct, message, supervisor.full_name))
        return view

    async def expire_due(self) -> list[int]:
        """Expire every pending request of this process whose time ran out (the timers call this too)."""
        now = self._clock()
        due = [rid for rid, p in self._pending.items() if p.view.expires_at <= now]
        expired = []
        for rid in due:
            if await self._expire(rid):
                expired.append(rid)
        return expired

    # ------------------------------------------------------------------ internals

    def _arm(self, request_id: int, delay_s: float) -> None:
        pending = self._pending[request_id]
        pending.timer = asyncio.create_task(self._expire_later(request_id, delay_s), name=f"approval-expiry-{request_id}")

    async def _expire_later(self, request_id: int, delay_s: float) -> None:
        await asyncio.sleep(max(0.0, delay_s))
        try:
            await self._expire(request_id, from_timer=True)
        except Exception:  # a failed expiry must not vanish silently in a task nobody awaits
            log.exception("approval request %s: expiry failed", request_id)

    async def _expire(self, request_id: int, *, from_timer: bool = False) -> bool:
        async with self._lock:
            now = self._clock()
            async with self._sessions() as db:
                won = await decide_approval_request(
                    db, request_id, status=ApprovalStatus.EXPIRED, decided_by_id=None, at=now, reason="tempo esgotado"
                )
                if not won:
                    await db.rollback()
                    return False
                await audit.record(
                    db,
                    user_id=None,
                    action="discount_expired",
                    entity=ENTITY,
                    entity_id=request_id,
                    at=now,
                    before={"status": ApprovalStatus.PENDING.value},
                    after={"status": ApprovalStatus.EXPIRED.value},
                )
                await db.commit()
                row = await get_approval_request(db, request_id)
                names = await _names(db, {row.agent_id})
        view = _view(row, names.get(row.agent_id, "?"), str(row.offer.get("customer_first_name", "")))
        message = f"Nenhum supervisor respondeu a tempo; o desconto de {format_percent_br(row.requested_pct)} não foi aprovado."
        self._resolve(
            view, ApprovalResult(request_id, "expired", row.attempt_id, row.requested_pct, message), from_timer=from_timer
        )
        return True

    def _resolve(self, view: ApprovalView, result: ApprovalResult, *, from_timer: bool = False) -> None:
        pending = self._pending.pop(view.id, None)
        if pending is not None and pending.timer is not None and not from_timer:
            pending.timer.cancel()
        self._tell(lambda listener: listener.approval_resolved(view))
        if pending is not None:
            _call(pending.on_result, result)

    def _tell(self, send: Callable[[ApprovalListener], None]) -> None:
        for listener in list(self._listeners):
            try:
                send(listener)
            except Exception:  # one broken console must not keep the others from hearing
                log.exception("approval listener %r failed", listener)


def _call(callback: ResultCallback | None, result: ApprovalResult) -> None:
    if callback is None:
        return
    try:
        callback(result)
    except Exception:
        log.exception("approval result callback failed for request %s", result.request_id)


async def _session_open(db: AsyncSession, session_hash: str, user_id: int, now: datetime) -> bool:
    """Is the login session ``session_hash`` of ``user_id`` still there and unexpired?"""
    found = await db.scalar(
        select(WebSession.token_hash).where(
            WebSession.token_hash == session_hash, WebSession.user_id == user_id, WebSession.expires_at > now
        )
    )
    return found is not None


def _already(status: ApprovalStatus) -> str:
    return {
        ApprovalStatus.APPROVED: "este pedido já foi aprovado",
        ApprovalStatus.REFUSED: "este pedido já foi recusado",
        ApprovalStatus.EXPIRED: "este pedido expirou",
    }.get(status, "este pedido já foi decidido")


async def _names(db: AsyncSession, user_ids: set[int]) -> dict[int, str]:
    names = {}
    for uid in user_ids:
        user = await db.get(User, uid)
        if user is not None:
            names[uid] = user.full_name
    return names


def _view(row: ApprovalRequest, agent_name: str, first_name: str, *, decided_by_name: str | None = None) -> ApprovalView:
    return ApprovalView(
        id=row.id,
        status=ApprovalStatus(row.status).value,
        agent_id=row.agent_id,
        agent_name=agent_name,
        customer_id=row.customer_id,
        customer_first_name=first_name,
        call_id=row.attempt_id,
        requested_pct=row.requested_pct,
        agent_limit_pct=row.agent_limit_pct,
        supervisor_limit_pct=row.supervisor_limit_pct,
        offer=dict(row.offer.get("view") or {}),
        created_at=row.created_at,
        expires_at=row.expires_at,
        decided_by_id=row.decided_by_id,
        decided_by_name=decided_by_name,
        decided_at=row.decided_at,
        reason=row.reason,
    )


__all__ = [
    "DEFAULT_TTL",
    "AlreadyDecided",
    "ApprovalBroker",
    "ApprovalListener",
    "ApprovalResult",
    "ApprovalView",
    "ResultCallback",
]
