"""The opening and closing steps every live websocket of Cobra shares (agent desk, supervisor console).

Only the handler task receives (aiohttp's rule); a sender task owned by the handler drains
the socket's :class:`~web.agent.hub.SocketLink` queue. These helpers are the steps around
the handler's receive loop, so both pages open and close sockets the same way.
"""

from __future__ import annotations

import asyncio

from aiohttp import WSMessage, WSMsgType, web

from web.agent.hub import SocketLink

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
