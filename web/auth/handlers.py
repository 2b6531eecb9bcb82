"""Login, logout and the root redirect."""

from __future__ import annotations

import asyncio
import secrets

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Role
from storage.repositories import audit
from storage.repositories.users import get_user_by_login
from web.auth.access import ALL_ROLES, ROLE_HOME, public, public_with_own_csrf, requires
from web.auth.accounts import normalise_login
from web.auth.clients import FORWARDED_FOR, client_address
from web.auth.csrf import tokens_match
from web.auth.middleware import current_login
from web.auth.passwords import verify_password
from web.auth.responses import redirect, render_page
from web.auth.revocation import REASON_ENDED, REASON_LOGOUT
from web.auth.sessions import create_session, end_session, purge_expired, token_hash
from web.auth.settings import CSRF_FIELD, LOGIN_CSRF_COOKIE, SESSION_COOKIE
from web.keys import AUTH, CURRENT_LOGIN, DB, SESSION_GUARD

MAX_LOGIN_LENGTH = 64
LOGIN_FORM_TTL_S = 3600

BAD_CREDENTIALS = "Usuário ou senha inválidos."


def safe_next(target: str | None, role: Role) -> str:
    """Where to go after login: ``next`` if it is a local path the role may open, else the role's home."""
    home = ROLE_HOME[role]
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return home
    if target.startswith(("/login", "/api/")):
        return home
    return target


def _secure(request: web.Request) -> bool:
    return request.secure or request.app[AUTH].settings.secure_cookies


def _login_form(
    request: web.Request, *, status: int = 200, error: str | None = None, login: str = "", next_: str = ""
) -> web.Response:
    """The login page with a fresh double-submit token (cookie + hidden field)."""
    form_token = secrets.token_urlsafe(32)
    response = render_page(
        request,
        "login.html",
        {"form_token": form_token, "error": error, "login_value": login, "next": next_},
        status=status,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        form_token,
        httponly=True,
        samesite="Lax",
        secure=_secure(request),
        path="/login",
        max_age=LOGIN_FORM_TTL_S,
    )
    return response


@public
async def root(request: web.Request) -> web.Response:
    """``/``: each role's home, or the login page."""
    login = await current_login(request)
    return redirect(ROLE_HOME[login.role] if login else "/login")


@public
async def login_page(request: web.Request) -> web.Response:
    login = await current_login(request)
    if login is not None:
        return redirect(safe_next(request.query.get("next"), login.role))
    return _login_form(request, next_=request.query.get("next", ""))


@public_with_own_csrf
async def login_submit(request: web.Request) -> web.Response:
    auth = request.app[AUTH]
    form = await request.post()
    login_name = normalise_login(str(form.get("login", "")))
    password = str(form.get("password", ""))
    next_ = str(form.get("next", ""))
    if not tokens_match(request.cookies.get(LOGIN_CSRF_COOKIE, ""), str(form.get(CSRF_FIELD, ""))):
        return _login_form(
            request, status=403, error="A página de login expirou. Tente novamente.", login=login_name, next_=next_
        )
    if not login_name or not password or len(login_name) > MAX_LOGIN_LENGTH:
        return _login_form(request, status=401, error=BAD_CREDENTIALS, login=login_name[:MAX_LOGIN_LENGTH], next_=next_)

    ip = client_of(request)
    async with request.app[DB]() as db:
        user = await get_user_by_login(db, login_name)
        # end the read transaction now: on SQLite every transaction holds the write lock,
        # and the password check below takes ~0.4 s
        await db.commit()
        # argon2 takes ~0.4 s of CPU and 64 MiB: off the event loop (calls and websockets
        # share it), a bounded number at once so a login spray can't exhaust memory, and the
        # limiter is consulted inside the slot so parallel attempts can't all pass it first
        async with auth.hashing_slots:
            verdict = auth.limiter.check(login_name, ip)
            ok = password_ok = False
            if verdict.allowed:
                stored = user.password_hash if user else None
                password_ok = await asyncio.to_thread(verify_password, auth.hasher, stored, password)
                ok = password_ok and user is not None and user.active
                if not ok:
                    auth.limiter.record_failure(login_name, ip)
        if not verdict.allowed:
            if verdict.first_refusal:  # once per wait and key: a flood of refused attempts is not a flood of rows
                await _audit_login(request, db, "login_throttled", login_name, ip, None, scope=verdict.scope,
                                   retry_after_s=verdict.retry_after_s)
            response = _login_form(
                request,
                status=429,
                login=login_name,
                next_=next_,
                error=f"Muitas tentativas; tente de novo em {verdict.retry_after_s} s.",
            )
            response.headers["Retry-After"] = str(verdict.retry_after_s)
            return response
        if not ok or user is None:
            reason = "unknown_login" if user is None else ("disabled" if password_ok else "bad_password")
            await _audit_login(request, db, "login_failed", login_name, ip, None, reason=reason)
            return _login_form(request, status=401, error=BAD_CREDENTIALS, login=login_name, next_=next_)
        auth.limiter.record_success(login_name)
        if auth.hasher.check_needs_rehash(user.password_hash):
            async with auth.hashing_slots:
                user.password_hash = await asyncio.to_thread(auth.hasher.hash, password)
        now = auth.clock()
        previous = request.cookies.get(SESSION_COOKIE)
        if previous:  # a new login never keeps the old session alive next to it
            await end_session(db, token_hash(previous))
        await purge_expired(db, now=now)
        new = await create_session(
            db, user, now=now, ttl=auth.settings.session_ttl, ip=ip, user_agent=request.headers.get("User-Agent")
        )
        await _audit_login(request, db, "login", login_name, ip, user.id, commit=False)
        await db.commit()
    if previous:  # and the old session's open pages close
        request.app[SESSION_GUARD].revoke_session(token_hash(previous), REASON_ENDED)

    request[CURRENT_LOGIN] = new.login
    response = redirect(safe_next(next_, new.login.role))
    response.set_cookie(
        SESSION_COOKIE,
        new.token,
        httponly=True,
        samesite="Lax",
        secure=_secure(request),
        path="/",
        max_age=int(auth.settings.session_ttl.total_seconds()),
    )
    response.del_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@requires(*ALL_ROLES)
async def logout(request: web.Request) -> web.Response:
    """End the session (the middleware has checked its CSRF token) and go back to the login page."""
    login = request[CURRENT_LOGIN]
    if login is not None:
        async with request.app[DB]() as db:
            await end_session(db, login.session_hash)
            await _audit_login(request, db, "logout", login.login, client_of(request), login.user_id, commit=False)
            await db.commit()
        # this session's open pages (other tabs too) close now, with the reason shown
        request.app[SESSION_GUARD].revoke_session(login.session_hash, REASON_LOGOUT)
    response = redirect("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


def client_of(request: web.Request) -> str | None:
    """The client's address: the peer, or what a trusted proxy forwarded (``[web] trusted_proxies``)."""
    trusted = request.app[AUTH].settings.trusted_proxies
    return client_address(request.remote, request.headers.getall(FORWARDED_FOR, []), trusted)


async def _audit_login(
    request: web.Request,
    db: AsyncSession,
    action: str,
    login: str,
    client: str | None,
    user_id: int | None,
    *,
    commit: bool = True,
    **detail: object,
) -> None:
    """An audit entry about a login attempt: the login and the client address, never the password."""
    await audit.record(
        db,
        user_id=user_id,
        action=action,
        entity="login",
        entity_id=login,
        after={"login": login, "client": client, **detail},
        at=request.app[AUTH].clock(),
    )
    if commit:
        await db.commit()


def add_auth_routes(app: web.Application) -> None:
    app.router.add_get("/", root, name="root")
    app.router.add_get("/login", login_page, name="login")
    app.router.add_post("/login", login_submit)
    app.router.add_post("/logout", logout, name="logout")
