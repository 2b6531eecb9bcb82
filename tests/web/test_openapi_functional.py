"""The OpenAPI document a real server serves: public, OpenAPI 3.1, and covering every ``/api/`` route."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from web.openapi import (
    OPENAPI_PATH,
    OPERATIONS,
    documented_routes,
    mounted_api_routes,
    openapi_document,
)

Client = TestClient[web.Request, web.Application]


async def _document(client: Client) -> dict[str, Any]:
    resp = await client.get(OPENAPI_PATH)  # no session: the document is public
    assert resp.status == 200, await resp.text()
    assert resp.content_type == "application/json"
    body: dict[str, Any] = await resp.json()
    return body


async def test_the_document_is_served_without_a_session_as_openapi_3_1(client: Client) -> None:
    doc = await _document(client)
    assert doc["openapi"] == "3.1.0"
    assert doc == openapi_document()
    assert doc["components"]["securitySchemes"]["csrf"] == {"type": "apiKey", "in": "header", "name": "X-CSRF-Token"}


async def test_every_mounted_api_route_is_documented_and_nothing_else(client: Client, app: web.Application) -> None:
    mounted = mounted_api_routes(app)
    assert len(mounted) >= 20
    assert mounted - documented_routes() == set(), "mounted /api/ routes missing from web.openapi.OPERATIONS"
    assert documented_routes() - mounted == set(), "documented routes the app does not mount"
    doc = await _document(client)
    served = {(method.upper(), path) for path, ops in doc["paths"].items() for method in ops}
    assert served == mounted


def test_a_route_left_out_of_the_table_is_noticed() -> None:
    app = web.Application()

    async def handler(request: web.Request) -> web.Response:
        return web.Response()

    app.router.add_get("/api/v1/me", handler)
    app.router.add_post("/api/v1/novidade/{item_id}", handler)
    assert mounted_api_routes(app) - documented_routes() == {("POST", "/api/v1/novidade/{item_id}")}


async def test_path_parameters_bodies_and_errors_are_described(client: Client) -> None:
    doc = await _document(client)
    pacing = doc["paths"]["/api/v1/campaigns/{campaign_id}/pacing"]["put"]
    assert pacing["parameters"] == [{"name": "campaign_id", "in": "path", "required": True,
                                     "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}}]
    assert pacing["security"] == [{"session": [], "csrf": []}]
    ref = pacing["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
    level = next(s for s in schema["properties"]["max_dial_level"]["anyOf"] if s.get("type") == "number")
    assert (level["minimum"], level["maximum"]) == (1.0, 10.0)
    assert schema["additionalProperties"] is False
    error = pacing["responses"]["422"]["content"]["application/json"]["schema"]
    assert error == {"$ref": "#/components/schemas/Error"}
    assert doc["components"]["schemas"]["Error"]["properties"]["error"]["required"] == ["code", "message", "field"]
    # nested models land in components, and every $ref resolves
    refs = {r.rsplit("/", 1)[1] for r in _refs(doc)}
    assert refs <= set(doc["components"]["schemas"]), refs - set(doc["components"]["schemas"])
    assert "SegmentIn" in refs and "FilterIn" in refs


def _refs(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [value["$ref"]] if isinstance(value.get("$ref"), str) else []
        return found + [r for v in value.values() for r in _refs(v)]
    if isinstance(value, list):
        return [r for v in value for r in _refs(v)]
    return []


def test_every_body_model_has_bounds_on_its_strings_lists_and_integers() -> None:
    doc = openapi_document()
    unbounded: list[str] = []

    def walk(schema: Any, where: str) -> None:
        if isinstance(schema, dict):
            kind = schema.get("type")
            # a pattern-checked string is a Decimal's text form: max_digits bounds it
            if kind == "string" and not {"maxLength", "enum", "format", "pattern"} & set(schema):
                unbounded.append(where)
            if kind == "array" and "maxItems" not in schema:
                unbounded.append(where)
            if kind == "integer" and "maximum" not in schema:
                unbounded.append(where)
            if kind == "object" and "additionalProperties" in schema and isinstance(
                schema["additionalProperties"], dict
            ) and "maxProperties" not in schema:
                unbounded.append(where)
            for key, sub in schema.items():
                walk(sub, f"{where}.{key}")
        elif isinstance(schema, list):
            for i, sub in enumerate(schema):
                walk(sub, f"{where}[{i}]")

    for op in OPERATIONS:
        if op.body is not None:
            walk(doc["components"]["schemas"][op.body.__name__], op.body.__name__)
    for name in ("FilterIn", "SegmentIn"):
        walk(doc["components"]["schemas"][name], name)
    assert unbounded == []
