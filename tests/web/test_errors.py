"""The API's one error shape (``web.errors``): FieldError, the parsing helpers and the middleware.

The helpers that read a request run behind a small real aiohttp app with the middleware, on
127.0.0.1, so what is asserted is what a client reads.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tests.web.conftest import AiohttpClient
from web.errors import (
    INTERNAL_MESSAGE,
    MALFORMED_JSON,
    NOT_AN_OBJECT,
    TOO_DEEP,
    FieldError,
    api_error_middleware,
    field_path,
    parse_id,
    parse_model,
    path_id,
    read_body,
    validation_error,
)

Client = TestClient[web.Request, web.Application]


class Agreement(BaseModel):
    model_config = ConfigDict(extra="forbid")

    installments: int = Field(ge=1, le=24)
    first_due: datetime | None = None


class Item(BaseModel):
    name: str = Field(min_length=1, max_length=10)


class Deal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agreement: Agreement
    items: list[Item] = Field(default_factory=list, max_length=2)
    mode: str = "cash"


# ---------------------------------------------------------------- FieldError


def test_invalid_is_422_naming_the_field() -> None:
    exc = FieldError.invalid("campaign_id", "Identificador inválido.")
    assert (exc.status, exc.code, exc.field) == (422, "invalid", "campaign_id")
    assert exc.body() == {"error": {"code": "invalid", "message": "Identificador inválido.", "field": "campaign_id"}}


def test_invalid_may_name_no_field_and_carry_other_keys() -> None:
    exc = FieldError.invalid(None, "Corpo inválido.", extra={"errors": [{"step": "a"}]})
    assert exc.body() == {"errors": [{"step": "a"}], "error": {"code": "invalid", "message": "Corpo inválido.",
                                                              "field": None}}


@pytest.mark.parametrize(
    ("exc", "status", "code", "field"),
    [
        (FieldError.not_found("hold_id", "x"), 404, "not_found", "hold_id"),
        (FieldError.conflict("x"), 409, "conflict", None),
        (FieldError.conflict("x", field="key"), 409, "conflict", "key"),
        (FieldError.forbidden("x"), 403, "forbidden", None),
        (FieldError.forbidden("x", code="csrf"), 403, "csrf", None),
        (FieldError.unauthenticated("x"), 401, "unauthenticated", None),
    ],
)
def test_each_kind_has_its_status_and_code(exc: FieldError, status: int, code: str, field: str | None) -> None:
    assert (exc.status, exc.code, exc.field) == (status, code, field)
    assert exc.body() == {"error": {"code": code, "message": "x", "field": field}}


def test_unavailable_sends_retry_after() -> None:
    resp = FieldError.unavailable("Tente de novo em instantes.", retry_after=30).response()
    assert resp.status == 503
    assert resp.headers["Retry-After"] == "30"
    assert resp.headers["Cache-Control"] == "no-store"
    with pytest.raises(ValueError):
        FieldError.unavailable("x", retry_after=-1)


def test_the_response_is_json_and_never_cached() -> None:
    resp = FieldError.not_found("campaign_id", "Campanha 9 não existe.").response()
    assert (resp.status, resp.content_type, resp.headers["Cache-Control"]) == (404, "application/json", "no-store")


# ---------------------------------------------------------------- ids


@pytest.mark.parametrize(("raw", "value"), [("1", 1), ("42", 42), ("0042", 42), ("2147483647", 2**31 - 1)])
def test_parse_id_takes_positive_ascii_integers(raw: str, value: int) -> None:
    assert parse_id(raw, "campaign_id", "campanha") == value


@pytest.mark.parametrize("raw", ["", "0", "-1", "+1", "1.5", "1e3", " 1", "1 ", "abc", "2147483648",
                                 "99999999999", "\u0661", "\uff11", "1\n"])
def test_parse_id_refuses_everything_else_naming_the_field(raw: str) -> None:
    with pytest.raises(FieldError) as caught:
        parse_id(raw, "customer_id", "cliente")
    exc = caught.value
    assert (exc.status, exc.code, exc.field) == (422, "invalid", "customer_id")
    assert exc.message == f"Identificador de cliente inválido: {raw!r} (use um número inteiro positivo)."


# ---------------------------------------------------------------- pydantic errors


def test_field_path_joins_names_with_dots_and_indexes_with_brackets() -> None:
    assert field_path(("agreement", "installments")) == "agreement.installments"
    assert field_path(("segments", 2, "filters", "buckets")) == "segments[2].filters.buckets"
    assert field_path(("boosts", "C001")) == "boosts.C001"
    assert field_path(()) == ""


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({}, "agreement", "agreement: campo obrigatório"),
        ({"agreement": {"installments": 0}}, "agreement.installments",
         "agreement.installments: deve ser no mínimo 1"),
        ({"agreement": {"installments": 30}}, "agreement.installments",
         "agreement.installments: deve ser no máximo 24"),
        ({"agreement": {"installments": "doze"}}, "agreement.installments",
         "agreement.installments: deve ser um número inteiro"),
        ({"agreement": {"installments": 2, "juros": 1}}, "agreement.juros", "agreement.juros: campo desconhecido"),
        ({"agreement": {"installments": 2, "first_due": "amanhã"}}, "agreement.first_due",
         "agreement.first_due: deve ser uma data e hora ISO 8601 (ex.: 2026-05-01T18:00:00-03:00)"),
        ({"agreement": 3}, "agreement", "agreement: deve ser um objeto JSON"),
        ({"agreement": {"installments": 2}, "items": [{"name": "a"}, {"name": ""}]}, "items[1].name",
         "items[1].name: não pode ser vazio"),
        ({"agreement": {"installments": 2}, "items": [{"name": "a" * 11}]}, "items[0].name",
         "items[0].name: deve ter no máximo 10 caracteres"),
        ({"agreement": {"installments": 2}, "items": [{"name": "a"}] * 3}, "items",
         "items: deve ter no máximo 2 item(ns)"),
        ({"agreement": {"installments": 2}, "items": "a"}, "items", "items: deve ser uma lista"),
        ({"agreement": {"installments": 2}, "mode": 5}, "mode", "mode: deve ser um texto"),
    ],
)
def test_parse_model_names_the_first_bad_field_in_portuguese(data: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(FieldError) as caught:
        parse_model(data, Deal)
    assert (caught.value.status, caught.value.field, caught.value.message) == (422, field, message)


def test_parse_model_reports_only_the_first_of_several_problems() -> None:
    with pytest.raises(FieldError) as caught:
        parse_model({"agreement": {"installments": 0}, "mode": 5}, Deal)
    assert caught.value.field == "agreement.installments"


def test_parse_model_returns_the_model() -> None:
    deal = parse_model({"agreement": {"installments": 3}}, Deal)
    assert deal.agreement.installments == 3 and deal.items == []


def test_a_problem_with_the_whole_value_names_no_field() -> None:
    with pytest.raises(ValidationError) as caught:
        Deal.model_validate([1])
    exc = validation_error(caught.value)
    assert (exc.status, exc.field) == (422, None)
    assert exc.message == "Corpo da requisição inválido: deve ser um objeto JSON"


def test_an_error_pydantic_does_not_name_still_reads_in_portuguese() -> None:
    class Pattern(BaseModel):
        code: str = Field(pattern=r"^[A-Z]+$")

    with pytest.raises(FieldError) as caught:
        parse_model({"code": "abc"}, Pattern)
    assert caught.value.message == "code: valor inválido"


# ---------------------------------------------------------------- over HTTP, behind the middleware


async def _deal(request: web.Request) -> web.Response:
    deal_id = path_id(request, "deal_id", "acordo")
    body = await read_body(request, Deal)
    if deal_id == 404:
        raise FieldError.not_found("deal_id", f"Acordo {deal_id} não existe.")
    return web.json_response({"id": deal_id, "installments": body.agreement.installments})


async def _boom(request: web.Request) -> web.Response:
    raise RuntimeError("a bug")


async def _busy(request: web.Request) -> web.Response:
    raise FieldError.unavailable("O discador está reiniciando; tente de novo.", retry_after=5)


async def _gone(request: web.Request) -> web.Response:
    raise web.HTTPUnauthorized()


async def _redirect(request: web.Request) -> web.Response:
    raise web.HTTPSeeOther("/login")


@pytest.fixture
async def small(aiohttp_client: AiohttpClient) -> Client:
    app = web.Application(middlewares=[api_error_middleware])
    app.router.add_put("/api/v1/deals/{deal_id}", _deal)
    app.router.add_get("/api/v1/boom", _boom)
    app.router.add_get("/api/v1/busy", _busy)
    app.router.add_get("/api/v1/gone", _gone)
    app.router.add_get("/api/v1/redirect", _redirect)
    app.router.add_get("/pagina/boom", _boom)
    return await aiohttp_client(app)


async def _error(resp: Any) -> dict[str, Any]:
    body = await resp.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "field"}
    error: dict[str, Any] = body["error"]
    return error


async def test_a_good_request_goes_through(small: Client) -> None:
    resp = await small.put("/api/v1/deals/7", json={"agreement": {"installments": 3}})
    assert resp.status == 200 and await resp.json() == {"id": 7, "installments": 3}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{not json", MALFORMED_JSON),
        (b"", MALFORMED_JSON),
        (b'{"agreement": {"installments": NaN}}', MALFORMED_JSON),
        (b"\xff\xfe", MALFORMED_JSON),
        (b"[1, 2]", NOT_AN_OBJECT),
        (b'"texto"', NOT_AN_OBJECT),
        (b"null", NOT_AN_OBJECT),
    ],
)
async def test_a_body_that_is_not_a_json_object_is_422_with_no_field(small: Client, raw: bytes, message: str) -> None:
    resp = await small.put("/api/v1/deals/7", data=raw, headers={"Content-Type": "application/json"})
    assert resp.status == 422
    assert await _error(resp) == {"code": "invalid", "message": message, "field": None}


@pytest.mark.parametrize(
    "raw",
    [
        b'{"agreement": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",  # json's decoder: RecursionError
        b'{"agreement": ' + b"[" * 100_000,  # unterminated, just as deep
        b'{"a": ' * 33 + b"1" + b"}" * 33,  # parses, but deeper than any body Cobra reads
    ],
    ids=["100k-lists", "100k-unterminated", "33-objects"],
)
async def test_a_deeply_nested_body_is_422_not_a_500(small: Client, raw: bytes) -> None:
    resp = await small.put("/api/v1/deals/7", data=raw, headers={"Content-Type": "application/json"})
    assert resp.status == 422
    assert await _error(resp) == {"code": "invalid", "message": TOO_DEEP, "field": None}


async def test_nesting_up_to_the_limit_is_read(small: Client) -> None:
    raw = b'{"agreement": {"installments": 3}, "items": ' + b"[" * 30 + b"]" * 30 + b"}"
    resp = await small.put("/api/v1/deals/7", data=raw, headers={"Content-Type": "application/json"})
    assert resp.status == 422 and (await _error(resp))["field"] == "items[0]"  # a field's problem, not the depth


async def test_a_bad_nested_field_is_422_naming_its_dotted_path(small: Client) -> None:
    resp = await small.put("/api/v1/deals/7", json={"agreement": {"installments": 0}})
    assert resp.status == 422
    assert await _error(resp) == {"code": "invalid", "field": "agreement.installments",
                                  "message": "agreement.installments: deve ser no mínimo 1"}


async def test_a_malformed_path_id_is_422_and_an_unknown_one_404(small: Client) -> None:
    bad = await small.put("/api/v1/deals/x1", json={"agreement": {"installments": 1}})
    assert bad.status == 422 and (await _error(bad))["field"] == "deal_id"
    missing = await small.put("/api/v1/deals/404", json={"agreement": {"installments": 1}})
    assert missing.status == 404
    assert await _error(missing) == {"code": "not_found", "message": "Acordo 404 não existe.", "field": "deal_id"}


async def test_an_unexpected_exception_is_a_logged_500_in_the_same_shape(
    small: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="web.errors"):
        resp = await small.get("/api/v1/boom")
    assert resp.status == 500
    assert await _error(resp) == {"code": "internal_error", "message": INTERNAL_MESSAGE, "field": None}
    assert "a bug" not in await resp.text()  # the traceback goes to the log, not to the client
    record = next(r for r in caplog.records if r.name == "web.errors")
    assert "GET /api/v1/boom" in record.getMessage()
    assert record.exc_info is not None and isinstance(record.exc_info[1], RuntimeError)


async def test_unavailable_answers_503_with_retry_after(small: Client) -> None:
    resp = await small.get("/api/v1/busy")
    assert (resp.status, resp.headers["Retry-After"]) == (503, "5")
    assert (await _error(resp))["code"] == "unavailable"


async def test_aiohttp_errors_under_api_use_the_shape_too(small: Client) -> None:
    missing = await small.get("/api/v1/nada")
    assert missing.status == 404
    assert await _error(missing) == {"code": "not_found", "message": "Recurso não encontrado.", "field": None}
    wrong = await small.delete("/api/v1/deals/7")
    assert wrong.status == 405 and "PUT" in wrong.headers["Allow"]
    assert (await _error(wrong))["code"] == "method_not_allowed"
    gone = await small.get("/api/v1/gone")
    assert gone.status == 401 and (await _error(gone))["code"] == "unauthenticated"


async def test_redirects_pass_through(small: Client) -> None:
    resp = await small.get("/api/v1/redirect", allow_redirects=False)
    assert (resp.status, resp.headers["Location"]) == (303, "/login")


async def test_pages_keep_their_own_error_handling(small: Client) -> None:
    resp = await small.get("/pagina/boom")
    assert resp.status == 500 and resp.content_type != "application/json"
    assert (await small.get("/pagina/nada")).content_type != "application/json"
