"""The agent desktop's routes: the page ``/agente`` and its websocket ``/ws/agente`` (SPEC §6).

Only the handler task receives from the socket; a :class:`~web.agent.hub.SocketLink` task
that the handler starts and ends does all the sending (SPEC §13). Requests run one at a
time, in the order the page sent them; whatever goes wrong becomes an ``error`` frame
(naming the field when there is one), never a dropped socket.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.agents.desktop import Disposition, ScreenPop
from dialer.agents.state import AgentState, InvalidTransition
from dialer.clocks import Clock, system_clock
from dialer.errors import DialerError
from dialer.floor.identity import IdentityRefused
from dialer.floor.session import CallSession, ScriptBook
from dialer.leads.windows import is_callable_at, next_open_at
from dialer.negotiation.agreements import (
    close_agreement,
    record_promise,
    record_script_run,
)
from dialer.negotiation.approvals import ApprovalResult
from dialer.negotiation.errors import NegotiationError, NotAllowed
from dialer.negotiation.offers import quote_for_customer
from scripting.offers import OfferKind
from scripting.pix import PixError
from scripting.promise import PromiseRefused
from scripting.render import Empresa
from scripting.run import RunError
from storage.models import OutcomeCode, Role
from storage.repositories import audit
from storage.repositories.agent_day import load_agent_day
from web.agent.hub import AgentHub
from web.agent.messages import (
    MAX_MESSAGE_BYTES,
    ApprovalResultFrame,
    BadMessage,
    ClientMessage,
    Dial,
    Dispose,
    Hangup,
    Hello,
    IdentityFrame,
    Logout,
    OffersFrame,
    OverrideIdentity,
    PixCode,
    PixFrame,
    PixView,
    RequestApproval,
    ScheduleCallback,
    ScriptStep,
    SetState,
    SimulateOffer,
    VerifyIdentity,
    parse_client_message,
)
from web.agent.negotiation import COMPANY, PixReceiver, script_frame
from web.agent.views import (
    BRASILIA,
    OUTCOMES,
    PAUSE_LABEL,
    STATE_LABEL,
    br_datetime,
    identity_view,
    my_day_frame,
    warm_calendars,
)
from web.auth.access import requires
from web.auth.responses import render_page
from web.auth.revocation import CLOSE_REVOKED
from web.auth.websocket import authenticate_websocket
from web.keys import CURRENT_LOGIN, DB, DB_READ, SESSION_GUARD
from web.socket_lifecycle import close_going_away, first_message, release_socket

if TYPE_CHECKING:  # the web layer drives it; importing it here is only for the types
    from dialer.runtime import DialerRuntime

log = logging.getLogger(__name__)

HEARTBEAT_S = 20.0
HELLO_TIMEOUT_S = 3.0
REQUEST_TIMEOUT_S = 15.0
SENDER_STOP_TIMEOUT_S = 3.0
# No permessage-deflate on the agents' sockets, though every browser offers it: a socket that
# negotiates it holds a zlib compressor and decompressor for its whole life (~290 KB allocated,
# ~150 KB resident each), 75 MB of the service's RSS with 500 agents logged in and idle (SPEC §10
# P7, bench/memory.py). The frames are a few KB of JSON on the call center's own network.
AGENT_SOCKET_COMPRESS = False


@dataclass
class AgentDesk:
    """The hub, and the dialer once it runs (set by whoever starts it; None = not running)."""

    hub: AgentHub = field(default_factory=AgentHub)
    runtime: DialerRuntime | None = None
    sockets: set[web.WebSocketResponse] = field(default_factory=set)
    scripts: ScriptBook = field(default_factory=ScriptBook)  # which script each campaign runs (the dialer reads it)
    company: Empresa = COMPANY  # how scripts name the collection company
    pix: PixReceiver | None = None  # None: no Pix receiver configured, the page offers no Pix code
    clock: Clock = system_clock  # the service's one clock (the dialer's, when it runs)

    def start_script(self, user_id: int, agent_name: str, pop: ScreenPop) -> None:
        """The hub's ``on_pop``: send the current step of the call session's script run."""
        session = self.runtime.session_of(user_id, pop.call_id) if self.runtime is not None else None
        if session is not None:
            self.hub.push(user_id, IdentityFrame(call_id=pop.call_id, identity=identity_view(session.identity)))
            self.hub.push(user_id, script_frame(session, self.company))


AGENT_DESK: web.AppKey[AgentDesk] = web.AppKey("cobra.agent_desk", AgentDesk)


@requires(Role.AGENT)
async def agent_page(request: web.Request) -> web.Response:
    """``GET /agente``: the agent desktop."""
    login = request[CURRENT_LOGIN]
    if login is None:  # the middleware lets no anonymous request reach here
        raise web.HTTPUnauthorized()
    pauses = [(r.value, label) for r, label in PAUSE_LABEL.items()]
    outcomes = [(code.value, label, key) for code, label, key in OUTCOMES]
    return render_page(request, "agente.html", {"me": login, "pauses": pauses, "outcomes": outcomes})


@requires(Role.AGENT)
async def agent_socket(request: web.Request) -> web.WebSocketResponse:
    """``GET /ws/agente``: the agent's live channel (session cookie + Origin checked before the upgrade)."""
    login = await authenticate_websocket(request, roles=(Role.AGENT,))
    desk = request.app[AGENT_DESK]
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_S, max_msg_size=MAX_MESSAGE_BYTES, compress=AGENT_SOCKET_COMPRESS)
    await ws.prepare(request)
    desk.sockets.add(ws)
    user_id = login.user_id
    hub = desk.hub

    first: ClientMessage | BadMessage | None = None
    still_there, msg = await first_message(ws, HELLO_TIMEOUT_S)
    if not still_there:
        desk.sockets.discard(ws)
        return ws
    if msg is not None:
        first = _parse(msg)
    hello = first if isinstance(first, Hello) else None
    runtime = desk.runtime
    link = hub.connect(
        user_id,
        ws,
        name=login.full_name,
        extension=login.extension,
        last_seq=hello.last_seq if hello else None,
        epoch=hello.epoch if hello else None,
        status_of=runtime.status if runtime is not None else None,
        pop_of=runtime.current_pop if runtime is not None else None,
        confirmed_of=runtime.identity_confirmed_at if runtime is not None else None,
    )
    sender = asyncio.create_task(link.run(), name=f"agent-ws-sender-{user_id}")
    await _push_day(request, desk, user_id)
    guard = request.app[SESSION_GUARD]
    # the socket closes (1008, the reason on the page) as soon as the session ends
    watch = guard.watch(login, lambda reason: link.cut(reason, CLOSE_REVOKED))
    try:
        if first is not None and hello is None:
            await _handle(request, desk, user_id, first)
        async for msg in ws:
            parsed = _parse(msg)
            # every action re-checks the session (a disposition against the database): a revoked one carries nothing more
            if link.dead is not None or not await guard.allows(watch, fresh=isinstance(parsed, Dispose)):
                break
            await _handle(request, desk, user_id, parsed)
    finally:
        guard.unwatch(watch)
        hub.disconnect(link)
        desk.sockets.discard(ws)
        await release_socket(link, sender, ws, SENDER_STOP_TIMEOUT_S)
        if watch.revoked is not None:
            await _leave_dialer(desk, user_id)
    return ws


async def _leave_dialer(desk: AgentDesk, user_id: int) -> None:
    """A revoked agent with no other open page leaves the dialer, so no call is routed to nobody.

    The dialer refuses while a call or its wrap-up is open: that call ends as any call does."""
    runtime = desk.runtime
    if runtime is None or desk.hub.link_count(user_id) > 0:
        return
    try:
        await runtime.logout(user_id)
    except DialerError as exc:
        log.info("agent %s: session revoked but still in a call (%s); left in the dialer", user_id, exc)


def _parse(msg: Any) -> ClientMessage | BadMessage:
    if msg.type is WSMsgType.TEXT:
        try:
            return parse_client_message(msg.data)
        except BadMessage as exc:
            return exc
    if msg.type is WSMsgType.BINARY:
        return BadMessage(None, "mensagens binárias não são aceitas; envie JSON como texto")
    return BadMessage(None, f"mensagem inesperada ({msg.type.name})")


async def _handle(request: web.Request, desk: AgentDesk, user_id: int, m: ClientMessage | BadMessage) -> None:
    hub = desk.hub
    if isinstance(m, BadMessage):
        hub.reject(user_id, "bad_message", m.message, field=m.field, ref=m.ref)
        return
    runtime = desk.runtime
    if isinstance(m, Hello):
        # a hello mid-session: the page lost track; give it where it stands now
        hub.snapshot(
            user_id,
            runtime.status if runtime else None,
            runtime.current_pop if runtime else None,
            runtime.identity_confirmed_at if runtime else None,
        )
        return
    if runtime is None:
        hub.reject(user_id, "dialer_unavailable", "O discador não está em funcionamento.", ref=m.ref)
        return
    try:
        detail = await asyncio.wait_for(_carry_out(request, desk, runtime, user_id, m), REQUEST_TIMEOUT_S)
    except DialerError as exc:
        code = getattr(exc, "code", "not_allowed_now" if isinstance(exc, InvalidTransition) else "dialer_error")
        field_name = getattr(exc, "field", None)
        message = str(exc)
        if isinstance(exc, InvalidTransition):  # the state machine speaks English; the agent reads pt-BR
            message = f"Não é possível agora: você está em \"{STATE_LABEL[exc.state]}\"."
        if field_name and message.startswith(f"{field_name}: "):
            message = message[len(field_name) + 2 :]
        hub.reject(user_id, code, message, field=field_name, ref=m.ref)
        return
    except TimeoutError:
        hub.reject(user_id, "timeout", "O discador demorou a responder; tente de novo.", ref=m.ref)
        return
    except Exception:
        log.exception("agent %s: %s failed", user_id, m.type, extra={"agent_id": user_id, "call_id": getattr(m, "call_id", None)})
        hub.reject(user_id, "internal_error", "Erro interno; o pedido não foi concluído.", ref=m.ref)
        return
    hub.ack(user_id, m.ref, m.type, detail)


async def _carry_out(
    request: web.Request, desk: AgentDesk, runtime: DialerRuntime, user_id: int, m: ClientMessage
) -> dict[str, Any]:
    """Do what ``m`` asks; the ``ack`` frame's detail."""
    if isinstance(m, SetState):
        if m.state == "ready":
            await runtime.go_ready(user_id)
        else:
            assert m.reason is not None  # the message model insists
            await runtime.pause(user_id, m.reason)
        return {}
    if isinstance(m, VerifyIdentity):
        return await _verify_identity(request, desk, runtime, user_id, m)
    if isinstance(m, OverrideIdentity):
        return await _override_identity(request, desk, runtime, user_id, m)
    if isinstance(m, ScriptStep):
        neg = _negotiation(runtime, user_id, m.call_id)
        gate = None if neg.run.finished else next(
            (c for c in neg.run.current_step.choices if c.id == m.choice and c.confirms_identity), None
        )
        if gate is not None and neg.identity_confirmed_at is None:
            # only the system confirms who is on the line: a matching answer, or a release with a reason
            raise NotAllowed(
                "a identidade é conferida pelo sistema: digite a resposta da pessoa em \"Verificar identidade\"",
                field="choice",
            )
        try:
            choice = neg.run.choose(m.choice, desk.clock(), m.capture)
        except RunError as exc:
            raise NegotiationError(str(exc), field="choice", code="script_error") from None
        runtime.script_moved(user_id, m.call_id)  # a sensitive (card data) step mutes the recording
        desk.hub.push(user_id, script_frame(neg, desk.company))
        return {"call_id": m.call_id, "choice": choice.id, "step_id": None if neg.run.finished else neg.run.current_step.id,
                "outcome": neg.run.outcome}
    if isinstance(m, SimulateOffer):
        neg = _negotiation(runtime, user_id, m.call_id, identity=True)
        await _quote(request, desk, user_id, neg, m)
        desk.hub.push(user_id, script_frame(neg, desk.company))
        assert neg.quote is not None
        return {"call_id": m.call_id, "authority": neg.quote.authority.value}
    if isinstance(m, RequestApproval):
        neg = _negotiation(runtime, user_id, m.call_id, identity=True)
        return await _request_approval(request, desk, user_id, neg, m)
    if isinstance(m, PixCode):
        _negotiation(runtime, user_id, m.call_id, identity=True)
        pix = _pix(desk, m.amount, m.call_id)
        desk.hub.push(user_id, PixFrame(call_id=m.call_id, pix=pix))
        return {"call_id": m.call_id}
    if isinstance(m, Dispose):
        # the outcome, the agreement or promise and the script run: one transaction, owned by the dialer
        job = _negotiation_job(desk, runtime, user_id, m)
        d = Disposition(
            call_id=m.call_id,
            code=m.code.value,
            client_key=m.client_key,
            promise_amount=m.promise_amount,
            promise_date=m.promise_date,
            callback_at=m.callback_at,
            callback_own=m.callback_own,
            notes=m.notes,
            pause_after=m.pause_after,
        )
        # an agreement or a promise may still be refused while it is written (the agent fixes it in wrap-up);
        # any other outcome was checked in full above: the agent is free before the write commits
        ready_first = m.code not in (OutcomeCode.ACORDO, OutcomeCode.PROMESSA)
        result = await runtime.dispose(user_id, d, job, ready_first=ready_first)
        await _push_day(request, desk, user_id)  # the day's figures and callbacks moved
        return {
            "call_id": result.call_id,
            "outcome_id": result.outcome_id,
            "duplicate": result.duplicate,
            "next_attempt_at": result.next_attempt_at.isoformat() if result.next_attempt_at else None,
            **(result.stored or {}),
        }
    if isinstance(m, Hangup):
        await runtime.hangup(user_id, m.call_id)
        return {"call_id": m.call_id}
    if isinstance(m, Dial):
        await runtime.dial_preview(user_id, m.call_id)
        return {"call_id": m.call_id}
    if isinstance(m, ScheduleCallback):
        pop = runtime.current_pop(user_id)
        current = runtime.session_of(user_id, pop.call_id) if pop is not None else None
        if current is not None and current.customer_id == m.customer_id:
            _check_callback_window(current, m.due_at)  # the same rule as a RETORNAR disposition
        callback_id = await runtime.schedule_callback(user_id, m.customer_id, m.due_at, m.own, m.notes)
        await _push_day(request, desk, user_id)
        return {"callback_id": callback_id}
    if isinstance(m, Logout):
        await runtime.logout(user_id)
        return {}
    raise AssertionError(f"unhandled message {m!r}")  # every ClientMessage type is handled above


async def _push_day(request: web.Request, desk: AgentDesk, user_id: int) -> None:
    """Send the agent's own day (callbacks owed, today's contacts, promises, agreements)."""
    now = desk.clock()
    day_start = now.astimezone(BRASILIA).replace(hour=0, minute=0, second=0, microsecond=0)
    try:
        # a read session: a write session waits for SQLite's write lock (behind the dialer's writer
        # at 200 agents), holding a pooled connection and the agent's next message meanwhile (issue 10)
        async with request.app[DB_READ]() as db:
            day = await load_agent_day(db, user_id, day_start=day_start)
    except SQLAlchemyError:  # a busy database must not cost the agent their socket: the bar waits for the next one
        log.warning("agent %s: could not read their day", user_id, exc_info=True, extra={"agent_id": user_id})
        return
    desk.hub.push(user_id, my_day_frame(day, now))


class _WrongCall(DialerError):
    code = "wrong_call"


class _IdentityRefused(DialerError):
    code = "identity_refused"

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


async def _verify_identity(
    request: web.Request, desk: AgentDesk, runtime: DialerRuntime, user_id: int, m: VerifyIdentity
) -> dict[str, Any]:
    """Check one answer; every attempt is audited (method and result, never the answer); a match opens the debt."""
    try:
        neg, attempt = runtime.verify_identity(user_id, m.call_id, m.method, m.answer)
    except IdentityRefused as exc:
        raise _IdentityRefused(str(exc), exc.field) from None
    check = neg.identity
    if attempt.matched:
        message = "Identidade verificada: os dados conferem."
    elif check.attempts_left:
        message = f"Os dados não conferem. Restam {check.attempts_left} tentativa(s)."
    else:
        message = "Os dados não conferem e a verificação está bloqueada: não fale da dívida com esta pessoa."
    async with request.app[DB]() as db:
        await audit.record(
            db,
            user_id=user_id,
            action="identity_attempt",
            entity="call_attempt",
            entity_id=m.call_id,
            after={"customer_id": neg.customer_id, "method": attempt.method.value, "matched": attempt.matched,
                   "attempts_left": check.attempts_left, "status": check.status.value},
            at=attempt.at,
        )
        await db.commit()
    desk.hub.push(user_id, IdentityFrame(call_id=m.call_id, identity=identity_view(check, message)))
    confirmed = await _identity_released(request, desk, user_id, neg) if attempt.matched else None
    return {"call_id": m.call_id, "matched": attempt.matched, "attempts_left": check.attempts_left,
            "status": check.status.value, "confirmed_at": confirmed.isoformat() if confirmed else None}


async def _override_identity(
    request: web.Request, desk: AgentDesk, runtime: DialerRuntime, user_id: int, m: OverrideIdentity
) -> dict[str, Any]:
    """Release without a match: audited with the reason, and on the supervisors' floor view."""
    try:
        neg = runtime.override_identity(user_id, m.call_id, m.reason)
    except IdentityRefused as exc:
        raise _IdentityRefused(str(exc), exc.field) from None
    check = neg.identity
    async with request.app[DB]() as db:
        await audit.record(
            db,
            user_id=user_id,
            action="identity_override",
            entity="call_attempt",
            entity_id=m.call_id,
            after={"customer_id": neg.customer_id, "reason": check.override_reason,
                   "failed_attempts": check.failures},
            at=check.settled_at,
        )
        await db.commit()
    message = "Chamada liberada sem verificação; o supervisor foi avisado."
    desk.hub.push(user_id, IdentityFrame(call_id=m.call_id, identity=identity_view(check, message)))
    confirmed = await _identity_released(request, desk, user_id, neg)
    return {"call_id": m.call_id, "status": check.status.value, "confirmed_at": confirmed.isoformat()}


async def _identity_released(request: web.Request, desk: AgentDesk, user_id: int, neg: CallSession) -> datetime:
    """The identity gate opened: the full pop, the audit entry, then the offers and the script."""
    call_id = neg.call_id
    at = neg.identity_confirmed_at
    assert at is not None  # a match or an override sets it
    desk.hub.show_identity_confirmed(user_id, neg.pop, at)
    await _store_confirmation(request, user_id, call_id, neg.customer_id, at)
    try:
        await _quote(request, desk, user_id, neg, SimulateOffer(type="simulate_offer", call_id=call_id))
    except NegotiationError as exc:  # e.g. nothing open to negotiate: the script goes on without offers
        log.info("agent %s: no offers for call %s: %s", user_id, call_id, exc, extra={"agent_id": user_id, "call_id": call_id})
    desk.hub.push(user_id, script_frame(neg, desk.company))
    return at


def _today(desk: AgentDesk) -> date:
    return desk.clock().astimezone(BRASILIA).date()


def _negotiation(runtime: DialerRuntime, user_id: int, call_id: str, *, identity: bool = False) -> CallSession:
    """The call session of the agent's call ``call_id``; with ``identity``, only once the identity is confirmed."""
    neg = runtime.session_of(user_id, call_id)
    if neg is None:
        raise _WrongCall("Esta não é a chamada que está na sua tela.")
    if identity and neg.identity_confirmed_at is None:
        raise NotAllowed("confirme a identidade do cliente antes de tratar da dívida", field="call_id")
    return neg


def _pix(desk: AgentDesk, amount: Decimal, call_id: str) -> PixView:
    if desk.pix is None:
        raise NegotiationError("nenhuma chave Pix configurada para recebimento", code="pix_unavailable")
    try:
        return desk.pix.code(amount, call_id)
    except PixError as exc:
        raise NegotiationError(f"não foi possível gerar o Pix: {exc}", field="amount", code="pix_error") from None


async def _quote(request: web.Request, desk: AgentDesk, user_id: int, neg: CallSession, m: SimulateOffer) -> None:
    """Price the offers as ``m`` asks, keep the quote and send it (with a Pix for the first payment when possible).

    ``m.installments`` selects a plan among all the policy allows; it does not narrow the list.
    """
    async with request.app[DB]() as db:
        quote = await quote_for_customer(
            db,
            customer_id=neg.customer_id,
            campaign_id=neg.campaign_id,
            agent_id=user_id,
            today=_today(desk),
            discount_pct=m.discount_pct,
            first_due=m.first_due,
            down_payment=m.down_payment,
        )
    neg.quote = quote
    neg.selected = quote.find(OfferKind.INSTALLMENTS, m.installments) if m.installments else quote.cash
    pix = None
    if desk.pix is not None:
        try:
            pix = desk.pix.code(neg.selected.installments[0].amount, neg.call_id)
        except PixError as exc:
            log.warning(
                "agent %s: no Pix for call %s: %s", user_id, neg.call_id, exc,
                extra={"agent_id": user_id, "call_id": neg.call_id},
            )
    desk.hub.push(user_id, OffersFrame(call_id=neg.call_id, quote=quote.view(), pix=pix))


async def _request_approval(
    request: web.Request, desk: AgentDesk, user_id: int, neg: CallSession, m: RequestApproval
) -> dict[str, Any]:
    """Hand the request to the approval broker; the decision reaches the page as ``approval_result``."""
    from web.supervisor_console.http import APPROVALS  # the console owns the broker

    hub = desk.hub

    def tell(result: ApprovalResult) -> None:
        if result.allowed:
            neg.approvals[result.request_id] = result.discount_pct
        hub.push(user_id, _approval_frame(result))

    result = await request.app[APPROVALS].request_discount(
        agent_id=user_id,
        customer_id=neg.customer_id,
        campaign_id=neg.campaign_id,
        call_id=neg.call_id,
        discount_pct=m.discount_pct,
        today=_today(desk),
        on_result=tell,
        kind=OfferKind(m.kind),
        installments=m.installments,
    )
    if result.status == "pending":  # the final answer comes later, through ``tell``
        hub.push(user_id, _approval_frame(result))
    return result.as_dict()


def _approval_frame(result: ApprovalResult) -> ApprovalResultFrame:
    return ApprovalResultFrame(
        call_id=result.call_id,
        request_id=result.request_id,
        status=result.status,
        allowed=result.allowed,
        discount_pct=str(result.discount_pct),
        message=result.message,
        decided_by_name=result.decided_by_name,
    )


def _negotiation_job(
    desk: AgentDesk, runtime: DialerRuntime, user_id: int, m: Dispose
) -> Callable[[AsyncSession], Awaitable[dict[str, Any]]] | None:
    """What the disposition stores besides the outcome: the agreement (ACORDO) or promise (PROMESSA) and the script run.

    Checked now (a refusal names the field before anything is written); written by the
    dialer inside the disposition's own transaction. None when the agent is not in wrap-up
    on this call: a retry after the outcome is stored answers "duplicate" from the dialer.
    """
    neg = runtime.session_of(user_id, m.call_id)
    if runtime.status(user_id).state is not AgentState.WRAP_UP or neg is None:
        return None
    now = runtime.now()
    today = now.astimezone(BRASILIA).date()
    if m.code is OutcomeCode.ACORDO:
        if neg.identity_confirmed_at is None:
            raise NotAllowed("verifique a identidade do cliente antes de fechar o acordo", field="code")
    elif m.code is OutcomeCode.PROMESSA:
        if neg.identity_confirmed_at is None:
            raise NotAllowed("verifique a identidade do cliente antes de registrar a promessa", field="code")
        if m.promise_amount is None:
            raise NegotiationError("informe o valor prometido", field="promise_amount")
        if m.promise_date is None:
            raise NegotiationError("informe a data prometida", field="promise_date")
        if neg.quote is not None:  # no quote (nothing priced for this customer): the dialer's own checks only
            try:
                neg.quote.promise_limits().check(m.promise_amount, m.promise_date)
            except PromiseRefused as exc:
                raise NegotiationError(str(exc), field=exc.field, code="promise_refused") from None
    elif m.code is OutcomeCode.RETORNAR and m.callback_at is not None:
        _check_callback_window(neg, m.callback_at)

    async def store(db: AsyncSession) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if m.code is OutcomeCode.ACORDO:
            terms = m.agreement
            assert terms is not None  # the message model insists
            approval_id = terms.approval_id
            if approval_id is None and terms.discount_pct is not None:
                approval_id = neg.approval_for(terms.discount_pct)
            agreement = await close_agreement(
                db,
                call_id=m.call_id,
                customer_id=neg.customer_id,
                campaign_id=neg.campaign_id,
                agent_id=user_id,
                today=today,
                at=now,
                kind=OfferKind(terms.kind),
                installments=terms.installments,
                discount_pct=terms.discount_pct,
                first_due=terms.first_due,
                down_payment=terms.down_payment,
                approval_id=approval_id,
            )
            out["agreement_id"] = agreement.id
        elif m.code is OutcomeCode.PROMESSA:
            assert m.promise_amount is not None and m.promise_date is not None  # checked above
            promise = await record_promise(
                db,
                call_id=m.call_id,
                customer_id=neg.customer_id,
                campaign_id=neg.campaign_id,
                agent_id=user_id,
                amount=m.promise_amount,
                due_date=m.promise_date,
                today=today,
                at=now,
            )
            out["promise_id"] = promise.id
        record = await record_script_run(db, call_id=m.call_id, agent_id=user_id, run=neg.run)
        out["script_run_id"] = record.id
        return out

    return store


def _check_callback_window(neg: CallSession, at: datetime) -> None:
    """A callback must fall inside the customer's calling window (hours, weekdays, holidays at the callee)."""
    pop = neg.pop
    try:
        decision = is_callable_at(at, pop.phone_e164, pop.customer.uf)
    except ValueError:
        return  # a number or UF our tables do not know: the dialer's window check decides when it dials
    if decision.allowed:
        return
    nxt = next_open_at(at, pop.phone_e164, pop.customer.uf)
    offer = f" Próximo horário permitido: {br_datetime(nxt)} (Brasília)." if nxt is not None else ""
    raise NegotiationError(
        f"retorno fora da janela de ligação do cliente: {decision.message_pt}{offer}",
        field="callback_at", code="outside_window",
    )


async def _store_confirmation(request: web.Request, user_id: int, call_id: str, customer_id: int, at: datetime) -> None:
    """Kept in the audit log: QA checks that no debt was disclosed before this instant (SPEC §8)."""
    async with request.app[DB]() as db:
        await audit.record(
            db,
            user_id=user_id,
            action="identity_confirmed",
            entity="call_attempt",
            entity_id=call_id,
            after={"customer_id": customer_id, "confirmed_at": at.isoformat()},
            at=at,
        )
        await db.commit()


async def _close_sockets(app: web.Application) -> None:
    # on shutdown: tell pages to reconnect (they resume against the next run)
    await close_going_away(app[AGENT_DESK].sockets)


async def _warm_up(app: web.Application) -> None:
    warm_calendars(app[AGENT_DESK].clock())


def setup_agent(app: web.Application, desk: AgentDesk | None = None) -> AgentDesk:
    """Mount the agent desktop on ``app``; the returned desk takes the dialer runtime when it starts."""
    desk = desk if desk is not None else AgentDesk()
    app[AGENT_DESK] = desk
    desk.hub.on_pop = desk.start_script
    app.router.add_get("/agente", agent_page, name="agent_home")
    app.router.add_get("/ws/agente", agent_socket, name="agent_socket")
    app.on_startup.append(_warm_up)
    app.on_shutdown.append(_close_sockets)
    return desk


__all__ = ["AGENT_DESK", "AgentDesk", "agent_page", "agent_socket", "setup_agent"]
