"""``/supervisor/regua`` (supervisor, admin): the régua's page, plain HTML forms (no script needed).

Shows "quem recebe o quê amanhã" (counts per step and who), lets supervisors edit each step,
shows the outbox (queued, sent, failed with the reason) with a retry button, the agencies'
hand-offs with their export link, channel opt-outs and the satisfaction ratings. Every form
posts with the session's CSRF token and answers with a redirect back (303) carrying a notice.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from aiohttp import web

from dialer.regua.defaults import DEFAULT_REGUA
from dialer.regua.rules import CHANNEL_LABEL_PT, Channel, Rule, RuleError
from dialer.regua.services import current_rules, preview_day, run_day, save_rules
from dialer.regua.templates import TemplateRenderError, render_message, sample_context
from scripting.money import MoneyFormatError, parse_money
from storage.models import OutboxStatus, Role
from storage.repositories import outbox
from storage.repositories import regua as repo
from web.auth.access import requires
from web.auth.responses import redirect, render_page
from web.errors import FieldError, parse_id
from web.keys import CLOCK, CONFIG, CURRENT_LOGIN, DB, DB_READ
from web.regua.services import (
    OPT_OUT_CHANNELS,
    STATUS_LABEL_PT,
    br_datetime,
    channel_label,
    export_agency,
    find_customer,
    message_view,
    preview_view,
    retry_message,
    rule_view,
    stop_channel,
    today_local,
)
from web.regua.state import REGUA, wake_sender
from web.regua.wiring import regua_settings

PAGE = "/supervisor/regua"
MANAGERS = (Role.SUPERVISOR, Role.ADMIN)


def _back(notice: str = "", error: str = "", **extra: str) -> web.Response:
    query = {k: v for k, v in {"aviso": notice, "erro": error, **extra}.items() if v}
    return redirect(PAGE + ("?" + urlencode(query) if query else ""))


def _user_id(request: web.Request) -> int | None:
    login = request[CURRENT_LOGIN]
    return None if login is None else login.user_id


def _day_of(text: str) -> date:
    """``dd/mm/aaaa`` as the page's field is typed, or ``aaaa-mm-dd`` (links); ValueError otherwise."""
    text = text.strip()
    if "/" in text:
        return datetime.strptime(text, "%d/%m/%Y").date()
    return date.fromisoformat(text)


@requires(*MANAGERS)
async def regua_page(request: web.Request) -> web.Response:
    now = request.app[CLOCK]()
    config = request.app[CONFIG]
    raw_day = request.query.get("data", "")
    error = request.query.get("erro", "")
    try:
        day = _day_of(raw_day) if raw_day else today_local(now) + timedelta(days=1)
    except ValueError:
        day, error = today_local(now) + timedelta(days=1), f"Data inválida: {raw_day!r} (use dd/mm/aaaa)."
    status_raw = request.query.get("situacao", "")
    status = OutboxStatus(status_raw) if status_raw in STATUS_LABEL_PT else None
    preview = await preview_day(request.app[DB_READ], day, regua_settings(config), now=now)
    async with request.app[DB_READ]() as db:
        rules = await current_rules(db)
        messages = await outbox.list_messages(db, status=status, limit=100)
        counts = await outbox.status_counts(db)
        agencies = await repo.agencies(db)
        opt_outs = await repo.recent_opt_outs(db)
        surveys, answered, average = await repo.survey_summary(db)
    runtime = request.app.get(REGUA)
    last = runtime.daily.last if runtime is not None and runtime.daily is not None else None
    context = {
        "enabled": config.regua.enabled,
        "run_at": config.regua.run_at,
        "last_run": None if last is None else last.as_dict(),
        "notice": request.query.get("aviso", ""),
        "error": error,
        "preview": preview_view(preview, limit=100),
        "rules": [rule_view(r) for r in rules],
        "channels": [(c.value, CHANNEL_LABEL_PT[c]) for c in Channel],
        "counts": [(s, STATUS_LABEL_PT[s], n) for s, n in counts.items()],
        "status": "" if status is None else status.value,
        "messages": [message_view(m) for m in messages],
        "agencies": [{"name": a, "total": n, "new": new} for a, n, new in agencies],
        "opt_outs": [{"name": name, "channel": channel_label(o.channel), "source": o.source, "detail": o.detail,
                      "at": br_datetime(o.created_at)} for o, name in opt_outs],
        "opt_out_channels": [(c.value, CHANNEL_LABEL_PT[c]) for c in OPT_OUT_CHANNELS],
        "surveys": {"total": surveys, "answered": answered,
                    "average": None if average is None else f"{average:.1f}".replace(".", ",")},
    }
    return render_page(request, "supervisor_regua.html", context)


def _rule_from_form(rule: Rule, form: dict[str, str]) -> Rule:
    try:
        offset = int(form.get("offset_days", rule.offset_days))
        boost = int(form.get("boost", rule.boost) or 0)
    except ValueError:
        raise RuleError("offset_days", "informe números inteiros para o dia e o reforço") from None
    def listed(name: str, current: tuple[str, ...]) -> list[str]:
        raw = form.get(name)
        return list(current) if raw is None else [part.strip() for part in raw.split(",") if part.strip()]

    def money(name: str, current: Decimal | None) -> str | None:
        raw = form.get(name)
        if raw is None:
            return None if current is None else str(current)
        if not raw.strip():
            return None
        try:
            return str(parse_money(raw))
        except MoneyFormatError as exc:
            raise RuleError(f"conditions.{name}", exc.message_pt.rstrip(".")) from None

    cond = rule.conditions
    conditions = {
        **cond.as_dict(),
        "buckets": listed("buckets", cond.buckets),
        "creditors": listed("creditors", cond.creditors),
        "campaigns": listed("campaigns", cond.campaigns),
        "tags_any": listed("tags_any", cond.tags_any),
        "tags_none": listed("tags_none", cond.tags_none),
        "min_balance": money("min_balance", cond.min_balance),
        "max_balance": money("max_balance", cond.max_balance),
    }
    changed = replace(
        rule,
        name=form.get("name", rule.name).strip() or rule.name,
        offset_days=offset,
        enabled=form.get("enabled") == "on",
        subject=form.get("subject", rule.subject),
        body=form.get("body", rule.body).replace("\r\n", "\n"),
        boost=boost,
        agency=form.get("agency", rule.agency).strip(),
    )
    return Rule.from_dict({**changed.as_dict(), "conditions": conditions})  # validates the whole step again


@requires(*MANAGERS)
async def save_rule(request: web.Request) -> web.Response:
    key = request.match_info["key"]
    form = {k: str(v) for k, v in (await request.post()).items()}
    async with request.app[DB]() as db:
        rules = await current_rules(db)
        index = next((i for i, r in enumerate(rules) if r.key == key), None)
        if index is None:
            return _back(error=f"Passo {key!r} não existe.")
        try:
            rule = _rule_from_form(rules[index], form)
            render_message(rule.subject, rule.body, sample_context(regua_settings(request.app[CONFIG]).company))
        except RuleError as exc:
            return _back(error=f"{rules[index].name}: {exc.message_pt}.")
        except TemplateRenderError as exc:
            return _back(error=f"{rules[index].name}: {exc.message_pt}")
        rules[index] = rule
        await save_rules(db, rules, user_id=_user_id(request), at=request.app[CLOCK]())
        await db.commit()
    return _back(notice=f"Passo “{rule.name}” salvo.")


@requires(*MANAGERS)
async def restore_defaults(request: web.Request) -> web.Response:
    async with request.app[DB].begin() as db:
        await save_rules(db, list(DEFAULT_REGUA), user_id=_user_id(request), at=request.app[CLOCK]())
    return _back(notice="Régua padrão restaurada.")


@requires(*MANAGERS)
async def run_now(request: web.Request) -> web.Response:
    now = request.app[CLOCK]()
    report = await run_day(request.app[DB], today_local(now), regua_settings(request.app[CONFIG]), now=now)
    wake_sender(request.app)
    return _back(notice=f"Régua de hoje executada: {report.decided} passos, {report.messages} mensagens na fila, "
                        f"{report.broken} compromissos quebrados.")


@requires(*MANAGERS)
async def retry(request: web.Request) -> web.Response:
    try:
        message_id = parse_id(request.match_info["message_id"], "message_id", "mensagem")
    except FieldError as exc:
        return _back(error=exc.message)
    message = await retry_message(request.app[DB], message_id, user_id=_user_id(request), at=request.app[CLOCK]())
    if message is None:
        return _back(error=f"A mensagem {message_id} não está com falha.")
    wake_sender(request.app)
    return _back(notice=f"Mensagem {message_id} de volta à fila.")


@requires(*MANAGERS)
async def add_opt_out(request: web.Request) -> web.Response:
    form = await request.post()
    ref, channel_raw = str(form.get("cliente", "")).strip(), str(form.get("canal", ""))
    try:
        channel = Channel(channel_raw)
    except ValueError:
        return _back(error="Escolha o canal.")
    if not ref:
        return _back(error="Informe o id externo ou o CPF do cliente.")
    async with request.app[DB_READ]() as db:
        customer = await find_customer(db, ref)
    if customer is None:
        return _back(error=f"Cliente {ref!r} não encontrado.")
    added = await stop_channel(request.app[DB], customer.id, channel, source="supervisor",
                               detail=str(form.get("motivo", ""))[:200] or "pedido registrado pela supervisão",
                               user_id=_user_id(request), at=request.app[CLOCK]())
    label = CHANNEL_LABEL_PT[channel]
    return _back(notice=f"{customer.name}: {label} bloqueado." if added else f"{customer.name}: {label} já estava bloqueado.")


@requires(*MANAGERS)
async def export(request: web.Request) -> web.Response:
    agency = request.query.get("nome", "").strip()
    if not agency:
        return _back(error="Informe a assessoria.")
    body, _ = await export_agency(request.app[DB], agency, user_id=_user_id(request), at=request.app[CLOCK](),
                                  only_new=request.query.get("novas") == "1")
    safe = "".join(c if c.isalnum() else "-" for c in agency.lower()).strip("-") or "assessoria"
    return web.Response(
        body=body.encode("utf-8-sig"),  # the BOM lets spreadsheet programs read the accents
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{safe}-{today_local(request.app[CLOCK]()).isoformat()}.csv"',
                 "Cache-Control": "no-store"},
    )


def setup_regua_page(app: web.Application) -> None:
    app.router.add_get(PAGE, regua_page, name="supervisor_regua")
    app.router.add_post(PAGE + "/passos/{key}", save_rule, name="supervisor_regua_rule")
    app.router.add_post(PAGE + "/padrao", restore_defaults, name="supervisor_regua_defaults")
    app.router.add_post(PAGE + "/executar", run_now, name="supervisor_regua_run")
    app.router.add_post(PAGE + "/mensagens/{message_id}/reenviar", retry, name="supervisor_regua_retry")
    app.router.add_post(PAGE + "/bloqueios", add_opt_out, name="supervisor_regua_opt_out")
    app.router.add_get(PAGE + "/assessorias/exportar", export, name="supervisor_regua_export")
