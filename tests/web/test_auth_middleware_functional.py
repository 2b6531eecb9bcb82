"""Roles on every route, CSRF on every state-changing request, JSON errors for the API."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from storage.models import Role
from tests.web.conftest import AiohttpClient, log_in, session_csrf
from web.auth.access import ALL_ROLES, check_routes, public, requires, unguarded_routes

Client = TestClient[web.Request, web.Application]


@requires(*ALL_ROLES)
async def echo(request: web.Request) -> web.Response:
    """A state-changing API route for the CSRF tests."""
    return web.json_response({"got": await request.json()})


@pytest.fixture
async def client(aiohttp_client: AiohttpClient, app: web.Application) -> Client:
    app.router.add_post("/api/v1/echo", echo)
    return await aiohttp_client(app)


async def test_anonymous_page_goes_to_login_with_next(client: Client) -> None:
    resp = await client.get("/supervisor", allow_redirects=False)
    assert (resp.status, resp.headers["Location"]) == (303, "/login?next=/supervisor")


async def test_anonymous_api_call_gets_401_json(client: Client) -> None:
    resp = await client.get("/api/v1/me")
    assert resp.status == 401
    body = await resp.json()
    assert body["error"]["code"] == "unauthenticated"
    assert body["error"]["message"]


@pytest.mark.parametrize("path", ["/supervisor", "/monitoria", "/admin"])
async def test_agent_cannot_open_other_roles_pages(client: Client, path: str) -> None:
    await log_in(client, "ana")
    resp = await client.get(path)
    assert resp.status == 403
    html = await resp.text()
    assert "Acesso negado" in html and "Operador(a) de cobrança" in html


@pytest.mark.parametrize(
    ("login", "allowed"),
    # admins may open the supervisor console too; supervisors and admins also open quality monitoring
    [("sofia", {"/supervisor", "/monitoria"}), ("quito", {"/monitoria"}), ("root", {"/admin", "/supervisor", "/monitoria"}),
     ("ana", {"/agente"})],
)
async def test_each_landing_page_admits_only_its_role(client: Client, login: str, allowed: set[str]) -> None:
    await log_in(client, login)
    for path in ("/agente", "/supervisor", "/monitoria", "/admin"):
        resp = await client.get(path, allow_redirects=False)
        assert resp.status == (200 if path in allowed else 403), path


async def test_api_forbidden_is_403_json(client: Client) -> None:
    await log_in(client, "ana")
    resp = await client.get("/api/v1/users")
    assert resp.status == 403
    body = await resp.json()
    assert body["error"]["code"] == "forbidden"


async def test_admin_sees_every_user(client: Client) -> None:
    await log_in(client, "root")
    resp = await client.get("/api/v1/users")
    users = {u["login"]: u for u in (await resp.json())["users"]}
    assert set(users) == {"ana", "sofia", "quito", "root"}
    assert users["ana"] == {
        "id": users["ana"]["id"],
        "login": "ana",
        "name": "Ana Souza",
        "role": "agent",
        "role_label": "Operador(a) de cobrança",
        "extension": "7001",
        "endpoint": "PJSIP/7001",
        "active": True,
    }
    page = await client.get("/admin")
    html = await page.text()
    assert "Quitéria Alves" in html and "PJSIP/7001" in html


async def test_me_describes_the_session(client: Client) -> None:
    await log_in(client, "ana")
    me = await (await client.get("/api/v1/me")).json()
    assert (me["login"], me["role"], me["extension"], me["endpoint"]) == ("ana", "agent", "7001", "PJSIP/7001")
    assert me["session_expires_at"] == "2026-03-02T20:00:00+00:00"


async def test_state_changing_api_call_needs_the_csrf_header(client: Client) -> None:
    await log_in(client, "ana")
    refused = await client.post("/api/v1/echo", json={"x": 1})
    assert refused.status == 403
    assert (await refused.json())["error"]["code"] == "csrf"
    wrong = await client.post("/api/v1/echo", json={"x": 1}, headers={"X-CSRF-Token": "not-it"})
    assert wrong.status == 403
    ok = await client.post("/api/v1/echo", json={"x": 1}, headers={"X-CSRF-Token": await session_csrf(client)})
    assert (ok.status, await ok.json()) == (200, {"got": {"x": 1}})


async def test_form_post_without_token_is_refused_and_the_session_survives(client: Client) -> None:
    await log_in(client, "ana")
    resp = await client.post("/logout", data={}, allow_redirects=False)
    assert resp.status == 403
    assert "Formulário expirado" in await resp.text()
    assert (await client.get("/api/v1/me")).status == 200


async def test_csrf_token_of_another_session_is_refused(aiohttp_client: AiohttpClient, client: Client) -> None:
    other = await aiohttp_client(client.app)
    await log_in(other, "sofia")
    stolen = await session_csrf(other)
    await log_in(client, "ana")
    resp = await client.post("/api/v1/echo", json={}, headers={"X-CSRF-Token": stolen})
    assert resp.status == 403


async def test_static_files_need_no_login(client: Client) -> None:
    resp = await client.get("/static/cobra.css")
    assert resp.status == 200
    assert "--brand" in await resp.text()


async def test_pages_carry_security_headers(client: Client) -> None:
    resp = await client.get("/login")
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Cache-Control"] == "no-store"


async def test_unknown_path_is_a_plain_404(client: Client) -> None:
    assert (await client.get("/nada")).status == 404


async def naked(request: web.Request) -> web.Response:
    return web.Response(text="nobody said who may see this")


async def test_a_route_without_access_rule_stops_the_app_from_starting(app: web.Application) -> None:
    app.router.add_get("/naked", naked)
    assert sorted(unguarded_routes(app)) == ["GET /naked", "HEAD /naked"]
    with pytest.raises(RuntimeError, match="GET /naked"):
        await check_routes(app)


async def test_a_route_without_access_rule_is_refused_if_it_slips_through(
    aiohttp_client: AiohttpClient, app: web.Application
) -> None:
    app.on_startup.clear()  # as if the startup check were missing
    app.router.add_get("/naked", naked)
    client = await aiohttp_client(app)
    assert (await client.get("/naked")).status == 403


def test_requires_needs_a_role() -> None:
    with pytest.raises(ValueError, match="at least one role"):
        requires()


async def test_public_marks_a_route_as_open(aiohttp_client: AiohttpClient, app: web.Application) -> None:
    @public
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="olá")

    @requires(Role.QA)
    async def qa_only(request: web.Request) -> web.Response:
        return web.Response(text="qa")

    app.router.add_get("/hello", hello)
    app.router.add_get("/qa-only", qa_only)
    client = await aiohttp_client(app)
    assert await (await client.get("/hello")).text() == "olá"
    await log_in(client, "quito")
    assert await (await client.get("/qa-only")).text() == "qa"
