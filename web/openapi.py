"""Cobra's OpenAPI 3.1 document, served at ``GET /api/v1/openapi.json`` (SPEC §2, §11).

The document is built from the code: :data:`OPERATIONS` is the one table of every ``/api/``
route (method, path, roles, body model, success status), the request bodies' schemas come
from the pydantic models the handlers read (``model_json_schema``), and every error answers
in the one body of :mod:`web.errors`. A test fails when a mounted ``/api/`` route is missing
here, so the table cannot drift from the router.

The document is public: it holds nothing that is not in the open-source code, and API
clients and tools (schemathesis, code generators) read it before they have a session.
The texts are English: the document is for programmers; the API's messages are pt-BR.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from storage.models import Role
from web.auth.access import public
from web.auth.settings import SESSION_COOKIE
from web.errors import MAX_ID, NO_STORE
from web.pacing.http import PacingIn
from web.qa.http import ReviewIn, ScorecardIn
from web.scripts.http import MAX_KEY_CHARS, CampaignScriptIn, PreviewIn, YamlIn
from web.supervisor.api import MAX_UPLOAD_BYTES, BoostsIn, HoldIn, SegmentsIn
from web.supervisor_console.api import MonitorIn

OPENAPI_PATH = "/api/v1/openapi.json"
CSRF_HEADER = "X-CSRF-Token"
MANAGERS = (Role.SUPERVISOR, Role.ADMIN)
READERS = (Role.SUPERVISOR, Role.ADMIN, Role.QA)
EVERYONE = tuple(Role)

_PARAM = re.compile(r"\{([^}]+)\}")
_SAFE = ("GET", "HEAD", "OPTIONS")


@dataclass(frozen=True)
class Operation:
    """One ``/api/`` route as the document describes it."""

    method: str
    path: str
    summary: str
    roles: tuple[Role, ...]
    body: type[BaseModel] | None = None
    multipart: bool = False
    status: int = 200

    @property
    def operation_id(self) -> str:
        words = re.sub(r"[{}]", "", self.path.removeprefix("/api/v1/")).replace("/", "_")
        return f"{self.method.lower()}_{words or 'root'}"


OPERATIONS: tuple[Operation, ...] = (
    Operation("GET", OPENAPI_PATH, "This document.", ()),
    Operation("GET", "/api/v1/me", "The logged-in user and the session's CSRF token.", EVERYONE),
    Operation("GET", "/api/v1/users", "Every user.", (Role.ADMIN,)),
    Operation("GET", "/api/v1/campaigns", "Every campaign with its status and live figures.", MANAGERS),
    Operation("POST", "/api/v1/campaigns/{campaign_id}/start", "The dialer works the campaign (audited).", MANAGERS),
    Operation("POST", "/api/v1/campaigns/{campaign_id}/pause", "No new calls for now (audited).", MANAGERS),
    Operation("POST", "/api/v1/campaigns/{campaign_id}/stop", "Off the floor until started (audited).", MANAGERS),
    Operation("GET", "/api/v1/campaigns/{campaign_id}/pacing", "The campaign's live pacing figures.", READERS),
    Operation("PUT", "/api/v1/campaigns/{campaign_id}/pacing", "Change any pacing setting (audited).", MANAGERS,
              body=PacingIn),
    Operation("GET", "/api/v1/campaigns/{campaign_id}/segments", "Segments and boosted leads.", READERS),
    Operation("PUT", "/api/v1/campaigns/{campaign_id}/segments", "Replace the segments (audited; re-ranks leads).",
              MANAGERS, body=SegmentsIn),
    Operation("PUT", "/api/v1/campaigns/{campaign_id}/boosts", "Boost customers' leads (audited).", MANAGERS,
              body=BoostsIn),
    Operation("POST", "/api/v1/campaigns/{campaign_id}/import",
              "Import a portfolio CSV (multipart: file, dry_run; audited).", MANAGERS, multipart=True),
    Operation("POST", "/api/v1/customers/{customer_id}/holds", "Suspend collection of a customer (audited).",
              MANAGERS, body=HoldIn, status=201),
    Operation("DELETE", "/api/v1/customers/{customer_id}/holds/{hold_id}", "End a suspension (audited).", MANAGERS),
    Operation("POST", "/api/v1/scripts/validate", "Every problem of a script, with step and line.", MANAGERS,
              body=YamlIn),
    Operation("POST", "/api/v1/scripts/preview", "One step rendered with the sample customer.", MANAGERS,
              body=PreviewIn),
    Operation("GET", "/api/v1/scripts", "Every published script and its versions.", MANAGERS),
    Operation("POST", "/api/v1/scripts/{key}/versions", "Publish the next version (validated; audited).", MANAGERS,
              body=YamlIn, status=201),
    Operation("GET", "/api/v1/scripts/{key}/versions/{version}", "One published version's text.", MANAGERS),
    Operation("PUT", "/api/v1/campaigns/{campaign_id}/script", "The script the campaign's calls run (audited).",
              MANAGERS, body=CampaignScriptIn),
    Operation("GET", "/api/v1/floor", "Every agent and campaign now (the wallboard's snapshot).", MANAGERS),
    Operation("POST", "/api/v1/floor/monitor", "Listen, whisper or barge on an agent's call (audited).", MANAGERS,
              body=MonitorIn, status=201),
    Operation("POST", "/api/v1/floor/monitor/stop", "End the caller's monitoring session (audited).", MANAGERS),
    Operation("GET", "/api/v1/calls", "Call records, filtered, newest first, keyset-paged (`next`).", READERS),
    Operation("GET", "/api/v1/calls.csv", "The filtered call records as CSV (`;`, UTF-8 BOM; audited).", READERS),
    Operation("GET", "/api/v1/calls/{call_id}", "One call: timeline, script run, negotiation, flags, reviews.", READERS),
    Operation("POST", "/api/v1/calls/{call_id}/reviews", "Score the call on a scorecard (audited).", READERS,
              body=ReviewIn, status=201),
    Operation("GET", "/api/v1/scorecards", "Every QA scorecard.", READERS),
    Operation("GET", "/api/v1/scorecards/{key}", "One QA scorecard.", READERS),
    Operation("PUT", "/api/v1/scorecards/{key}", "Create or replace a QA scorecard (audited).", READERS,
              body=ScorecardIn),
    Operation("GET", "/api/v1/qa/queue", "Calls to review first (risky ones and the weekly sample).", READERS),
    Operation("GET", "/api/v1/qa/ranking", "Agents by average review score.", READERS),
    Operation("GET", "/api/v1/me/reviews", "Reviews of the logged-in agent's calls.", EVERYONE),
)

ERROR_BODY: dict[str, Any] = {
    "type": "object",
    "description": "The one error body of the API (web/errors.py); the script editor adds `errors`.",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "field"],
            "additionalProperties": False,
            "properties": {
                "code": {"type": "string", "description": "For programs: invalid, not_found, conflict, ..."},
                "message": {"type": "string", "minLength": 1, "description": "For people, in pt-BR."},
                "field": {"type": ["string", "null"], "description": "Path parameter or dotted body field."},
            },
        },
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["step", "line", "message"],
                "properties": {
                    "step": {"type": ["string", "null"]},
                    "line": {"type": ["integer", "null"]},
                    "message": {"type": "string"},
                },
            },
        },
    },
}

_ERRORS = {
    "400": "Bad request.",
    "401": "No valid session.",
    "403": "This role may not do this, or the CSRF token is missing or wrong.",
    "404": "A path parameter names nothing that exists.",
    "405": "Method not allowed.",
    "409": "Clashes with the current state.",
    "413": "Body too large.",
    "415": "Unsupported content type.",
    "422": "Malformed path parameter or body; `field` names it.",
    "503": "Busy; try again after `Retry-After` seconds.",
    "500": "Unexpected server error (a bug).",
}


def _parameter(name: str) -> dict[str, Any]:
    if name == "key":
        schema: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": MAX_KEY_CHARS,
                                  "pattern": r"^[a-z][a-z0-9_]*$"}
    elif name == "call_id":  # call attempts are named by 32 hex digits (the AMI ActionID)
        schema = {"type": "string", "pattern": "^[0-9a-f]{32}$"}
    else:  # every other path parameter is an integer id (web.errors.parse_id)
        schema = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _hoist(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    """Move a model schema's ``$defs`` into ``components.schemas`` (refs already point there)."""
    for name, sub in schema.pop("$defs", {}).items():
        components[name] = sub
    return schema


def _request_body(op: Operation, components: dict[str, Any]) -> dict[str, Any] | None:
    if op.multipart:
        return {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {
                            "file": {"type": "string", "format": "binary",
                                     "description": f"The portfolio CSV (at most {MAX_UPLOAD_BYTES // 2**20} MB)."},
                            "dry_run": {"type": "string", "enum": ["true", "false"]},
                        },
                    }
                }
            },
        }
    if op.body is None:
        return None
    name = op.body.__name__
    if name not in components:
        components[name] = _hoist(
            op.body.model_json_schema(ref_template="#/components/schemas/{model}"), components
        )
    return {"required": True, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}


def _operation(op: Operation, components: dict[str, Any]) -> dict[str, Any]:
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    out: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "responses": {
            str(op.status): {"description": "Done.", "content": {"application/json": {"schema": {}}}},
            **{code: {"description": text, **error} for code, text in _ERRORS.items()},
        },
    }
    if op.roles:
        out["description"] = "Roles: " + ", ".join(r.value for r in op.roles) + "."
        out["security"] = [{"session": []} if op.method in _SAFE else {"session": [], "csrf": []}]
    else:
        out["security"] = []
    params = [_parameter(name) for name in _PARAM.findall(op.path)]
    if params:
        out["parameters"] = params
    body = _request_body(op, components)
    if body is not None:
        out["requestBody"] = body
    return out


def openapi_document(operations: tuple[Operation, ...] = OPERATIONS) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``operations``."""
    components: dict[str, Any] = {"Error": ERROR_BODY}
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, components)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Cobra",
            "version": "1",
            "description": "Outbound collections contact center: REST API. Log in through /login (session "
            f"cookie `{SESSION_COOKIE}`); state-changing requests send the session's CSRF token (from "
            f"GET /api/v1/me) in `{CSRF_HEADER}`. Errors: `{{\"error\": {{\"code\", \"message\", \"field\"}}}}`.",
        },
        "paths": paths,
        "components": {
            "schemas": dict(sorted(components.items())),
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE},
                "csrf": {"type": "apiKey", "in": "header", "name": CSRF_HEADER},
            },
        },
        "security": [{"session": []}],
    }


def documented_routes(operations: tuple[Operation, ...] = OPERATIONS) -> set[tuple[str, str]]:
    return {(op.method, op.path) for op in operations}


def mounted_api_routes(app: web.Application) -> set[tuple[str, str]]:
    """``(method, path)`` of every route the app mounts under ``/api/`` (HEAD aliases left out)."""
    out: set[tuple[str, str]] = set()
    for route in app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if path.startswith("/api/") and route.method not in ("HEAD", "*"):
            out.add((route.method, path))
    return out


@public
async def openapi_json(request: web.Request) -> web.Response:
    """``GET /api/v1/openapi.json``: this document (built once per app, at setup)."""
    return web.json_response(request.app[_DOCUMENT], headers=NO_STORE)


_DOCUMENT: web.AppKey[dict[str, Any]] = web.AppKey("cobra.openapi", dict)


def setup_openapi(app: web.Application) -> None:
    """Mount the document; routes added to the app must be listed in :data:`OPERATIONS` (a test checks)."""
    app[_DOCUMENT] = openapi_document()
    app.router.add_get(OPENAPI_PATH, openapi_json, name="openapi")


__all__ = ["OPENAPI_PATH", "OPERATIONS", "Operation", "documented_routes", "mounted_api_routes", "openapi_document",
           "setup_openapi"]
