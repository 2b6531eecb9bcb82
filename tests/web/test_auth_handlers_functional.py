"""Login, logout, cookies, expiry and throttling, over a real server and a migrated SQLite file."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from http.cookies import SimpleCookie

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from storage.repositories.audit import AuditEntry, entries_for
from tests.web.conftest import (
    FAST_HASHER,
    PASSWORD,
    AiohttpClient,
    Clock,
    form_token,
    log_in,
    session_csrf,
)
from web.app import create_app
from web.auth.clients import parse_networks
from web.auth.settings import LOGIN_CSRF_COOKIE, SESSION_COOKIE, Auth, AuthSettings
from web.config import Config
from web.keys import DB

Client = TestClient[web.Request, web.Application]


def set_cookie(resp: object, name: str) -> str:
    """The raw Set-Cookie header for ``name``."""
    for header in resp.headers.getall("Set-Cookie", []):  # type: ignore[attr-defined]
        if header.startswith(f"{name}="):
            return str(header)
    raise AssertionError(f"no Set-Cookie for {name}")


async def test_login_page_is_in_portuguese_and_sets_a_form_token(client: Client) -> None:
    resp = await client.get("/login")
    html = await resp.text()
    assert resp.status == 200
    for text in ("Entrar", "Usuário", "Senha", "Cobra", 'lang="pt-BR"'):
        assert text in html
    cookie = SimpleCookie(set_cookie(resp, LOGIN_CSRF_COOKIE))[LOGIN_CSRF_COOKIE]
    assert cookie.value == form_token(html)
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/login"


async def test_good_login_lands_the_agent_on_agente_with_a_safe_cookie(client: Client) -> None:
    resp = await log_in(client, "ana")
    assert (resp.status, resp.headers["Location"]) == (303, "/agente")
    raw = set_cookie(resp, SESSION_COOKIE)
    cookie = SimpleCookie(raw)[SESSION_COOKIE]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/"
    assert cookie["max-age"] == str(8 * 3600)
    assert "Secure" not in raw
    assert len(cookie.value) >= 43  # 256 random bits
    page = await client.get("/agente")
    html = await page.text()
    assert page.status == 200
    assert "Ana Souza" in html and "Operador(a) de cobrança" in html and "7001" in html and "Sair" in html


@pytest.mark.parametrize(
    ("login", "home"), [("ana", "/agente"), ("sofia", "/supervisor"), ("quito", "/monitoria"), ("root", "/admin")]
)
async def test_each_role_lands_on_its_own_page(client: Client, login: str, home: str) -> None:
    resp = await log_in(client, login)
    assert resp.headers["Location"] == home
    root = await client.get("/", allow_redirects=False)
    assert (root.status, root.headers["Location"]) == (303, home)
    page = await client.get(home)
    assert page.status == 200
    assert "Seus dados" in await page.text()


async def test_secure_cookies_when_configured(
    aiohttp_client: AiohttpClient, app: web.Application, config: Config, clock: Clock, auth_settings: AuthSettings
) -> None:
    secure = Auth(settings=replace(auth_settings, secure_cookies=True), hasher=FAST_HASHER)
    client = await aiohttp_client(create_app(config, auth=secure, clock=clock))
    page = await client.get("/login")
    assert "Secure" in set_cookie(page, LOGIN_CSRF_COOKIE)
    # the test client won't send Secure cookies over http: post the form cookie by hand
    token = form_token(await page.text())
    resp = await client.post(
        "/login",
        data={"login": "ana", "password": PASSWORD, "csrf_token": token},
        headers={"Cookie": f"{LOGIN_CSRF_COOKIE}={token}"},
        allow_redirects=False,
    )
    assert resp.status == 303
    assert "; Secure" in set_cookie(resp, SESSION_COOKIE)


@pytest.mark.parametrize(("login", "password"), [("ana", "senha-errada"), ("ninguem", PASSWORD), ("", PASSWORD)])
async def test_bad_credentials_are_refused_with_one_message(client: Client, login: str, password: str) -> None:
    resp = await log_in(client, login, password)
    assert resp.status == 401
    assert "Usuário ou senha inválidos" in await resp.text()
    assert SESSION_COOKIE not in resp.cookies
    assert (await client.get("/agente", allow_redirects=False)).status == 303


async def test_login_is_case_insensitive(client: Client) -> None:
    resp = await log_in(client, "  ANA ")
    assert resp.headers["Location"] == "/agente"


async def test_disabled_user_cannot_log_in(client: Client, app: web.Application) -> None:
    from web.auth.accounts import set_active
    from web.keys import DB

    async with app[DB]() as db:
        await set_active(db, "ana", False)
        await db.commit()
    resp = await log_in(client, "ana")
    assert resp.status == 401
    assert "Usuário ou senha inválidos" in await resp.text()


async def test_login_form_without_its_token_is_refused(client: Client) -> None:
    await client.get("/login")
    resp = await client.post("/login", data={"login": "ana", "password": PASSWORD}, allow_redirects=False)
    assert resp.status == 403
    assert "expirou" in await resp.text()
    other = await client.post(
        "/login", data={"login": "ana", "password": PASSWORD, "csrf_token": "forged"}, allow_redirects=False
    )
    assert other.status == 403


async def test_session_expires(client: Client, clock: Clock) -> None:
    await log_in(client, "ana")
    clock.advance(timedelta(hours=7, minutes=59))
    assert (await client.get("/agente")).status == 200
    clock.advance(timedelta(minutes=2))
    resp = await client.get("/agente", allow_redirects=False)
    assert (resp.status, resp.headers["Location"]) == (303, "/login?next=/agente")
    api = await client.get("/api/v1/me")
    assert api.status == 401
    assert (await api.json())["error"]["code"] == "unauthenticated"


async def test_logout_ends_the_session_server_side(client: Client) -> None:
    resp = await log_in(client, "ana")
    token = SimpleCookie(set_cookie(resp, SESSION_COOKIE))[SESSION_COOKIE].value
    page = await client.get("/agente")
    out = await client.post("/logout", data={"csrf_token": form_token(await page.text())}, allow_redirects=False)
    assert (out.status, out.headers["Location"]) == (303, "/login")
    assert SimpleCookie(set_cookie(out, SESSION_COOKIE))[SESSION_COOKIE]["max-age"] == "0"
    # the old token, replayed by hand, is dead: the row is gone, not just the cookie
    client.session.cookie_jar.clear()
    replay = await client.get("/api/v1/me", headers={"Cookie": f"{SESSION_COOKIE}={token}"})
    assert replay.status == 401


async def test_logout_by_fetch_with_the_csrf_header(client: Client) -> None:
    await log_in(client, "sofia")
    token = await session_csrf(client)
    out = await client.post("/logout", headers={"X-CSRF-Token": token}, allow_redirects=False)
    assert out.status == 303
    assert (await client.get("/api/v1/me")).status == 401


async def test_failures_make_the_login_wait_then_the_right_password_gets_in(
    client: Client, clock: Clock, app: web.Application
) -> None:
    for _ in range(3):
        assert (await log_in(client, "ana", "errada-123")).status == 401
    waiting = await log_in(client, "ana")
    assert waiting.status == 429
    assert "Muitas tentativas; tente de novo em 1 s." in await waiting.text()
    assert waiting.headers["Retry-After"] == "1"
    # other logins are not held up by ana's wait (the client limit is 6 here)
    assert (await log_in(client, "sofia")).status == 303
    client.session.cookie_jar.clear()
    clock.advance(timedelta(seconds=1))
    # never a lockout: after the wait the right password gets in
    assert (await log_in(client, "ana")).status == 303
    entries = await login_audit(app, "ana")
    assert [e.action for e in entries] == ["login_failed"] * 3 + ["login_throttled", "login"]
    assert all(e.after is not None and e.after["client"] == "127.0.0.1" for e in entries)
    assert entries[0].after == {"login": "ana", "client": "127.0.0.1", "reason": "bad_password"}
    assert entries[3].after == {"login": "ana", "client": "127.0.0.1", "scope": "login", "retry_after_s": 1}
    assert entries[4].user_id is not None and entries[0].user_id is None
    assert not any("errada" in str(e.after) or PASSWORD in str(e.after) for e in entries)


async def test_the_wait_doubles_with_each_failure_after_the_free_ones(client: Client, clock: Clock) -> None:
    for _ in range(3):
        assert (await log_in(client, "ana", "errada-123")).status == 401
    waits = []
    for _ in range(4):
        refused = await log_in(client, "ana", "errada-123")
        assert refused.status == 429
        waits.append(int(refused.headers["Retry-After"]))
        clock.advance(timedelta(seconds=waits[-1]))
        assert (await log_in(client, "ana", "errada-123")).status == 401
    assert waits == [1, 2, 4, 8]


async def test_failures_from_one_address_make_that_address_wait(client: Client) -> None:
    for i in range(6):
        assert (await log_in(client, f"chute{i}", "errada-123")).status == 401
    assert (await log_in(client, "root")).status == 429


async def _login_from(client: Client, login: str, forwarded_for: str, password: str = PASSWORD) -> int:
    page = await client.get("/login")
    data = {"login": login, "password": password, "csrf_token": form_token(await page.text())}
    resp = await client.post("/login", data=data, headers={"X-Forwarded-For": forwarded_for}, allow_redirects=False)
    client.session.cookie_jar.clear()
    return resp.status


async def test_behind_a_trusted_proxy_one_attacker_does_not_lock_out_the_floor(
    aiohttp_client: AiohttpClient, app: web.Application, config: Config, clock: Clock, auth_settings: AuthSettings
) -> None:
    proxied = Auth(settings=replace(auth_settings, trusted_proxies=parse_networks(["127.0.0.1/32"])), hasher=FAST_HASHER)
    client = await aiohttp_client(create_app(config, auth=proxied, clock=clock))
    for i in range(6):
        assert await _login_from(client, f"chute{i}", "198.51.100.66", "errada-123") == 401
    assert await _login_from(client, "root", "198.51.100.66") == 429  # the attacker waits
    # a client-made X-Forwarded-For in front of the proxy's does not move the attacker elsewhere
    assert await _login_from(client, "root", "192.0.2.1, 198.51.100.66") == 429
    # everyone else behind the proxy logs in
    assert await _login_from(client, "root", "198.51.100.7") == 303
    assert await _login_from(client, "ana", "198.51.100.8") == 303


async def test_without_trusted_proxies_x_forwarded_for_is_not_believed(client: Client) -> None:
    for i in range(6):
        assert await _login_from(client, f"chute{i}", f"198.51.100.{i}", "errada-123") == 401
    assert await _login_from(client, "root", "198.51.100.7") == 429


async def test_an_attacker_elsewhere_only_delays_the_right_password(
    aiohttp_client: AiohttpClient, app: web.Application, config: Config, clock: Clock, auth_settings: AuthSettings
) -> None:
    proxied = Auth(settings=replace(auth_settings, trusted_proxies=parse_networks(["127.0.0.1/32"])), hasher=FAST_HASHER)
    client = await aiohttp_client(create_app(config, auth=proxied, clock=clock))
    for i in range(12):  # a guess at ana's password each time the wait allows, from many addresses
        while await _login_from(client, "ana", f"203.0.113.{i}", "errada-123") == 429:
            clock.advance(timedelta(seconds=1))
    # right after the attacker's latest failure, ana (elsewhere) is asked to wait at most the login cap
    page = await client.get("/login")
    data = {"login": "ana", "password": PASSWORD, "csrf_token": form_token(await page.text())}
    waiting = await client.post("/login", data=data, headers={"X-Forwarded-For": "198.51.100.8"}, allow_redirects=False)
    assert waiting.status == 429
    assert int(waiting.headers["Retry-After"]) <= 60  # default [web] login_max_delay_s
    clock.advance(timedelta(seconds=int(waiting.headers["Retry-After"])))
    assert await _login_from(client, "ana", "198.51.100.8") == 303


async def login_audit(app: web.Application, login: str) -> list[AuditEntry]:
    async with app[DB]() as db:
        return await entries_for(db, "login", login, oldest_first=True)


@pytest.mark.parametrize(
    ("next_", "expected"),
    [
        ("/agente?aba=1", "/agente?aba=1"),
        ("//evil.example.com/x", "/agente"),
        ("https://evil.example.com/", "/agente"),
        ("/\\evil.example.com", "/agente"),
        ("/login", "/agente"),
    ],
)
async def test_next_only_goes_to_local_pages(client: Client, next_: str, expected: str) -> None:
    resp = await log_in(client, "ana", next=next_)
    assert resp.headers["Location"] == expected


async def test_login_page_when_already_logged_in_goes_home(client: Client) -> None:
    await log_in(client, "quito")
    resp = await client.get("/login", allow_redirects=False)
    assert (resp.status, resp.headers["Location"]) == (303, "/monitoria")


async def test_root_without_session_goes_to_login(client: Client) -> None:
    resp = await client.get("/", allow_redirects=False)
    assert (resp.status, resp.headers["Location"]) == (303, "/login")


async def test_parallel_guesses_cannot_outrun_the_limit(client: Client) -> None:
    page = await client.get("/login")
    token = form_token(await page.text())
    guesses = [
        client.post("/login", data={"login": "ana", "password": f"chute-{i:04d}", "csrf_token": token})
        for i in range(12)
    ]
    statuses = sorted(r.status for r in await asyncio.gather(*guesses))
    # limit 3 per login; with 2 hashing slots at most one more guess can pass the check in parallel
    assert statuses.count(401) <= 3 + 1
    assert statuses.count(429) == 12 - statuses.count(401)


async def test_logging_in_again_ends_the_previous_session(client: Client) -> None:
    first = await log_in(client, "ana")
    old_token = SimpleCookie(set_cookie(first, SESSION_COOKIE))[SESSION_COOKIE].value
    # another user takes over the same browser: the login form is posted with ana's cookie still set
    client.session.cookie_jar.clear()
    token = form_token(await (await client.get("/login")).text())
    resp = await client.post(
        "/login",
        data={"login": "sofia", "password": PASSWORD, "csrf_token": token},
        headers={"Cookie": f"{SESSION_COOKIE}={old_token}; {LOGIN_CSRF_COOKIE}={token}"},
        allow_redirects=False,
    )
    assert resp.headers["Location"] == "/supervisor"
    client.session.cookie_jar.clear()
    replay = await client.get("/api/v1/me", headers={"Cookie": f"{SESSION_COOKIE}={old_token}"})
    assert replay.status == 401
