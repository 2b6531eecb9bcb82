"""Every JSON route under ``/api/`` answers its errors in one shape: ``{"error": {"code", "message", "field"}}``.

A real server on 127.0.0.1 and a real SQLite file: each route gets a malformed id, an id that
names nothing, a body that is not JSON, not an object, or has a bad field, and the test reads
the status, the shape and the field named. A last test checks the table below covers every
``/api/`` route the app mounts, so a new route cannot skip it.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from storage.engine import create_engine, session_factory
from storage.models import Campaign, CampaignMode, Customer, Role, User
from tests.web.conftest import AiohttpClient, log_in, session_csrf
from web.auth.access import requires
from web.errors import INTERNAL_MESSAGE
from web.scripts.http import default_script_text

Client = TestClient[web.Request, web.Application]
UNKNOWN = "999999"


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # with {name} placeholders
    ids: tuple[str, ...] = ()  # integer path parameters
    body: Any = None  # a valid JSON body (None: the route reads none)
    bad_fields: tuple[tuple[Any, str], ...] = ()  # (body, the field the 422 names)
    multipart: bool = False

    @property
    def json(self) -> bool:
        return self.body is not None

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


SCRIPT = default_script_text()

ROUTES: list[Route] = [
    Route("GET", "/api/v1/openapi.json"),
    Route("GET", "/api/v1/me"),
    Route("GET", "/api/v1/users"),
    Route("POST", "/api/v1/users", body={"login": "nova", "role": "qa"},
          bad_fields=(({"login": "Nova Pessoa", "role": "qa"}, "login"), ({"login": "nova", "role": "chefe"}, "role"),
                      ({"login": "nova", "role": "agent"}, "extension"),
                      ({"login": "nova", "role": "qa", "password": "curta"}, "password"))),
    Route("PATCH", "/api/v1/users/{user_id}", ids=("user_id",), body={"name": "Ana S."},
          bad_fields=(({"active": "talvez"}, "active"), ({"extension": "abc"}, "extension"),
                      ({"role": None}, "role"))),
    Route("POST", "/api/v1/users/{user_id}/password", ids=("user_id",), body={},
          bad_fields=(({"password": "curta"}, "password"), ({"senha": "x"}, "senha"))),
    Route("GET", "/api/v1/campaigns"),
    Route("POST", "/api/v1/campaigns/{campaign_id}/start", ids=("campaign_id",)),
    Route("POST", "/api/v1/campaigns/{campaign_id}/pause", ids=("campaign_id",)),
    Route("POST", "/api/v1/campaigns/{campaign_id}/stop", ids=("campaign_id",)),
    Route("GET", "/api/v1/campaigns/{campaign_id}/pacing", ids=("campaign_id",)),
    Route("PUT", "/api/v1/campaigns/{campaign_id}/pacing", ids=("campaign_id",), body={"mode": "manual"},
          bad_fields=(({"abandon_cap": 0.5}, "abandon_cap"), ({"turbo": True}, "turbo"))),
    Route("GET", "/api/v1/campaigns/{campaign_id}/segments", ids=("campaign_id",)),
    Route("PUT", "/api/v1/campaigns/{campaign_id}/segments", ids=("campaign_id",), body={"segments": []},
          bad_fields=(({}, "segments"), ({"segments": [{"name": "A", "weight": "x"}]}, "segments[0].weight"),
                      ({"segments": [{"name": "A", "weight": 1, "filters": {"buckets": ["9"]}}]},
                       "segments[0].filters.buckets"))),
    Route("PUT", "/api/v1/campaigns/{campaign_id}/boosts", ids=("campaign_id",), body={"boosts": {"C1": 10}},
          bad_fields=(({"boosts": {"C1": "muito"}}, "boosts.C1"), ({"boosts": {}}, "boosts"))),
    Route("POST", "/api/v1/campaigns/{campaign_id}/import", ids=("campaign_id",), multipart=True),
    Route("POST", "/api/v1/customers/{customer_id}/holds", ids=("customer_id",),
          body={"kind": "lawyer", "reason": "Advogado constituído"},
          bad_fields=(({"kind": "ferias", "reason": "x"}, "kind"),
                      ({"kind": "lawyer", "reason": "x", "until": "amanhã"}, "until"),
                      ({"kind": "lawyer", "reason": "x", "until": "2026-05-01T18:00:00"}, "until"))),
    Route("DELETE", "/api/v1/customers/{customer_id}/holds/{hold_id}", ids=("customer_id", "hold_id")),
    Route("POST", "/api/v1/scripts/validate", body={"yaml": SCRIPT}, bad_fields=(({}, "yaml"), ({"yaml": 5}, "yaml"))),
    Route("POST", "/api/v1/scripts/preview", body={"yaml": SCRIPT, "step": "abertura"},
          bad_fields=(({"yaml": SCRIPT}, "step"),
                      ({"yaml": SCRIPT, "step": "abertura", "identity_confirmed": "sim"}, "identity_confirmed"))),
    Route("GET", "/api/v1/scripts"),
    Route("GET", "/api/v1/floor"),
    Route("GET", "/api/v1/regua/rules"),
    Route("PUT", "/api/v1/regua/rules", body={"rules": [{}]}, bad_fields=(({}, "rules"), ({"rules": []}, "rules"))),
    Route("GET", "/api/v1/regua/preview"),
    Route("POST", "/api/v1/regua/run", body={}, bad_fields=(({"date": "amanhã"}, "date"),)),
    Route("GET", "/api/v1/regua/outbox"),
    Route("POST", "/api/v1/regua/outbox/{message_id}/retry", ids=("message_id",)),
    Route("POST", "/api/v1/regua/opt-outs", body={"customer": "C1", "channel": "email"},
          bad_fields=(({"customer": "C1", "channel": "pombo"}, "channel"), ({"channel": "email"}, "customer"))),
    Route("DELETE", "/api/v1/regua/opt-outs", body={"customer": "C1", "channel": "email"},
          bad_fields=(({"customer": "C1", "channel": "pombo"}, "channel"),)),
    # the gateway's replies: no session, its shared secret header is the credential (tests/web/test_regua_functional.py)
    Route("POST", "/api/v1/regua/inbound"),
    Route("GET", "/api/v1/kpis"),
    Route("GET", "/api/v1/kpis.csv"),
    Route("POST", "/api/v1/floor/monitor", body={"agent_id": 1, "mode": "listen"},
          bad_fields=(({"agent_id": 1, "mode": "shout"}, "mode"), ({"agent_id": "x", "mode": "listen"}, "agent_id"),
                      ({"mode": "listen"}, "agent_id"))),
    Route("POST", "/api/v1/floor/monitor/stop"),
    Route("POST", "/api/v1/scripts/{key}/versions", body={"yaml": SCRIPT}, bad_fields=(({"yaml": ""}, "yaml"),)),
    Route("GET", "/api/v1/scripts/{key}/versions/{version}", ids=("version",)),
    Route("GET", "/api/v1/regua/rules"),
    Route("PUT", "/api/v1/regua/rules", body={"rules": [{}]}, bad_fields=(({}, "rules"), ({"rules": []}, "rules"))),
    Route("GET", "/api/v1/regua/preview"),
    Route("POST", "/api/v1/regua/run", body={}, bad_fields=(({"date": "amanhã"}, "date"),)),
    Route("GET", "/api/v1/regua/outbox"),
    Route("POST", "/api/v1/regua/outbox/{message_id}/retry", ids=("message_id",)),
    Route("POST", "/api/v1/regua/opt-outs", body={"customer": "C1", "channel": "email"},
          bad_fields=(({"customer": "C1", "channel": "pombo"}, "channel"), ({"channel": "email"}, "customer"))),
    Route("DELETE", "/api/v1/regua/opt-outs", body={"customer": "C1", "channel": "email"},
          bad_fields=(({"customer": "C1", "channel": "pombo"}, "channel"),)),
    # the gateway's replies: no session, its shared secret header is the credential (tests/web/test_regua_functional.py)
    Route("POST", "/api/v1/regua/inbound"),
    Route("GET", "/api/v1/kpis"),
    Route("GET", "/api/v1/kpis.csv"),
    Route("PUT", "/api/v1/campaigns/{campaign_id}/script", ids=("campaign_id",), body={"key": None},
          bad_fields=(({"key": 5}, "key"), ({"key": "nao_publicado"}, "key"))),
    Route("GET", "/api/v1/campaigns/{campaign_id}", ids=("campaign_id",)),
    Route("PUT", "/api/v1/campaigns/{campaign_id}/window", ids=("campaign_id",), body={"window": None},
          bad_fields=(({}, "window"), ({"window": {"mon": "25:00-26:00"}}, "window.mon"),
                      ({"window": {"mon": None}}, "window"))),
    Route("POST", "/api/v1/campaigns/{campaign_id}/boosts/preview", ids=("campaign_id",), body={"filter": {}},
          bad_fields=(({"filter": {"ddds": ["1"]}}, "filter.ddds[0]"), ({"filter": {"buckets": ["9"]}}, "filter.buckets"))),
    Route("POST", "/api/v1/campaigns/{campaign_id}/boosts/bulk", ids=("campaign_id",),
          body={"filter": {}, "boost": 10, "expected_count": 0},
          bad_fields=(({"filter": {}, "boost": 10}, "expected_count"),
                      ({"filter": {}, "boost": 5000, "expected_count": 0}, "boost"))),
    Route("GET", "/api/v1/campaigns/{campaign_id}/holds", ids=("campaign_id",)),
    Route("POST", "/api/v1/campaigns/{campaign_id}/holds", ids=("campaign_id",),
          body={"external_id": "C1", "kind": "lawyer", "reason": "Advogado constituído"},
          bad_fields=(({"external_id": "C1", "kind": "ferias", "reason": "x"}, "kind"),
                      ({"external_id": "nobody", "kind": "lawyer", "reason": "x"}, "external_id"))),
    Route("DELETE", "/api/v1/campaigns/{campaign_id}/holds/{hold_id}", ids=("campaign_id", "hold_id")),
    Route("GET", "/api/v1/campaigns/{campaign_id}/history", ids=("campaign_id",)),
    Route("GET", "/api/v1/floor/history"),
    # call ids are 32 hex digits, not integers: their 422/404 are in tests/web/test_recordings_functional.py
    Route("GET", "/api/v1/calls/{call_id}/recording"),
    Route("GET", "/api/v1/calls"),
    Route("GET", "/api/v1/calls.csv"),
    Route("GET", "/api/v1/calls/{call_id}"),
    Route("POST", "/api/v1/calls/{call_id}/reviews", body={"answers": {"identificou": True}},
          bad_fields=(({"answers": "sim"}, "answers"), ({"answers": {}, "nota": 10}, "nota"),
                      ({"answers": {"identificou": "talvez"}}, "answers.identificou"))),
    Route("GET", "/api/v1/scorecards"),
    Route("GET", "/api/v1/scorecards/{key}"),
    Route("PUT", "/api/v1/scorecards/{key}", body={"name": "Ficha", "items": [{"key": "a", "label": "A", "weight": 1}]},
          bad_fields=(({"name": "x", "items": []}, "items"),
                      ({"name": "x", "items": [{"key": "a", "label": "A", "weight": 0}]}, "items[0].weight"))),
    Route("GET", "/api/v1/qa/queue"),
    Route("GET", "/api/v1/qa/ranking"),
    Route("GET", "/api/v1/me/reviews"),
]


@dataclass
class World:
    client: Client
    token: str
    # a path parameter → a value that exists (hold_id excepted: on the seeded customer,
    # 999999 is the hold that names nothing, while an unknown customer_id is named first)
    ids: dict[str, str]


async def _seed(db_url: str) -> dict[str, str]:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine).begin() as db:
            campaign = Campaign(name="Varejo", mode=CampaignMode.PROGRESSIVE, dial_template="Local/{number}@x",
                                caller_id="1", pbx_name="sim")
            customer = Customer(external_id="C1", name="Maria Silva", cpf="52998224725")
            db.add_all([campaign, customer])
            await db.flush()
            ana = await db.scalar(select(User.id).where(User.login == "ana"))
            return {"campaign_id": str(campaign.id), "customer_id": str(customer.id), "hold_id": UNKNOWN,
                    "message_id": UNKNOWN,
                    "version": "1", "key": "padrao", "call_id": "0" * 32,
                    "user_id": str(ana)}
    finally:
        await engine.dispose()


@pytest.fixture
async def world(client: Client, db_url: str) -> World:
    ids = await _seed(db_url)
    assert (await log_in(client, "root")).status == 303  # admins may open every route
    return World(client, await session_csrf(client), ids)


def _url(route: Route, ids: dict[str, str], **override: str) -> str:
    return route.path.format(**{**ids, **override})


async def _send(world: World, route: Route, url: str, *, json: Any = None, data: Any = None) -> Any:
    headers = {"X-CSRF-Token": world.token}
    if route.multipart and data is None and json is None:
        form = aiohttp.FormData()
        form.add_field("file", b"id_cliente;nome\n", filename="carteira.csv", content_type="text/csv")
        data = form
    elif route.json and data is None and json is None:
        json = route.body
    return await world.client.request(route.method, url, json=json, data=data, headers=headers)


async def one_shape(resp: Any) -> dict[str, Any]:
    """The error of ``resp``, after checking it has the one shape (and JSON, never cached)."""
    assert resp.content_type == "application/json"
    assert resp.headers.get("Cache-Control") == "no-store"
    body = await resp.json()
    assert set(body) <= {"error", "errors"}, body  # the script editor's list of problems may come along
    error: dict[str, Any] = body["error"]
    assert set(error) == {"code", "message", "field"}, error
    assert isinstance(error["code"], str) and isinstance(error["message"], str) and error["message"]
    return error


WITH_IDS = [(r, name) for r in ROUTES for name in r.ids]


@pytest.mark.parametrize("raw", ["abc", "0", "-3", "1.5", "2147483648", "%D9%A1"])
@pytest.mark.parametrize(("route", "name"), WITH_IDS, ids=[f"{r} {n}" for r, n in WITH_IDS])
async def test_a_malformed_id_is_422_naming_it(world: World, route: Route, name: str, raw: str) -> None:
    resp = await _send(world, route, _url(route, world.ids, **{name: raw}))
    assert resp.status == 422, await resp.text()
    error = await one_shape(resp)
    assert (error["code"], error["field"]) == ("invalid", name)
    assert error["message"].startswith("Identificador de ")


@pytest.mark.parametrize(("route", "name"), WITH_IDS, ids=[f"{r} {n}" for r, n in WITH_IDS])
async def test_an_id_that_names_nothing_is_404_naming_it(world: World, route: Route, name: str) -> None:
    resp = await _send(world, route, _url(route, world.ids, **{name: UNKNOWN}))
    assert resp.status == 404, await resp.text()
    error = await one_shape(resp)
    assert (error["code"], error["field"]) == ("not_found", name)
    assert UNKNOWN in error["message"]


JSON_ROUTES = [r for r in ROUTES if r.json]


@pytest.mark.parametrize(
    ("raw", "message"),
    [(b"{nao e json", "O corpo da requisição não é JSON válido."), (b"", "O corpo da requisição não é JSON válido."),
     (b"[1]", "O corpo da requisição deve ser um objeto JSON."),
     (b'"texto"', "O corpo da requisição deve ser um objeto JSON.")],
)
@pytest.mark.parametrize("route", JSON_ROUTES, ids=str)
async def test_a_body_that_is_not_a_json_object_is_422_with_no_field(
    world: World, route: Route, raw: bytes, message: str
) -> None:
    resp = await world.client.request(
        route.method, _url(route, world.ids), data=raw,
        headers={"X-CSRF-Token": world.token, "Content-Type": "application/json"},
    )
    assert resp.status == 422, await resp.text()
    assert await one_shape(resp) == {"code": "invalid", "message": message, "field": None}


BAD_FIELDS = [(r, body, f) for r in JSON_ROUTES for body, f in r.bad_fields]


@pytest.mark.parametrize(("route", "body", "name"), BAD_FIELDS, ids=[f"{r} {f}" for r, _, f in BAD_FIELDS])
async def test_a_bad_field_is_422_naming_it(world: World, route: Route, body: Any, name: str) -> None:
    resp = await _send(world, route, _url(route, world.ids), json=body)
    assert resp.status == 422, await resp.text()
    error = await one_shape(resp)
    assert (error["code"], error["field"]) == ("invalid", name)


async def test_a_body_over_the_size_limit_is_413_in_the_shape(world: World) -> None:
    huge = b'{"mode": "' + b"x" * (1024 * 1024) + b'"}'
    resp = await world.client.put(f"/api/v1/campaigns/{world.ids['campaign_id']}/pacing", data=io.BytesIO(huge),
                                  headers={"X-CSRF-Token": world.token, "Content-Type": "application/json"})
    assert resp.status == 413
    assert (await one_shape(resp))["code"] == "too_large"


async def test_an_upload_that_is_not_multipart_is_415_naming_the_file(world: World) -> None:
    resp = await world.client.post(f"/api/v1/campaigns/{world.ids['campaign_id']}/import", json={},
                                   headers={"X-CSRF-Token": world.token})
    assert resp.status == 415
    assert (await one_shape(resp))["field"] == "file"


async def test_an_upload_without_the_file_is_422_naming_it(world: World) -> None:
    form = aiohttp.FormData(default_to_multipart=True)
    form.add_field("dry_run", "true")
    resp = await world.client.post(f"/api/v1/campaigns/{world.ids['campaign_id']}/import", data=form,
                                   headers={"X-CSRF-Token": world.token})
    assert resp.status == 422
    assert (await one_shape(resp))["field"] == "file"


async def test_releasing_a_hold_twice_is_409(world: World) -> None:
    customer = world.ids["customer_id"]
    created = await world.client.post(f"/api/v1/customers/{customer}/holds", json={"kind": "lawyer", "reason": "x"},
                                      headers={"X-CSRF-Token": world.token})
    assert created.status == 201
    url = f"/api/v1/customers/{customer}/holds/{(await created.json())['id']}"
    assert (await world.client.delete(url, headers={"X-CSRF-Token": world.token})).status == 200
    again = await world.client.delete(url, headers={"X-CSRF-Token": world.token})
    assert again.status == 409
    error = await one_shape(again)
    assert (error["code"], error["field"]) == ("conflict", "hold_id")


async def test_an_invalid_script_keeps_its_list_of_problems_next_to_the_error(world: World) -> None:
    broken = SCRIPT.replace("id: padrao", "id: padrao\nnada: [", 1)
    resp = await world.client.post("/api/v1/scripts/padrao/versions", json={"yaml": broken},
                                   headers={"X-CSRF-Token": world.token})
    assert resp.status == 422
    assert (await one_shape(resp))["field"] == "yaml"
    assert (await resp.json())["errors"]


PUBLIC_PATHS = {"/api/v1/openapi.json", "/api/v1/regua/inbound"}  # read before logging in; the gateway authenticates with its secret


@pytest.mark.parametrize("route", [r for r in ROUTES if r.path not in PUBLIC_PATHS], ids=str)
async def test_nobody_logged_in_gets_401_in_the_shape(client: Client, db_url: str, route: Route) -> None:
    ids = await _seed(db_url)
    resp = await client.request(route.method, _url(route, ids))
    assert resp.status == 401
    assert await one_shape(resp) == {"code": "unauthenticated", "field": None,
                                     "message": "Sessão ausente ou expirada: faça login novamente."}


async def test_a_role_without_access_and_a_missing_csrf_token_get_403_in_the_shape(world: World) -> None:
    no_csrf = await world.client.put(f"/api/v1/campaigns/{world.ids['campaign_id']}/pacing", json={})
    assert no_csrf.status == 403
    assert (await one_shape(no_csrf))["code"] == "csrf"
    await world.client.post("/logout", headers={"X-CSRF-Token": world.token})
    assert (await log_in(world.client, "ana")).status == 303
    refused = await world.client.get("/api/v1/users")
    assert refused.status == 403
    assert (await one_shape(refused))["code"] == "forbidden"


async def test_an_unknown_api_path_or_method_answers_in_the_shape(world: World) -> None:
    missing = await world.client.get("/api/v1/nada")
    assert missing.status == 404
    assert await one_shape(missing) == {"code": "not_found", "message": "Recurso não encontrado.", "field": None}
    wrong = await world.client.delete("/api/v1/scripts", headers={"X-CSRF-Token": world.token})
    assert wrong.status == 405
    assert (await one_shape(wrong))["code"] == "method_not_allowed"


async def test_pages_still_render_their_own_errors(world: World) -> None:
    resp = await world.client.get("/pagina-que-nao-existe")
    assert resp.status == 404 and resp.content_type != "application/json"


@requires(Role.ADMIN)
async def _broken(request: web.Request) -> web.Response:
    raise KeyError("a bug in a handler")


async def test_an_unexpected_exception_is_a_logged_500_in_the_shape(
    aiohttp_client: AiohttpClient, app: web.Application, caplog: pytest.LogCaptureFixture
) -> None:
    app.router.add_get("/api/v1/quebrado", _broken)
    client = await aiohttp_client(app)
    assert (await log_in(client, "root")).status == 303
    with caplog.at_level(logging.ERROR, logger="web.errors"):
        resp = await client.get("/api/v1/quebrado")
    assert resp.status == 500
    assert await one_shape(resp) == {"code": "internal_error", "message": INTERNAL_MESSAGE, "field": None}
    assert any(r.name == "web.errors" and r.exc_info and isinstance(r.exc_info[1], KeyError) for r in caplog.records)


def test_the_table_covers_every_api_route(app: web.Application) -> None:
    mounted = {
        f"{r.method} {r.resource.canonical}"
        for r in app.router.routes()
        if r.resource is not None and r.resource.canonical.startswith("/api/") and r.method != "HEAD"
    }
    assert mounted == {str(r) for r in ROUTES}


@pytest.mark.parametrize(
    ("route_path", "body", "field"),
    [
        # json reads 10**400 as an int: math.isfinite() on it raised OverflowError
        ("/api/v1/campaigns/{campaign_id}/pacing", b'{"max_dial_level": 1' + b"0" * 400 + b"}", "max_dial_level"),
        # quantizing 1e100 to cents raised decimal.InvalidOperation
        ("/api/v1/campaigns/{campaign_id}/segments",
         b'{"segments": [{"name": "A", "weight": 1, "filters": {"balance_min": "1e100"}}]}',
         "segments[0].filters.balance_min"),
        ("/api/v1/campaigns/{campaign_id}/segments",
         b'{"segments": [{"name": "A", "weight": 1, "filters": {"score_min": 1' + b"0" * 30 + b"}}]}",
         "segments[0].filters.score_min"),
    ],
    ids=["pacing-huge-int", "segments-huge-amount", "segments-huge-score"],
)
async def test_values_beyond_the_bounds_are_422_naming_the_field_not_500(
    world: World, route_path: str, body: bytes, field: str
) -> None:
    resp = await world.client.put(route_path.format(**world.ids), data=body,
                                  headers={"X-CSRF-Token": world.token, "Content-Type": "application/json"})
    assert resp.status == 422, await resp.text()
    assert (await one_shape(resp))["field"] == field


async def test_a_malformed_multipart_upload_is_422_naming_file_not_500(world: World) -> None:
    # found by schemathesis: aiohttp's multipart reader raises InvalidHeader, not an HTTP error
    boundary = "6114a31c90e05f214548b8ba7d0320e6"
    raw = f"--{boundary}\r\n".encode() + b"\xc2\x9f\xf1\x8a\x85\xbc\x02X" + f"--{boundary}--\r\n".encode()
    resp = await world.client.post(
        f"/api/v1/campaigns/{world.ids['campaign_id']}/import", data=raw,
        headers={"X-CSRF-Token": world.token, "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert resp.status == 422, await resp.text()
    assert (await one_shape(resp))["field"] == "file"
