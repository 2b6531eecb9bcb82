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
from web.campaign_console.http import (
    BoostPreviewIn,
    BulkBoostIn,
    CampaignHoldIn,
    WindowIn,
)
from web.errors import MAX_ID, NO_STORE
from web.pacing.http import PacingIn
from web.qa.http import ReviewIn, ScorecardIn
from web.regua.api import InboundIn, OptOutIn, RulesIn, RunIn
from web.scripts.http import MAX_KEY_CHARS, CampaignScriptIn, PreviewIn, YamlIn
from web.supervisor.api import MAX_UPLOAD_BYTES, BoostsIn, HoldIn, SegmentsIn
from web.supervisor_console.api import MonitorIn
from web.users.http import PasswordIn, UserIn, UserPatch

OPENAPI_PATH = "/api/v1/openapi.json"
CSRF_HEADER = "X-CSRF-Token"
MANAGERS = (Role.SUPERVISOR, Role.ADMIN)
READERS = (Role.SUPERVISOR, Role.ADMIN, Role.QA)
KPI_QUERY: tuple[dict[str, Any], ...] = (
    {"name": "from", "in": "query", "required": False, "description": "First local day (default: 6 days ago).",
     "schema": {"type": "string", "format": "date"}},
    {"name": "to", "in": "query", "required": False, "description": "Last local day (default: today; at most 366 days).",
     "schema": {"type": "string", "format": "date"}},
    {"name": "by", "in": "query", "required": False, "description": "One row per campaign, agent or day.",
     "schema": {"type": "string", "enum": ["campaign", "agent", "day"], "default": "day"}},
    {"name": "campaign", "in": "query", "required": False, "description": "Only this campaign's calls.",
     "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}},
)
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
    binary: str | None = None  # the media type of a file answered instead of JSON (with byte ranges)
    query: tuple[dict[str, Any], ...] = ()  # query-string parameters (OpenAPI parameter objects)
    media: str = "application/json"  # of the success response

    @property
    def operation_id(self) -> str:
        words = re.sub(r"[{}]", "", self.path.removeprefix("/api/v1/")).replace("/", "_")
        return f"{self.method.lower()}_{words or 'root'}"


OPERATIONS: tuple[Operation, ...] = (
    Operation("GET", OPENAPI_PATH, "This document.", ()),
    Operation("GET", "/api/v1/me", "The logged-in user and the session's CSRF token.", EVERYONE),
    Operation("GET", "/api/v1/users", "Every user.", (Role.ADMIN,)),
    Operation("POST", "/api/v1/users", "Create a user; without a password one is generated and answered once "
              "(audited).", (Role.ADMIN,), body=UserIn, status=201),
    Operation("PATCH", "/api/v1/users/{user_id}", "Change role, name, phone or active; a role or phone change and a "
              "disable end the user's sessions (audited).", (Role.ADMIN,), body=UserPatch),
    Operation("POST", "/api/v1/users/{user_id}/password", "Set or generate a password; the user's sessions end "
              "(audited).", (Role.ADMIN,), body=PasswordIn),
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
    Operation("GET", "/api/v1/floor/history", "The newest audited changes on the floor, in pt-BR.", MANAGERS),
    Operation("GET", "/api/v1/campaigns/{campaign_id}", "The campaign's stored settings.", MANAGERS),
    Operation("PUT", "/api/v1/campaigns/{campaign_id}/window", "The campaign's calling-window override (audited).",
              MANAGERS, body=WindowIn),
    Operation("POST", "/api/v1/campaigns/{campaign_id}/boosts/preview", "How many live leads a bulk boost changes.",
              MANAGERS, body=BoostPreviewIn),
    Operation("POST", "/api/v1/campaigns/{campaign_id}/boosts/bulk",
              "Boost every matching live lead; 409 when the previewed count changed (audited).", MANAGERS,
              body=BulkBoostIn),
    Operation("GET", "/api/v1/campaigns/{campaign_id}/holds", "Active holds of the campaign's customers.", MANAGERS),
    Operation("POST", "/api/v1/campaigns/{campaign_id}/holds", "Suspend a customer of the campaign (audited).",
              MANAGERS, body=CampaignHoldIn, status=201),
    Operation("DELETE", "/api/v1/campaigns/{campaign_id}/holds/{hold_id}", "End a suspension (audited).", MANAGERS),
    Operation("GET", "/api/v1/campaigns/{campaign_id}/history", "The campaign's audited changes, in pt-BR.",
              MANAGERS),
    Operation("GET", "/api/v1/calls/{call_id}/recording",
              "The call's recording (WAV; one byte range with Range; 302 to [recording] url_template; audited).",
              (Role.QA, Role.SUPERVISOR, Role.ADMIN), binary="audio/wav"),
    Operation("GET", "/api/v1/kpis", "KPIs per campaign, agent or day, with totals and reasons for default.",
              READERS, query=KPI_QUERY),
    Operation("GET", "/api/v1/kpis.csv", "The KPI table as CSV for Excel (UTF-8 BOM, `;`; audited export).",
              READERS, query=KPI_QUERY, media="text/csv"),
    Operation("GET", "/api/v1/regua/rules", "The régua's steps.", MANAGERS),
    Operation("PUT", "/api/v1/regua/rules", "Replace the régua's steps (validated; audited).", MANAGERS, body=RulesIn),
    Operation("GET", "/api/v1/regua/preview", "What a run on ?date= (default tomorrow) would do, per step.", MANAGERS),
    Operation("POST", "/api/v1/regua/run", "Run the régua for a day now (idempotent; audited).", MANAGERS, body=RunIn),
    Operation("GET", "/api/v1/regua/outbox", "The latest outbox messages (?status=queued|sending|sent|failed).",
              MANAGERS),
    Operation("POST", "/api/v1/regua/outbox/{message_id}/retry", "A failed message back in the queue (audited).",
              MANAGERS),
    Operation("POST", "/api/v1/regua/opt-outs", "Stop a channel for a customer (audited).", MANAGERS, body=OptOutIn,
              status=201),
    Operation("DELETE", "/api/v1/regua/opt-outs", "Resume a stopped channel (audited).", MANAGERS, body=OptOutIn),
    Operation("POST", "/api/v1/regua/inbound", "A customer's reply from the SMS/WhatsApp/e-mail gateway "
              "(header X-Cobra-Secret); an opt-out keyword stops that channel.", (), body=InboundIn),
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
    schema: dict[str, Any]
    if name == "call_id":  # a call attempt's id (storage.models.new_attempt_id)
        schema = {"type": "string", "pattern": r"^[0-9a-f]{32}$"}
    elif name == "key":
        schema = {"type": "string", "minLength": 1, "maxLength": MAX_KEY_CHARS,
                  "pattern": r"^[a-z][a-z0-9_]*$"}
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


def _binary_responses(media: str, error: dict[str, Any]) -> dict[str, Any]:
    """A file's answers: whole, one byte range, elsewhere, or a range past its end."""
    file = {"content": {media: {"schema": {"type": "string", "format": "binary"}}}}
    ranges = {"Accept-Ranges": {"schema": {"type": "string", "enum": ["bytes"]}}}
    return {
        "200": {"description": "The whole file.", "headers": ranges, **file},
        "206": {"description": "The byte range asked for in `Range` (one range).", "headers": {
            **ranges, "Content-Range": {"schema": {"type": "string"}, "description": "bytes first-last/size"}}, **file},
        "302": {"description": "Kept on another host: `Location` is its URL.",
                "headers": {"Location": {"schema": {"type": "string"}}}},
        "416": {"description": "The range starts past the end (`Content-Range: bytes */size`).", **error},
    }


def _operation(op: Operation, components: dict[str, Any]) -> dict[str, Any]:
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    success = (
        _binary_responses(op.binary, error) if op.binary is not None
        else {str(op.status): {"description": "Done.", "content": {op.media: {"schema": {}}}}}
    )
    out: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "responses": {
            **success,
            **{code: {"description": text, **error} for code, text in _ERRORS.items()},
        },
    }
    if op.roles:
        out["description"] = "Roles: " + ", ".join(r.value for r in op.roles) + "."
        out["security"] = [{"session": []} if op.method in _SAFE else {"session": [], "csrf": []}]
    else:
        out["security"] = []
    params = [_parameter(name) for name in _PARAM.findall(op.path)] + list(op.query)
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
