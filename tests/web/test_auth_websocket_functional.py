"""The websocket upgrade helper: session cookie AND Origin, over real websocket handshakes."""

from __future__ import annotations

import pytest
from aiohttp import WSServerHandshakeError, web
from aiohttp.test_utils import TestClient

from storage.models import Role
from tests.web.conftest import AiohttpClient, log_in
from web.auth.access import public
from web.auth.websocket import authenticate_websocket, parse_origin

Client = TestClient[web.Request, web.Application]


@public  # the helper alone guards these: the tests are about it
async def ws_any(request: web.Request) -> web.WebSocketResponse:
    login = await authenticate_websocket(request)
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    await ws.send_json({"type": "hello", "login": login.login})
    await ws.close()
    return ws


@public
async def ws_supervisors(request: web.Request) -> web.WebSocketResponse:
    await authenticate_websocket(request, roles=[Role.SUPERVISOR])
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    await ws.close()
    return ws


@pytest.fixture
async def client(aiohttp_client: AiohttpClient, app: web.Application) -> Client:
    app.router.add_get("/ws/test", ws_any)
    app.router.add_get("/ws/supervisors", ws_supervisors)
    return await aiohttp_client(app)


def own_origin(client: Client) -> str:
    return f"http://{client.host}:{client.port}"


async def refusal(client: Client, path: str, headers: dict[str, str]) -> int:
    with pytest.raises(WSServerHandshakeError) as err:
        await client.ws_connect(path, headers=headers)
    return err.value.status


async def test_own_origin_with_a_session_is_accepted(client: Client) -> None:
    await log_in(client, "ana")
    ws = await client.ws_connect("/ws/test", headers={"Origin": own_origin(client)})
    assert await ws.receive_json() == {"type": "hello", "login": "ana"}
    await ws.close()


async def test_configured_extra_origin_is_accepted(client: Client) -> None:
    await log_in(client, "ana")
    ws = await client.ws_connect("/ws/test", headers={"Origin": "https://painel.example.com.br"})
    assert (await ws.receive_json())["login"] == "ana"
    await ws.close()


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example.com",
        "http://127.0.0.1:1",  # same host, another port: another origin
        "https://painel.example.com.br:8443",
        "null",
        "",
    ],
)
async def test_foreign_origin_is_refused_even_with_a_session(client: Client, origin: str) -> None:
    await log_in(client, "ana")
    assert await refusal(client, "/ws/test", {"Origin": origin}) == 403


async def test_missing_origin_is_refused(client: Client) -> None:
    await log_in(client, "ana")
    assert await refusal(client, "/ws/test", {}) == 403


async def test_missing_session_is_refused(client: Client) -> None:
    assert await refusal(client, "/ws/test", {"Origin": own_origin(client)}) == 401


async def test_expired_or_forged_session_is_refused(client: Client) -> None:
    assert await refusal(client, "/ws/test", {"Origin": own_origin(client), "Cookie": "cobra_session=forged"}) == 401


async def test_role_is_checked(client: Client) -> None:
    await log_in(client, "ana")
    assert await refusal(client, "/ws/supervisors", {"Origin": own_origin(client)}) == 403


async def test_refusals_are_json(client: Client) -> None:
    resp = await client.get(
        "/ws/test",
        headers={
            "Origin": "https://evil.example.com",
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        },
    )
    assert resp.status == 403
    assert (await resp.json())["error"]["code"] == "bad_origin"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://Painel.Example.com.br", ("https", "painel.example.com.br", 443)),
        ("https://painel.example.com.br:443", ("https", "painel.example.com.br", 443)),
        ("http://127.0.0.1:8080", ("http", "127.0.0.1", 8080)),
        ("null", None),
        ("file://", None),
        ("https://a.example.com/path", None),
        ("ws://a.example.com", None),
    ],
)
def test_parse_origin(value: str, expected: tuple[str, str, int] | None) -> None:
    assert parse_origin(value) == expected
