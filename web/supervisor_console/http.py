"""The supervisor console: the page ``/supervisor`` and its websocket ``/ws/supervisor`` (SPEC §7, §8).

The page is the wallboard (agents and campaigns live, from ``floor`` frames; see
:mod:`web.supervisor_console.feed`), with campaign buttons and listen / whisper / barge
calling the REST API (:mod:`web.supervisor_console.api`, :mod:`web.campaigns.http`,
:mod:`web.pacing.http`), beside the pending discount requests (agent, customer's first
name, discount asked, the agent's and the approval limits, the offer) with
"Aprovar"/"Recusar". The socket speaks JSON:

- supervisor → server: ``{"type": "hello", "last_seq": N, "epoch": "…"}`` first (resume),
  ``{"type": "decide", "ref": "r1", "request_id": 12, "decision": "approve"|"refuse", "reason": "…"}``;
- server → supervisor: see :mod:`web.supervisor_console.hub`.

:func:`setup_supervisor_console` also builds the :class:`ApprovalBroker` the agent desktop
uses (``request.app[APPROVALS]``) and owns its life: started with the app, closed on cleanup.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from aiohttp import WSMsgType, web
from sqlalchemy.exc import SQLAlchemyError

from dialer.negotiation.approvals import DEFAULT_TTL, ApprovalBroker
from dialer.negotiation.errors import NegotiationError
from storage.models import Role
from web.agent.http import AGENT_DESK
from web.auth.access import requires
from web.auth.responses import render_page
from web.auth.revocation import CLOSE_REVOKED, Watch
from web.auth.websocket import authenticate_websocket
from web.keys import CLOCK, CURRENT_LOGIN, DB, SESSION_GUARD
from web.socket_lifecycle import close_going_away, first_message, release_socket
from web.supervisor_console.api import setup_floor_api
from web.supervisor_console.feed import FloorFeed, floor_feed_context
from web.supervisor_console.hub import SupervisorHub
from web.supervisor_console.results import TodayResults
from web.supervisor_console.services import FloorSource, LoginNames, alert_thresholds

log = logging.getLogger(__name__)

HEARTBEAT_S = 20.0
HELLO_TIMEOUT_S = 3.0
REQUEST_TIMEOUT_S = 15.0
SENDER_STOP_TIMEOUT_S = 3.0
MAX_MESSAGE_BYTES = 4096
MAX_REASON_CHARS = 500


@dataclass
class SupervisorConsole:
    hub: SupervisorHub
    broker: ApprovalBroker
    feed: FloorFeed
    sockets: set[web.WebSocketResponse] = field(default_factory=set)


SUPERVISOR_CONSOLE: web.AppKey[SupervisorConsole] = web.AppKey("cobra.supervisor_console", SupervisorConsole)
# The discount approval broker, for the agent desktop's ``request_approval`` handler
APPROVALS: web.AppKey[ApprovalBroker] = web.AppKey("cobra.approvals", ApprovalBroker)


@dataclass(frozen=True, slots=True)
class Decide:
    ref: str | None
    request_id: int
    approve: bool
    reason: str | None


@dataclass(frozen=True, slots=True)
class Hello:
    last_seq: int | None
    epoch: str | None


class BadMessage(Exception):
    def __init__(self, field: str | None, message: str, ref: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.ref = ref


def parse_message(text: str) -> Hello | Decide:
    """A client frame, or BadMessage naming the field that is wrong (pt-BR)."""
    try:
        data = json.loads(text)
    except ValueError:
        raise BadMessage(None, "mensagem não é JSON válido") from None
    if not isinstance(data, dict):
        raise BadMessage(None, "mensagem deve ser um objeto JSON")
    ref = data.get("ref")
    ref = str(ref)[:40] if ref is not None else None
    kind = data.get("type")
    if kind == "hello":
        last_seq, epoch = data.get("last_seq"), data.get("epoch")
        if last_seq is not None and (isinstance(last_seq, bool) or not isinstance(last_seq, int)):
            raise BadMessage("last_seq", "last_seq deve ser um número inteiro", ref)
        if epoch is not None and not isinstance(epoch, str):
            raise BadMessage("epoch", "epoch deve ser texto", ref)
        return Hello(last_seq, epoch)
    if kind == "decide":
        request_id = data.get("request_id")
        if isinstance(request_id, bool) or not isinstance(request_id, int) or request_id <= 0:
            raise BadMessage("request_id", "request_id deve ser o número do pedido", ref)
        decision = data.get("decision")
        if decision not in ("approve", "refuse"):
            raise BadMessage("decision", "decision deve ser 'approve' ou 'refuse'", ref)
        reason = data.get("reason")
        if reason is not None and not isinstance(reason, str):
            raise BadMessage("reason", "reason deve ser texto", ref)
        if reason is not None and len(reason) > MAX_REASON_CHARS:
            raise BadMessage("reason", f"o motivo pode ter no máximo {MAX_REASON_CHARS} caracteres", ref)
        return Decide(ref, request_id, decision == "approve", reason)
    raise BadMessage("type", f"tipo de mensagem desconhecido: {kind!r}", ref)


@requires(Role.SUPERVISOR, Role.ADMIN)
async def supervisor_page(request: web.Request) -> web.Response:
    """``GET /supervisor``: the supervisor console (wallboard and pending discount approvals, live)."""
    login = request[CURRENT_LOGIN]
    if login is None:  # the middleware lets no anonymous request reach here
        raise web.HTTPUnauthorized()
    return render_page(request, "supervisor_console.html", {"me": login, "alerts": alert_thresholds()})


@requires(Role.SUPERVISOR, Role.ADMIN)
async def supervisor_socket(request: web.Request) -> web.WebSocketResponse:
    """``GET /ws/supervisor``: the supervisor's live channel (session cookie + Origin checked)."""
    login = await authenticate_websocket(request, roles=(Role.SUPERVISOR, Role.ADMIN))
    console = request.app[SUPERVISOR_CONSOLE]
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_S, max_msg_size=MAX_MESSAGE_BYTES)
    await ws.prepare(request)
    console.sockets.add(ws)
    user_id = login.user_id
    hub = console.hub

    first: Hello | Decide | BadMessage | None = None
    still_there, msg = await first_message(ws, HELLO_TIMEOUT_S)
    if not still_there:
        console.sockets.discard(ws)
        return ws
    if msg is not None:
        first = _parse(msg)
    hello = first if isinstance(first, Hello) else None
    link = hub.connect(
        user_id,
        ws,
        name=login.full_name,
        last_seq=hello.last_seq if hello else None,
        epoch=hello.epoch if hello else None,
        pending=console.broker.pending,
    )
    # the wallboard as it is now (later frames only when it changes)
    hub.offer(link, "floor", await console.feed.view())
    sender = asyncio.create_task(link.run(), name=f"supervisor-ws-sender-{user_id}")
    guard = request.app[SESSION_GUARD]
    # the socket closes (1008, the reason on the page) as soon as the session ends
    watch = guard.watch(login, lambda reason: link.cut(reason, CLOSE_REVOKED))
    try:
        if first is not None and hello is None:
            await _handle(console, watch, first)
        async for msg in ws:
            parsed = _parse(msg)
            # every action re-checks the session (a decision against the database): a revoked one decides nothing
            if link.dead is not None or not await guard.allows(watch, fresh=isinstance(parsed, Decide)):
                break
            await _handle(console, watch, parsed)
    finally:
        guard.unwatch(watch)
        hub.disconnect(link)
        console.sockets.discard(ws)
        await release_socket(link, sender, ws, SENDER_STOP_TIMEOUT_S)
    return ws


def _parse(msg: Any) -> Hello | Decide | BadMessage:
    if msg.type is WSMsgType.TEXT:
        try:
            return parse_message(msg.data)
        except BadMessage as exc:
            return exc
    if msg.type is WSMsgType.BINARY:
        return BadMessage(None, "mensagens binárias não são aceitas; envie JSON como texto")
    return BadMessage(None, f"mensagem inesperada ({msg.type.name})")


async def _handle(console: SupervisorConsole, watch: Watch, m: Hello | Decide | BadMessage) -> None:
    hub = console.hub
    user_id = watch.user_id
    if isinstance(m, BadMessage):
        hub.reject(user_id, "bad_message", m.message, field=m.field, ref=m.ref)
        return
    if isinstance(m, Hello):
        hub.snapshot(user_id, console.broker.pending)
        return
    try:
        view = await asyncio.wait_for(
            console.broker.decide(
                m.request_id,
                supervisor_id=user_id,
                approve=m.approve,
                reason=m.reason,
                session_hash=watch.session_hash,
            ),
            REQUEST_TIMEOUT_S,
        )
    except NegotiationError as exc:
        hub.reject(user_id, exc.code, exc.message, field=exc.field, ref=m.ref)
        return
    except TimeoutError:
        hub.reject(user_id, "timeout", "O servidor demorou a responder; tente de novo.", ref=m.ref)
        return
    except Exception:
        log.exception("supervisor %s: decide %s failed", user_id, m.request_id)
        hub.reject(user_id, "internal_error", "Erro interno; a decisão não foi registrada.", ref=m.ref)
        return
    hub.ack(user_id, m.ref, "decide", {"request_id": view.id, "status": view.status})


async def _start_broker(app: web.Application) -> None:
    try:
        await app[SUPERVISOR_CONSOLE].broker.start()
    except SQLAlchemyError as exc:
        # an unmigrated database: there is nothing to pick up, and `cobra serve` refuses to run on it anyway
        log.warning("approval broker: pending requests not loaded (%s)", getattr(exc, "orig", None) or exc)


async def _close_broker(app: web.Application) -> None:
    await app[SUPERVISOR_CONSOLE].broker.close()


async def _close_sockets(app: web.Application) -> None:
    await close_going_away(app[SUPERVISOR_CONSOLE].sockets)


def setup_supervisor_console(
    app: web.Application, *, broker: ApprovalBroker | None = None, ttl: timedelta = DEFAULT_TTL
) -> SupervisorConsole:
    """Mount ``/supervisor`` and ``/ws/supervisor``; build (unless given) and own the approval broker.

    Both run on the app's clock (``app[CLOCK]``), so frames and approval times agree with the dialer."""
    clock = app[CLOCK]
    hub = SupervisorHub(clock=clock)
    broker = broker if broker is not None else ApprovalBroker(app[DB], ttl=ttl, clock=clock)
    broker.subscribe(hub)
    logins = LoginNames(app[DB])
    results = TodayResults(app[DB], clock)
    feed = FloorFeed(hub, logins, lambda: _desk_runtime(app), results=results)
    console = SupervisorConsole(hub=hub, broker=broker, feed=feed)
    app[SUPERVISOR_CONSOLE] = console
    app[APPROVALS] = broker
    app.router.add_get("/supervisor", supervisor_page, name="supervisor_home")
    app.router.add_get("/ws/supervisor", supervisor_socket, name="supervisor_socket")
    app.on_startup.append(_start_broker)
    app.on_shutdown.append(_close_sockets)
    app.on_cleanup.append(_close_broker)
    app.cleanup_ctx.append(floor_feed_context(feed))
    setup_floor_api(app, logins, results)
    return console


def _desk_runtime(app: web.Application) -> FloorSource | None:
    """The dialer running in this process (attached after this module is set up), or None."""
    desk = app.get(AGENT_DESK)
    return None if desk is None else desk.runtime


__all__ = [
    "APPROVALS",
    "SUPERVISOR_CONSOLE",
    "SupervisorConsole",
    "parse_message",
    "setup_supervisor_console",
    "supervisor_page",
    "supervisor_socket",
]
