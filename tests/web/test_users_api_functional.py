"""Users managed over ``/api/v1/users`` (what the admin page calls): a real server, real clients
each with its own cookies, the real SQLite file; audit entries and ended sessions read back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from storage.engine import create_engine, session_factory
from storage.models import AuditLog, User
from tests.web.conftest import PASSWORD, Clock, form_token


class Browser:
    """One person's browser: its own cookie jar on the served app."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = aiohttp.ClientSession(base_url=base, cookie_jar=aiohttp.CookieJar(unsafe=True))  # 127.0.0.1
        self.csrf = ""

    async def log_in(self, login: str, password: str = PASSWORD) -> int:
        page = await self.http.get("/login")
        data = {"login": login, "password": password, "csrf_token": form_token(await page.text())}
        resp = await self.http.post("/login", data=data, allow_redirects=False)
        if resp.status == 303:
            me = await (await self.http.get("/api/v1/me")).json()
            self.csrf = me["csrf_token"]
        return resp.status

    async def call(self, method: str, path: str, body: Any = None, *, csrf: bool = True) -> tuple[int, Any]:
        headers = {"X-CSRF-Token": self.csrf} if csrf else {}
        resp = await self.http.request(method, path, json=body, headers=headers)
        return resp.status, await resp.json()

    async def me_status(self) -> int:
        return (await self.http.get("/api/v1/me")).status


@pytest.fixture
async def browsers(served: str) -> AsyncIterator[Any]:
    opened: list[Browser] = []

    def open_one() -> Browser:
        b = Browser(served)
        opened.append(b)
        return b

    try:
        yield open_one
    finally:
        for b in opened:
            await b.http.close()


async def _audit_rows(db_url: str) -> list[AuditLog]:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as db:
            return list((await db.scalars(select(AuditLog).where(AuditLog.entity == "user").order_by(AuditLog.id))).all())
    finally:
        await engine.dispose()


async def _audit(db_url: str) -> list[tuple[str, int | None, dict[str, Any]]]:
    return [(r.action, r.user_id, r.after or {}) for r in await _audit_rows(db_url)]


async def _user_id(db_url: str, login: str) -> int:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as db:
            found = await db.scalar(select(User.id).where(User.login == login))
            assert found is not None
            return found
    finally:
        await engine.dispose()


async def test_an_admin_creates_changes_disables_and_resets_a_user(browsers: Any, db_url: str, clock: Clock) -> None:
    admin = browsers()
    assert await admin.log_in("root") == 303
    root_id = await _user_id(db_url, "root")

    status, created = await admin.call("POST", "/api/v1/users", {
        "login": "Bia", "role": "agent", "name": "Beatriz Ramos", "extension": "7009", "endpoint": "PJSIP/7009",
    })
    assert status == 201, created
    generated = created["password"]
    assert isinstance(generated, str) and len(generated) >= 12
    user = created["user"]
    assert (user["login"], user["role"], user["extension"], user["active"]) == ("bia", "agent", "7009", True)
    assert generated not in str(await _audit(db_url))  # only its hash is kept, and never in the audit

    bia = browsers()
    assert await bia.log_in("bia", generated) == 303
    assert await bia.me_status() == 200

    # a phone change ends her sessions (her pages must not keep the old conference)
    status, changed = await admin.call("PATCH", f"/api/v1/users/{user['id']}", {"extension": "7010",
                                                                                  "endpoint": "PJSIP/7010"})
    assert status == 200, changed
    assert changed["sessions_ended"] == 1 and changed["changed"]["extension"] == "7010"
    assert await bia.me_status() == 401

    # a name change does not
    assert await bia.log_in("bia", generated) == 303
    status, renamed = await admin.call("PATCH", f"/api/v1/users/{user['id']}", {"name": "Bia Ramos"})
    assert (status, renamed["sessions_ended"], renamed["user"]["name"]) == (200, 0, "Bia Ramos")
    assert await bia.me_status() == 200

    status, disabled = await admin.call("PATCH", f"/api/v1/users/{user['id']}", {"active": False})
    assert (status, disabled["user"]["active"], disabled["sessions_ended"]) == (200, False, 1)
    assert await bia.me_status() == 401
    assert await bia.log_in("bia", generated) == 401
    assert (await admin.call("PATCH", f"/api/v1/users/{user['id']}", {"active": True}))[0] == 200

    status, reset = await admin.call("POST", f"/api/v1/users/{user['id']}/password", {"password": "outra-senha-9"})
    assert (status, reset["password"]) == (200, None)  # chosen by the admin: not echoed
    assert await bia.log_in("bia", generated) == 401
    assert await bia.log_in("bia", "outra-senha-9") == 303
    status, fresh = await admin.call("POST", f"/api/v1/users/{user['id']}/password", {})
    assert status == 200 and fresh["password"] and fresh["sessions_ended"] == 1
    assert await bia.log_in("bia", fresh["password"]) == 303

    entries = await _audit(db_url)
    assert [a for a, _, _ in entries] == [
        "user.add", "user.change", "user.change", "user.disable", "user.enable", "user.passwd", "user.passwd"
    ]
    assert all(actor == root_id and after["source"] == "api" and after["login"] == "bia"
               for _, actor, after in entries)
    assert entries[-1][2].get("generated") is True and "generated" not in entries[-2][2]
    # on the app's one clock, not the machine's
    assert {r.at.replace(tzinfo=None) for r in await _audit_rows(db_url)} == {clock().replace(tzinfo=None)}


async def test_refusals_name_the_field_in_portuguese(browsers: Any, db_url: str) -> None:
    admin = browsers()
    assert await admin.log_in("root") == 303
    root_id = await _user_id(db_url, "root")

    status, body = await admin.call("POST", "/api/v1/users", {"login": "ana", "role": "qa"})
    assert (status, body["error"]["field"]) == (409, "login")
    assert body["error"]["message"] == "O usuário ana já existe."
    status, body = await admin.call("POST", "/api/v1/users", {"login": "novo", "role": "agent", "extension": "7001",
                                                              "endpoint": "PJSIP/7001"})
    assert (status, body["error"]["field"]) == (409, "extension")
    assert "ana" in body["error"]["message"]
    status, body = await admin.call("POST", "/api/v1/users", {"login": "novo", "role": "agent"})
    assert (status, body["error"]["field"]) == (422, "extension")
    assert body["error"]["message"].startswith("Operadores precisam de ramal e telefone")
    status, body = await admin.call("POST", "/api/v1/users", {"login": "novo", "role": "qa", "endpoint": "PJSIP/7 1"})
    assert (status, body["error"]["field"]) == (422, "endpoint")

    # an admin can't lock themselves out
    status, body = await admin.call("PATCH", f"/api/v1/users/{root_id}", {"active": False})
    assert (status, body["error"]["field"]) == (409, "active")
    status, body = await admin.call("PATCH", f"/api/v1/users/{root_id}", {"role": "qa"})
    assert (status, body["error"]["field"]) == (409, "role")

    # without the CSRF header nothing changes
    status, body = await admin.call("POST", "/api/v1/users", {"login": "novo", "role": "qa"}, csrf=False)
    assert (status, body["error"]["code"]) == (403, "csrf")

    supervisor = browsers()
    assert await supervisor.log_in("sofia") == 303
    status, body = await supervisor.call("POST", "/api/v1/users", {"login": "novo", "role": "qa"})
    assert (status, body["error"]["code"]) == (403, "forbidden")
    assert [a for a, _, _ in await _audit(db_url)] == []


async def test_the_admin_page_lists_users_with_ids_and_offers_the_forms(browsers: Any) -> None:
    admin = browsers()
    assert await admin.log_in("root") == 303
    html = await (await admin.http.get("/admin")).text()
    assert 'data-testid="new-user"' in html and "admin.js" in html
    assert "Peça a correção ao administrador" not in html
    assert 'data-login="ana"' in html
