"""The agent desktop's routes: the page ``/agente`` and its websocket ``/ws/agente`` (SPEC §6).

Only the handler task receives from the socket; a :class:`~web.agent.hub.SocketLink` task
that the handler starts and ends does all the sending (SPEC §13). Requests run one at a
time, in the order the page sent them; whatever goes wrong becomes an ``error`` frame
(naming the field when there is one), never a dropped socket.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from dialer.agents.desktop import Disposition
from dialer.agents.state import InvalidTransition
from dialer.errors import DialerError
from storage.models import Role
from storage.repositories import audit
from web.agent.hub import AgentHub
from web.agent.messages import (
    MAX_MESSAGE_BYTES,
    BadMessage,
    ClientMessage,
    ConfirmIdentity,
    Dial,
    Dispose,
    Hangup,
    Hello,
    Logout,
    ScheduleCallback,
    SetState,
    parse_client_message,
)
from web.agent.views import OUTCOMES, PAUSE_LABEL, warm_calendars
from web.auth.access import requires
from web.auth.responses import render_page
from web.auth.websocket import authenticate_websocket
from web.keys import CURRENT_LOGIN, DB

if TYPE_CHECKING:  # the web layer drives it; importing it here is only for the types
    from dialer.runtime import DialerRuntime

log = logging.getLogger(__name__)

HEARTBEAT_S = 20.0
HELLO_TIMEOUT_S = 3.0
REQUEST_TIMEOUT_S = 15.0
SENDER_STOP_TIMEOUT_S = 3.0


@dataclass
class AgentDesk:
    """The hub, and the dialer once it runs (set by whoever starts it; None = not running)."""

    hub: AgentHub = field(default_factory=AgentHub)
    runtime: DialerRuntime | None = None
    sockets: set[web.WebSocketResponse] = field(default_factory=set)


AGENT_DESK: web.AppKey[AgentDesk] = web.AppKey("cobra.agent_desk", AgentDesk)


def _now() -> datetime:
    return datetime.now(timezone.utc)


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
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_S, max_msg_size=MAX_MESSAGE_BYTES)
    await ws.prepare(request)
    desk.sockets.add(ws)
    user_id = login.user_id
    hub = desk.hub

    first: ClientMessage | BadMessage | None = None
    try:
        msg = await ws.receive(timeout=HELLO_TIMEOUT_S)
    except TimeoutError:
        msg = None
    if msg is not None:
        if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
            desk.sockets.discard(ws)
            await ws.close()
            return ws
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
    )
    sender = asyncio.create_task(link.run(), name=f"agent-ws-sender-{user_id}")
    try:
        if first is not None and hello is None:
            await _handle(request, desk, user_id, first)
        async for msg in ws:
            if link.dead is not None:
                break
            await _handle(request, desk, user_id, _parse(msg))
    finally:
        hub.disconnect(link)
        desk.sockets.discard(ws)
        if not link.dead:
            link.cut("conexão encerrada")
        try:
            await asyncio.wait_for(sender, SENDER_STOP_TIMEOUT_S)
        except (TimeoutError, asyncio.CancelledError):
            sender.cancel()
        if not ws.closed:
            await ws.close()
    return ws


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
        hub.snapshot(user_id, runtime.status if runtime else None, runtime.current_pop if runtime else None)
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
        if field_name and message.startswith(f"{field_name}: "):
            message = message[len(field_name) + 2 :]
        hub.reject(user_id, code, message, field=field_name, ref=m.ref)
        return
    except TimeoutError:
        hub.reject(user_id, "timeout", "O discador demorou a responder; tente de novo.", ref=m.ref)
        return
    except Exception:
        log.exception("agent %s: %s failed", user_id, m.type)
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
    if isinstance(m, ConfirmIdentity):
        pop = runtime.current_pop(user_id)
        if pop is None or pop.call_id != m.call_id:
            raise _WrongCall("Esta não é a chamada que está na sua tela.")
        at = desk.hub.confirm_identity(user_id, pop, _now())
        await _store_confirmation(request, user_id, m.call_id, pop.customer.id, at)
        return {"call_id": m.call_id, "confirmed_at": at.isoformat()}
    if isinstance(m, Dispose):
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
        result = await runtime.dispose(user_id, d)
        return {
            "call_id": result.call_id,
            "outcome_id": result.outcome_id,
            "duplicate": result.duplicate,
            "next_attempt_at": result.next_attempt_at.isoformat() if result.next_attempt_at else None,
        }
    if isinstance(m, Hangup):
        await runtime.hangup(user_id, m.call_id)
        return {"call_id": m.call_id}
    if isinstance(m, Dial):
        await runtime.dial_preview(user_id, m.call_id)
        return {"call_id": m.call_id}
    if isinstance(m, ScheduleCallback):
        callback_id = await runtime.schedule_callback(user_id, m.customer_id, m.due_at, m.own, m.notes)
        return {"callback_id": callback_id}
    if isinstance(m, Logout):
        await runtime.logout(user_id)
        return {}
    raise AssertionError(f"unhandled message {m!r}")  # every ClientMessage type is handled above


class _WrongCall(DialerError):
    code = "wrong_call"


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
    for ws in list(app[AGENT_DESK].sockets):
        await ws.close(code=1001, message=b"servidor reiniciando")


async def _warm_up(app: web.Application) -> None:
    warm_calendars(_now())


def setup_agent(app: web.Application, desk: AgentDesk | None = None) -> AgentDesk:
    """Mount the agent desktop on ``app``; the returned desk takes the dialer runtime when it starts."""
    desk = desk if desk is not None else AgentDesk()
    app[AGENT_DESK] = desk
    app.router.add_get("/agente", agent_page, name="agent_home")
    app.router.add_get("/ws/agente", agent_socket, name="agent_socket")
    app.on_startup.append(_warm_up)
    app.on_shutdown.append(_close_sockets)
    return desk


__all__ = ["AGENT_DESK", "AgentDesk", "agent_page", "agent_socket", "setup_agent"]
