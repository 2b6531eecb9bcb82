"""The régua over REST (SPEC §9); every route is in ``web.openapi.OPERATIONS``.

- ``GET /api/v1/regua/rules`` / ``PUT`` (supervisor, admin): the steps; a PUT replaces them all (audited).
- ``GET /api/v1/regua/preview?date=aaaa-mm-dd`` (default tomorrow): what a run that day would do, counts per step.
- ``POST /api/v1/regua/run`` ``{"date": ...}``: run a day now (idempotent; audited) and wake the sender.
- ``GET /api/v1/regua/outbox?status=failed``: the latest messages; ``POST /api/v1/regua/outbox/{id}/retry``.
- ``POST /api/v1/regua/opt-outs`` ``{"customer": external id or CPF, "channel": ...}`` stops a channel;
  ``DELETE /api/v1/regua/opt-outs`` with the same body resumes it (both audited).
- ``POST /api/v1/regua/inbound`` (public, header ``X-Cobra-Secret``): the gateway's customer replies;
  an opt-out keyword stops that channel.
"""

from __future__ import annotations

import datetime
import hmac
from datetime import date, timedelta
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from dialer.regua.rules import Channel, Rule, RuleError
from dialer.regua.services import current_rules, preview_day, run_day, save_rules
from dialer.regua.templates import TemplateRenderError, render_message, sample_context
from storage.models import OutboxStatus, Role
from storage.repositories import outbox
from web.auth.access import public_with_own_csrf, requires
from web.errors import NO_STORE, FieldError, path_id, read_body
from web.keys import CLOCK, CONFIG, CURRENT_LOGIN, DB, DB_READ
from web.regua.services import (
    OPT_OUT_CHANNELS,
    find_customer,
    inbound_reply,
    message_view,
    preview_view,
    resume_channel,
    retry_message,
    rule_view,
    stop_channel,
    today_local,
)
from web.regua.state import wake_sender
from web.regua.wiring import regua_settings

MANAGERS = (Role.SUPERVISOR, Role.ADMIN)
INBOUND_SECRET_HEADER = "X-Cobra-Secret"
MAX_RULES = 50


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RulesIn(_Body):
    rules: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_RULES)


class RunIn(_Body):
    date: datetime.date | None = None


class OptOutIn(_Body):
    customer: str = Field(min_length=1, max_length=64)
    channel: Channel
    reason: str = Field("", max_length=200)


class InboundIn(_Body):
    channel: Channel
    sender: str = Field(alias="from", min_length=1, max_length=254)
    text: str = Field(max_length=2000)


def _user_id(request: web.Request) -> int | None:
    login = request[CURRENT_LOGIN]
    return None if login is None else login.user_id


def parse_rules(raw: list[dict[str, Any]], request: web.Request) -> list[Rule]:
    """Validated steps (unique keys, templates that render); FieldError names ``rules[i].field``."""
    config = request.app[CONFIG]
    rules: list[Rule] = []
    for i, item in enumerate(raw):
        try:
            rule = Rule.from_dict(item)
            render_message(rule.subject, rule.body, sample_context(regua_settings(config).company))
        except RuleError as exc:
            raise FieldError.invalid(f"rules[{i}].{exc.field}", f"rules[{i}].{exc.field}: {exc.message_pt}") from None
        except TemplateRenderError as exc:
            raise FieldError.invalid(f"rules[{i}].body", f"rules[{i}].body: {exc.message_pt}") from None
        if any(r.key == rule.key for r in rules):
            raise FieldError.invalid(f"rules[{i}].key", f"rules[{i}].key: chave repetida {rule.key!r}")
        rules.append(rule)
    return rules


@requires(*MANAGERS)
async def get_rules(request: web.Request) -> web.Response:
    async with request.app[DB_READ]() as db:
        rules = await current_rules(db)
    return web.json_response({"rules": [rule_view(r) for r in rules]}, headers=NO_STORE)


@requires(*MANAGERS)
async def put_rules(request: web.Request) -> web.Response:
    body = await read_body(request, RulesIn)
    rules = parse_rules(body.rules, request)
    async with request.app[DB].begin() as db:
        await save_rules(db, rules, user_id=_user_id(request), at=request.app[CLOCK]())
    return web.json_response({"rules": [rule_view(r) for r in rules]}, headers=NO_STORE)


def _day(request: web.Request) -> date:
    raw = request.query.get("date")
    if not raw:
        return today_local(request.app[CLOCK]()) + timedelta(days=1)
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise FieldError.invalid("date", f"date: use aaaa-mm-dd, recebido {raw!r}") from None


@requires(*MANAGERS)
async def get_preview(request: web.Request) -> web.Response:
    day = _day(request)
    preview = await preview_day(request.app[DB_READ], day, regua_settings(request.app[CONFIG]), now=request.app[CLOCK]())
    return web.json_response(preview_view(preview), headers=NO_STORE)


@requires(*MANAGERS)
async def post_run(request: web.Request) -> web.Response:
    body = await read_body(request, RunIn)
    now = request.app[CLOCK]()
    day = body.date or today_local(now)
    report = await run_day(request.app[DB], day, regua_settings(request.app[CONFIG]), now=now)
    wake_sender(request.app)
    return web.json_response(report.as_dict(), headers=NO_STORE)


@requires(*MANAGERS)
async def get_outbox(request: web.Request) -> web.Response:
    raw = request.query.get("status")
    status = None
    if raw:
        try:
            status = OutboxStatus(raw)
        except ValueError:
            raise FieldError.invalid("status", f"status: use {', '.join(s.value for s in OutboxStatus)}") from None
    async with request.app[DB_READ]() as db:
        messages = await outbox.list_messages(db, status=status, limit=200)
        counts = await outbox.status_counts(db)
    return web.json_response({"counts": counts, "items": [message_view(m) for m in messages]}, headers=NO_STORE)


@requires(*MANAGERS)
async def post_retry(request: web.Request) -> web.Response:
    message_id = path_id(request, "message_id", "mensagem")
    now = request.app[CLOCK]()
    message = await retry_message(request.app[DB], message_id, user_id=_user_id(request), at=now)
    if message is None:
        async with request.app[DB_READ]() as db:
            exists = await outbox.get_message(db, message_id)
        if exists is None:
            raise FieldError.not_found("message_id", f"Mensagem {message_id} não existe.")
        raise FieldError.conflict("Só mensagens que falharam podem ser reenviadas.", field="message_id")
    wake_sender(request.app)
    return web.json_response(message_view(message), headers=NO_STORE)


async def _opt_out_target(request: web.Request) -> tuple[OptOutIn, int]:
    body = await read_body(request, OptOutIn)
    if body.channel not in OPT_OUT_CHANNELS:
        raise FieldError.invalid("channel", "channel: use email, sms, whatsapp ou call")
    async with request.app[DB_READ]() as db:
        customer = await find_customer(db, body.customer)
    if customer is None:
        raise FieldError.not_found("customer", f"Cliente {body.customer!r} não encontrado (id externo ou CPF).")
    return body, customer.id


@requires(*MANAGERS)
async def post_opt_out(request: web.Request) -> web.Response:
    body, customer_id = await _opt_out_target(request)
    added = await stop_channel(request.app[DB], customer_id, body.channel, source="supervisor",
                               detail=body.reason or "pedido registrado pela supervisão", user_id=_user_id(request),
                               at=request.app[CLOCK]())
    return web.json_response({"customer_id": customer_id, "channel": body.channel.value, "changed": added},
                             status=201 if added else 200, headers=NO_STORE)


@requires(*MANAGERS)
async def delete_opt_out(request: web.Request) -> web.Response:
    body, customer_id = await _opt_out_target(request)
    removed = await resume_channel(request.app[DB], customer_id, body.channel, user_id=_user_id(request),
                                   at=request.app[CLOCK]())
    return web.json_response({"customer_id": customer_id, "channel": body.channel.value, "changed": removed},
                             headers=NO_STORE)


@public_with_own_csrf  # the gateway has no session: the shared secret header is its credential
async def post_inbound(request: web.Request) -> web.Response:
    config = request.app[CONFIG].regua
    given = request.headers.get(INBOUND_SECRET_HEADER, "")
    if not config.inbound_secret or not hmac.compare_digest(given.encode(), config.inbound_secret.encode()):
        raise FieldError.forbidden(f"Cabeçalho {INBOUND_SECRET_HEADER} ausente ou inválido.")
    body = await read_body(request, InboundIn)
    result = await inbound_reply(request.app[DB], channel=body.channel, sender=body.sender, text=body.text,
                                 keywords=config.opt_out_keywords, at=request.app[CLOCK]())
    return web.json_response({"keyword": result.keyword, "opted_out": result.opted_out}, headers=NO_STORE)


def setup_regua_api(app: web.Application) -> None:
    app.router.add_get("/api/v1/regua/rules", get_rules, name="regua_rules")
    app.router.add_put("/api/v1/regua/rules", put_rules, name="regua_rules_put")
    app.router.add_get("/api/v1/regua/preview", get_preview, name="regua_preview")
    app.router.add_post("/api/v1/regua/run", post_run, name="regua_run")
    app.router.add_get("/api/v1/regua/outbox", get_outbox, name="regua_outbox")
    app.router.add_post("/api/v1/regua/outbox/{message_id}/retry", post_retry, name="regua_outbox_retry")
    app.router.add_post("/api/v1/regua/opt-outs", post_opt_out, name="regua_opt_out")
    app.router.add_delete("/api/v1/regua/opt-outs", delete_opt_out, name="regua_opt_in")
    app.router.add_post("/api/v1/regua/inbound", post_inbound, name="regua_inbound")


__all__ = ["InboundIn", "OptOutIn", "RulesIn", "RunIn", "setup_regua_api"]
