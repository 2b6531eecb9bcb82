"""The web tests' world: a real SQLite file built by the migrations, real users, a real server.

Each test gets its own copy of a database migrated once per session, an ``Auth`` with a
hand-driven clock and a cheap argon2 hasher (the production one takes ~0.4 s per hash
here), and ``aiohttp_client`` serving the real application on 127.0.0.1.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from argon2 import PasswordHasher

from storage import migrate
from storage.engine import create_engine, session_factory
from storage.models import Role
from web.app import create_app
from web.auth.accounts import add_account, check_new_account
from web.auth.settings import Auth, AuthSettings
from web.config import Config, DatabaseConfig, WebConfig

PASSWORD = "senha-forte-1"
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

AiohttpClient = Callable[..., Awaitable[TestClient[web.Request, web.Application]]]


def _in_thread(fn: Callable[..., Any], *args: Any) -> Any:
    # migrate.upgrade runs its own event loop: keep it off the test's thread
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn, *args).result()


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("web-template") / "cobra.db"
    _in_thread(migrate.upgrade, f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def db_url(migrated_template: Path, tmp_path: Path) -> str:
    """A migrated SQLite file of this test's own."""
    path = tmp_path / "cobra.db"
    shutil.copyfile(migrated_template, path)
    return f"sqlite+aiosqlite:///{path}"


class Clock:
    """A clock tests move by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock() -> Clock:
    return Clock()


@dataclass
class UserSpec:
    login: str
    role: Role
    full_name: str
    extension: str | None = None
    endpoint: str | None = None


USERS = [
    UserSpec("ana", Role.AGENT, "Ana Souza", "7001", "PJSIP/7001"),
    UserSpec("sofia", Role.SUPERVISOR, "Sofia Lima"),
    UserSpec("quito", Role.QA, "Quitéria Alves"),
    UserSpec("root", Role.ADMIN, "Admin TI"),
]


async def add_users(db_url: str, users: list[UserSpec] = USERS) -> None:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as db:
            for u in users:
                account = check_new_account(u.login, u.role, u.full_name, u.extension, u.endpoint)
                await add_account(db, FAST_HASHER, account, PASSWORD)
            await db.commit()
    finally:
        await engine.dispose()


@pytest.fixture
def config(db_url: str) -> Config:
    return Config(database=DatabaseConfig(url=db_url), web=WebConfig(allowed_origins=["https://painel.example.com.br"]))


@pytest.fixture
def auth_settings() -> AuthSettings:
    return AuthSettings(session_ttl=timedelta(hours=8), login_free_failures=3, client_free_failures=6)


@pytest.fixture
async def app(config: Config, clock: Clock, auth_settings: AuthSettings, db_url: str) -> web.Application:
    await add_users(db_url)
    return create_app(config, auth=Auth(settings=auth_settings, hasher=FAST_HASHER), clock=clock)


@pytest.fixture
async def client(aiohttp_client: AiohttpClient, app: web.Application) -> TestClient[web.Request, web.Application]:
    return await aiohttp_client(app)


_FORM_TOKEN = re.compile(r'name="csrf_token" value="([^"]*)"')


def form_token(html: str) -> str:
    """The CSRF token of the first form of a page."""
    found = _FORM_TOKEN.search(html)
    assert found, "page has no csrf_token field"
    return found.group(1)


async def log_in(
    client: TestClient[web.Request, web.Application], login: str, password: str = PASSWORD, **extra: str
) -> Any:
    """Open the login page and submit it (no redirect followed); returns the response."""
    page = await client.get("/login")
    data = {"login": login, "password": password, "csrf_token": form_token(await page.text()), **extra}
    return await client.post("/login", data=data, allow_redirects=False)


async def session_csrf(client: TestClient[web.Request, web.Application]) -> str:
    """The CSRF token of the logged-in session, as scripts get it."""
    resp = await client.get("/api/v1/me")
    assert resp.status == 200
    token: str = (await resp.json())["csrf_token"]
    return token


@pytest.fixture
async def served(app: web.Application) -> AsyncIterator[str]:
    """The app on a real ``AppRunner`` on 127.0.0.1 (for websocket clients and the browser): its base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()
