"""The opening and closing steps every live websocket of Cobra shares (agent desk, supervisor console).

Only the handler task receives (aiohttp's rule); a sender task owned by the handler drains
the socket's :class:`~web.agent.hub.SocketLink` queue. These helpers are the steps around
the handler's receive loop, so both pages open and close sockets the same way.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from aiohttp import WSCloseCode, WSMessage, WSMsgType, web

from web.agent.hub import SocketLink

log = logging.getLogger(__name__)

# What the pages read when the server stops (they reconnect and resume against the next run)
GOING_AWAY_MESSAGE = "servidor reiniciando"
# A client that doesn't answer the close handshake must not hold up the stop
CLOSE_ALL_TIMEOUT_S = 3.0

_GONE = (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR)


async def first_message(ws: web.WebSocketResponse, timeout_s: float) -> tuple[bool, WSMessage | None]:
    """The client's first message within ``timeout_s`` (``None`` if it sent none in time);
    the flag is False when the client already left, and the socket is then closed."""
    try:
        msg = await ws.receive(timeout=timeout_s)
    except TimeoutError:
        return True, None
    if msg.type in _GONE:
        await ws.close()
        return False, None
    return True, msg


async def release_socket(link: SocketLink, sender: asyncio.Task[None], ws: web.WebSocketResponse, timeout_s: float) -> None:
    """After the receive loop: cut the link if the hub hasn't, let its sender stop within
    ``timeout_s`` (cancelled otherwise), and close the socket."""
    if not link.dead:
        link.cut("conexão encerrada")
    try:
        await asyncio.wait_for(sender, timeout_s)
    except (TimeoutError, asyncio.CancelledError):
        sender.cancel()
    if not ws.closed:
        await ws.close()


async def close_going_away(
    sockets: Iterable[web.WebSocketResponse], *, timeout_s: float = CLOSE_ALL_TIMEOUT_S
) -> None:
    """On shutdown: close every socket with 1001 "going away" at once, waiting at most ``timeout_s``.

    All together, not one after the other: each close waits for the client's reply, and one
    silent client must not make the others (or the stop) wait.
    """
    open_sockets = [ws for ws in list(sockets) if not ws.closed]
    if not open_sockets:
        return
    closing = [
        asyncio.ensure_future(ws.close(code=WSCloseCode.GOING_AWAY, message=GOING_AWAY_MESSAGE.encode()))
        for ws in open_sockets
    ]
    _, pending = await asyncio.wait(closing, timeout=timeout_s)
    for task in pending:
        task.cancel()
    if pending:
        log.warning("shutdown: %d of %d websockets did not finish closing within %g s", len(pending), len(closing), timeout_s)
