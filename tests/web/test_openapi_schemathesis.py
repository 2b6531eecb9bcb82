"""schemathesis against a real Cobra on loopback, from the OpenAPI document it serves (SPEC §11, §13).

schemathesis has no in-process aiohttp loader, so the application runs on 127.0.0.1 in a
thread of its own (its own event loop) while schemathesis' synchronous client sends the
generated requests from the test's thread, logged in as a supervisor (session cookie, and
the session's ``X-CSRF-Token`` on every request). Each operation gets a bounded number of
generated cases, valid ones and invalid ones; every response must not be a 5xx
(``not_a_server_error``) and must match the document (``response_schema_conformance``: an
error's body is the one error shape of ``web/errors.py``).
Generation is derandomized, so a CI run is repeatable; a failure prints the case to replay.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from sqlalchemy import update

from storage import migrate
from storage.engine import create_engine, session_factory
from storage.models import Campaign, CampaignMode, Customer, User
from tests.web.conftest import FAST_HASHER, PASSWORD, USERS, Clock, add_users
from web.app import create_app
from web.auth.settings import SESSION_COOKIE, Auth, AuthSettings
from web.config import Config, DatabaseConfig, WebConfig
from web.openapi import OPENAPI_PATH, OPERATIONS

pytestmark = pytest.mark.slow

EXAMPLES_PER_OPERATION = 30  # per operation and mode (37 runs): ~15 s here; 60 took ~65 s
_CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


async def _seed(db_url: str) -> None:
    await add_users(db_url)
    engine = create_engine(db_url)
    try:
        async with session_factory(engine).begin() as db:
            db.add_all([
                Campaign(name="Varejo", mode=CampaignMode.PROGRESSIVE, dial_template="Local/{number}@x",
                         caller_id="1", pbx_name="sim"),
                Customer(external_id="C1", name="Maria Silva", cpf="52998224725"),
            ])
    finally:
        await engine.dispose()


async def _restore_users(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine).begin() as db:
            password_hash = FAST_HASHER.hash(PASSWORD)
            # extensions are unique and may have moved between users: free them all, then hand them back
            await db.execute(update(User).values(extension=None))
            for spec in USERS:
                await db.execute(
                    update(User).where(User.login == spec.login).values(
                        role=spec.role, full_name=spec.full_name, extension=spec.extension, endpoint=spec.endpoint,
                        active=True, password_hash=password_hash,
                    )
                )
    finally:
        await engine.dispose()


class ServedCobra:
    """The real application on 127.0.0.1, its event loop in a thread of its own."""

    def __init__(self, db_url: str) -> None:
        self.db_url = db_url
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="cobra-under-test", daemon=True)
        self.runner: web.AppRunner | None = None
        self.url = ""

    def run(self, coro: Any) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return future.result(timeout=60)

    async def _start(self) -> str:
        await _seed(self.db_url)
        config = Config(database=DatabaseConfig(url=self.db_url), web=WebConfig(host="127.0.0.1", port=0))
        # throttling off the path: one login, but the generated requests must never trip it
        app = create_app(config, auth=Auth(settings=AuthSettings(), hasher=FAST_HASHER), clock=Clock())
        self.runner = web.AppRunner(app, shutdown_timeout=2.0)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        host, port = self.runner.addresses[0][:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        self.thread.start()
        self.url = self.run(self._start())

    def stop(self) -> None:
        if self.runner is not None:
            self.run(self.runner.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@pytest.fixture(scope="module")
def cobra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedCobra]:
    path: Path = tmp_path_factory.mktemp("schemathesis") / "cobra.db"
    url = f"sqlite+aiosqlite:///{path}"
    served = ServedCobra(url)
    # migrate.upgrade runs its own event loop: in the server's thread before it starts serving
    migrate.upgrade(url)
    served.start()
    try:
        yield served
    finally:
        served.stop()


def _logged_in(base: str, login: str) -> tuple[requests.Session, str]:
    http = requests.Session()
    page = http.get(f"{base}/login", timeout=10)
    token = _CSRF.search(page.text)
    assert token, "login page has no csrf_token"
    done = http.post(f"{base}/login", data={"login": login, "password": PASSWORD, "csrf_token": token.group(1)},
                     allow_redirects=False, timeout=10)
    assert done.status_code == 303, done.text
    csrf: str = http.get(f"{base}/api/v1/me", timeout=10).json()["csrf_token"]
    return http, csrf


@pytest.fixture(scope="module")
def schema(cobra: ServedCobra) -> Any:
    return schemathesis.openapi.from_url(f"{cobra.url}{OPENAPI_PATH}")


# schemathesis leaves out the document's own URL
OPERATION_LABELS = [f"{op.method} {op.path}" for op in OPERATIONS if op.path != OPENAPI_PATH]


def test_the_served_document_lists_every_operation(schema: Any) -> None:
    labels = {result.ok().label for result in schema.get_all_operations()}
    assert labels == set(OPERATION_LABELS)


# invalid requests need something to make invalid: a path parameter or a body
CASES = [(label, GenerationMode.POSITIVE) for label in OPERATION_LABELS] + [
    (f"{op.method} {op.path}", GenerationMode.NEGATIVE) for op in OPERATIONS
    if "{" in op.path or op.body is not None or op.multipart
]


@pytest.mark.parametrize(("label", "mode"), CASES, ids=[f"{label} {mode.value}" for label, mode in CASES])
def test_no_generated_request_gets_a_server_error_and_errors_have_the_one_shape(
    cobra: ServedCobra, schema: Any, label: str, mode: GenerationMode
) -> None:
    operation = schema.find_operation_by_label(label)
    # a supervisor: every route but the users' is theirs; those an admin's (so their bodies are really read)
    http, csrf = _logged_in(cobra.url, "root" if operation.path.startswith("/api/v1/users") else "sofia")
    # the document's security schemes would otherwise make schemathesis invent a cookie and a token
    credentials = {"cookies": {SESSION_COOKIE: http.cookies[SESSION_COOKIE]}, "headers": {"X-CSRF-Token": csrf}}

    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode, **credentials))
    def check(case: Any) -> None:
        response = case.call(base_url=cobra.url, session=http)
        case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

    try:
        check()
    finally:
        http.close()
        if operation.path.startswith("/api/v1/users"):
            # the generated requests may have disabled, re-roled or re-passworded the seeded users
            # (or added some): put them back, so the next operations still log in as themselves
            cobra.run(_restore_users(cobra.db_url))
