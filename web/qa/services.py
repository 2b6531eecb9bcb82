"""QA services: call records as JSON and CSV rows, one call's detail, reviews, queue and ranking.

Handlers (:mod:`web.qa.http`) parse, call these, answer. Filters come from
:mod:`dialer.qa.records` (pure) and become a :class:`storage.repositories.calls.CallQuery`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dialer.qa import flags as qa_flags
from dialer.qa.queue import sample_per_agent, week_of
from dialer.qa.records import (
    CallFilter,
    Cursor,
    local_day_start,
    mask_name,
    mask_number,
    talk_seconds,
)
from dialer.qa.scorecards import (
    DEFAULT_ITEMS,
    DEFAULT_KEY,
    DEFAULT_NAME,
    ScoreItem,
    parse_items,
)
from storage.repositories import qa as qa_repo
from storage.repositories.audit import entries_for
from storage.repositories.calls import (
    CallQuery,
    CallRow,
    call_detail,
    flags_of,
    list_calls,
    stream_call_batches,
)
from storage.repositories.recordings import recording_gaps
from web.recordings.links import recording_link

# Q.850 causes a reviewer meets (pt-BR)
CAUSES = {
    1: "número inexistente", 3: "sem rota", 16: "desligamento normal", 17: "ocupado", 18: "sem resposta do aparelho",
    19: "não atendeu", 21: "chamada rejeitada", 27: "destino fora de serviço", 28: "número inválido",
    31: "normal, não especificado", 34: "sem circuito disponível", 38: "rede fora de serviço", 127: "interconexão",
}
IDENTITY_OVERRIDE_ACTION = "identity_override"  # the audit action of web.agent.http's override
SIDES = {"agent": "operador", "customer": "cliente", "system": "sistema"}
RESULT_LABELS = {
    "connected": "Conectada", "answered": "Atendida", "machine": "Secretária eletrônica", "abandoned": "Abandonada",
    "busy": "Ocupado", "no_answer": "Não atendeu", "congestion": "Congestionamento", "failed": "Falhou",
    "cancelled": "Cancelada",
}


def query_of(f: CallFilter) -> CallQuery:
    return CallQuery(
        start=f.start, end=f.end, agent=f.agent, outcome=f.outcome, campaign_id=f.campaign_id, result=f.result,
        min_talk_s=f.min_talk_s, max_talk_s=f.max_talk_s, min_amount=f.min_amount, max_amount=f.max_amount,
        flagged=f.flagged, reviewed=f.reviewed, after=None if f.cursor is None else (f.cursor.created_at, f.cursor.id),
        limit=f.limit, ids=f.ids,
    )


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.astimezone(UTC).isoformat()


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def item_json(row: CallRow, flags: Sequence[tuple[str, str]]) -> dict[str, Any]:
    return {
        "id": row.id,
        "started_at": _iso(row.created_at),
        "agent": row.agent,
        "campaign": {"id": row.campaign_id, "name": row.campaign},
        "customer": None if row.customer is None else mask_name(row.customer),
        "phone": mask_number(row.number),
        "result": row.result,
        "outcome": row.outcome,
        "amount": _money(row.amount),
        "talk_s": talk_seconds(row.connected_at, row.ended_at),
        # the PBX writes the file when the call's channel goes: no link (a 404) while it is still on
        "recording": recording_link(row.id, row.recording_path) if row.ended_at is not None else None,
        "flags": [code for code, _ in flags],
        "reviewed": row.reviewed,
    }


async def call_page(db: AsyncSession, f: CallFilter) -> dict[str, Any]:
    """``{"items": [...], "next": cursor | None}``."""
    rows, more = await list_calls(db, query_of(f))
    flags = await flags_of(db, [r.id for r in rows if r.flagged])
    nxt = Cursor(rows[-1].created_at, rows[-1].id).encode() if more and rows else None
    return {"items": [item_json(r, flags.get(r.id, [])) for r in rows], "next": nxt}


# ---------------------------------------------------------------- CSV

CSV_HEADER = (
    "id;inicio;operador;campanha;cliente;telefone;resultado;desfecho;conversa_s;valor;sinalizada;avaliada;gravacao\r\n"
)
_BOM = "\ufeff"


def _csv_text(value: str | None) -> str:
    """A field as CSV: quoted only when it holds ``;``, quotes or line breaks."""
    if value is None:
        return ""
    if ";" in value or '"' in value or "\n" in value or "\r" in value:
        return '"' + value.replace('"', '""') + '"'
    return value


def csv_row(r: Sequence[Any]) -> str:
    """One exported call from a row of :func:`storage.repositories.calls.stream_calls` (hand-rolled: the
    database already formatted the time, the talk seconds and the amount)."""
    call_id, started, agent, campaign, customer, number, result, outcome, talk, money, flagged, reviewed, recording = r
    return ";".join((
        call_id,
        started,
        "" if agent is None else _csv_text(agent),
        "" if campaign is None else _csv_text(campaign),
        "" if customer is None else _csv_text(mask_name(customer)),
        mask_number(number),
        # the label the pages show ("Conectada"), not the stored code: the export is read by people in Excel
        "" if result is None else RESULT_LABELS.get(result, result),
        "" if outcome is None else outcome,
        "" if talk is None else str(max(0, talk)),
        "" if money is None else money,
        "sim" if flagged else "não",
        "sim" if reviewed else "não",
        # a recorded call still on has no talk time yet (no end), nor a file to serve
        "" if not recording or talk is None else f"/api/v1/calls/{call_id}/recording",
    )) + "\r\n"


async def csv_chunks(db: AsyncSession, f: CallFilter, *, chunk_rows: int = 2000) -> AsyncIterator[tuple[str, int]]:
    """The export in text chunks (BOM and header first) with the rows each chunk holds."""
    yield _BOM + CSV_HEADER, 0
    async for rows in stream_call_batches(db, query_of(f), batch=chunk_rows):
        yield "".join(map(csv_row, rows)), len(rows)


# ---------------------------------------------------------------- detail


def _event(at: datetime | None, kind: str, label: str, **extra: Any) -> dict[str, Any] | None:
    return None if at is None else {"at": _iso(at), "kind": kind, "label": label, **extra}


def _seconds_between(a: datetime | None, b: datetime | None) -> float | None:
    return None if a is None or b is None else round((b - a).total_seconds(), 1)


async def _identity_json(
    db: AsyncSession, call_id: str, released_at: datetime | None, connected_at: datetime | None
) -> dict[str, Any]:
    """How the identity gate opened: ``status`` "confirmada" (a match), "liberada_sem_verificacao" (the
    agent's override, its reason in ``override_reason``: the audit entry the override wrote) or
    "nao_confirmada". A reviewer must not read an override as a verified identity."""
    overrides = [e for e in await entries_for(db, "call_attempt", call_id) if e.action == IDENTITY_OVERRIDE_ACTION]
    reason = None
    if overrides:
        after = overrides[0].after or {}
        reason = str(after.get("reason") or "") or None
    if released_at is None:
        status = "nao_confirmada"
    elif overrides:
        status = "liberada_sem_verificacao"
    else:
        status = "confirmada"
    return {
        "status": status,
        "confirmed_at": _iso(released_at),
        "seconds_after_connect": _seconds_between(connected_at, released_at),
        "override_reason": reason if status == "liberada_sem_verificacao" else None,
    }


async def call_detail_json(db: AsyncSession, call_id: str) -> dict[str, Any] | None:
    d = await call_detail(db, call_id)
    if d is None:
        return None
    c = d.call
    cause = c.hangup_cause
    hangup_label = "Desligada"
    if cause is not None:
        hangup_label += f" (causa {cause}: {CAUSES.get(cause, 'outra')})"
    if c.hangup_side:
        hangup_label += f" pelo {SIDES.get(c.hangup_side, c.hangup_side)}"
    events = [
        _event(c.created_at, "created", "Chamada criada"),
        _event(c.originated_at, "originate", "Discagem enviada à central"),
        _event(c.ringing_at, "ring", "Telefone do cliente tocando"),
        _event(c.answered_at, "answer", "Cliente atendeu"),
        _event(c.connected_at, "connect", "Conectada ao operador"),
        _event(c.ended_at, "hangup", hangup_label, cause=cause, side=c.hangup_side),
        _event(c.wrapup_ended_at, "wrapup", "Fim do pós-atendimento"),
    ]
    run = d.script_run
    identity_at = None if run is None else run.identity_confirmed_at
    out: dict[str, Any] = {
        "id": c.id,
        "started_at": _iso(c.created_at),
        "campaign": {"id": c.campaign_id, "name": d.campaign},
        "agent": d.agent_login,
        "agent_name": d.agent_name,
        "customer": None if d.customer_name is None else mask_name(d.customer_name),
        "phone": mask_number(c.number),
        "mode": str(c.mode),
        "result": None if c.result is None else str(c.result),
        "talk_s": talk_seconds(c.connected_at, c.ended_at),
        "recording": recording_link(c.id, c.recording_path) if c.ended_at is not None else None,
        # stretches muted on card-data steps (seconds from the recording's start; end None: muted to the end)
        "recording_gaps": [g.as_json() for g in await recording_gaps(db, c.id)] if c.recording_path else [],
        "timeline": sorted((e for e in events if e is not None), key=lambda e: e["at"]),
        "hangup": {"cause": cause, "cause_text": None if cause is None else CAUSES.get(cause), "side": c.hangup_side},
        "amd": None if c.amd_status is None else {"status": c.amd_status, "cause": c.amd_cause},
        "identity": await _identity_json(db, c.id, identity_at, c.connected_at),
        "script_run": None,
        "outcome": None,
        "agreement": None,
        "promise": None,
        "flags": [{"code": code, "label": qa_flags.LABELS.get(code, code), "detail": text} for code, text in d.flags],
        "reviews": [],
    }
    if run is not None:
        out["script_run"] = {
            "script_id": run.script_id,
            "script_version": run.script_version,
            "outcome": run.outcome,
            "finished_at": _iso(run.finished_at),
            "captures": run.captures,
            "steps": [
                {
                    "step_id": s.get("step_id"),
                    "entered_at": s.get("entered_at"),
                    "choice_id": s.get("choice_id"),
                    "chosen_at": s.get("chosen_at"),
                    "capture_key": s.get("capture_key"),
                    "capture_value": s.get("capture_value"),
                }
                for s in (run.steps or [])
                if isinstance(s, dict)
            ],
        }
    if d.outcome is not None:
        o = d.outcome
        out["outcome"] = {
            "code": str(o.code), "at": _iso(o.created_at), "notes": o.notes,
            "promise_amount": _money(o.promise_amount),
            "promise_date": None if o.promise_date is None else o.promise_date.isoformat(),
            "callback_at": _iso(o.callback_at),
        }
    if d.agreement is not None:
        a = d.agreement
        out["agreement"] = {
            "id": a.id, "kind": str(a.kind), "discount_pct": f"{a.discount_pct:.2f}", "total": _money(a.total),
            "debt_total": _money(a.debt_total), "approval_id": a.approval_id, "at": _iso(a.created_at),
            "status": str(a.status),
        }
    if d.promise is not None:
        p = d.promise
        out["promise"] = {"amount": _money(p.amount), "due_date": p.due_date.isoformat(), "status": str(p.status),
                          "at": _iso(p.created_at)}
    out["reviews"] = [review_json(r) for r in await qa_repo.reviews_of_call(db, call_id)]
    return out


def review_json(r: qa_repo.ReviewRow) -> dict[str, Any]:
    return {
        "id": r.id, "call_id": r.attempt_id, "call_started_at": _iso(r.call_created_at), "reviewer": r.reviewer_login,
        "reviewer_name": r.reviewer_name, "scorecard": r.scorecard_key, "answers": r.answers.get("answers", {}),
        "items": r.answers.get("items", []), "score": f"{r.score:.2f}", "zeroed": r.zeroed, "feedback": r.feedback,
        "at": _iso(r.created_at),
    }


# ---------------------------------------------------------------- scorecards


def card_json(key: str, name: str, items: Sequence[ScoreItem], updated_at: datetime | None) -> dict[str, Any]:
    return {"key": key, "name": name, "items": [i.as_dict() for i in items], "updated_at": _iso(updated_at)}


async def load_scorecard(db: AsyncSession, key: str) -> tuple[str, tuple[ScoreItem, ...], datetime | None] | None:
    """(name, items, updated_at) of ``key``; the shipped default when ``cobranca`` was never edited."""
    card = await qa_repo.get_scorecard(db, key)
    if card is not None:
        return card.name, parse_items(card.items), card.updated_at
    if key == DEFAULT_KEY:
        return DEFAULT_NAME, DEFAULT_ITEMS, None
    return None


async def all_scorecards(db: AsyncSession) -> list[dict[str, Any]]:
    cards = {c.key: card_json(c.key, c.name, parse_items(c.items), c.updated_at) for c in await qa_repo.list_scorecards(db)}
    cards.setdefault(DEFAULT_KEY, card_json(DEFAULT_KEY, DEFAULT_NAME, DEFAULT_ITEMS, None))
    return [cards[k] for k in sorted(cards)]


# ---------------------------------------------------------------- queue and ranking

MAX_QUEUE = 500
REASON_LABELS = {
    "acordo_alto": "Acordo acima do valor de revisão",
    "contestacao": "Contestação",
    "sinalizada": "Sinalizada automaticamente",
    "amostra": "Amostra semanal",
}


async def review_queue(
    db: AsyncSession, *, now: datetime, days: int, min_agreement: Decimal, per_agent: int
) -> dict[str, Any]:
    """Unreviewed calls to review first: risky ones (last ``days``), then this week's sample per agent."""
    reasons = await qa_repo.queue_candidates(
        db, start=now - timedelta(days=days), end=now + timedelta(seconds=1), min_agreement=min_agreement
    )
    label, monday = week_of(now)
    if per_agent > 0:
        pool = await qa_repo.sample_pool(db, start=local_day_start(monday), end=now + timedelta(seconds=1))
        picked = sample_per_agent(pool, per_agent=per_agent, seed=label)
        for call_id in picked - await qa_repo.reviewed_ids(db, sorted(picked)):
            reasons.setdefault(call_id, set()).add("amostra")
    if not reasons:
        return {"week": label, "items": []}
    order = {"sinalizada": 0, "contestacao": 1, "acordo_alto": 2, "amostra": 3}
    # the riskiest first when there are more than a page can show
    ids = tuple(sorted(reasons, key=lambda c: (min(order[r] for r in reasons[c]), c))[:MAX_QUEUE])
    rows, _ = await list_calls(db, CallQuery(ids=ids, limit=len(ids)))
    flags = await flags_of(db, [r.id for r in rows if r.flagged])
    items = []
    for r in rows:
        why = sorted(reasons[r.id], key=order.__getitem__)
        items.append({**item_json(r, flags.get(r.id, [])), "reasons": why,
                      "reason_labels": [REASON_LABELS[w] for w in why]})
    items.sort(key=lambda i: (order[i["reasons"][0]], i["started_at"] or ""), reverse=False)
    return {"week": label, "items": items}


async def ranking_json(db: AsyncSession, *, start: datetime | None, end: datetime | None) -> dict[str, Any]:
    rows = await qa_repo.ranking(db, start=start, end=end)
    return {
        "items": [
            {"position": i + 1, "agent": r.login, "name": r.name, "reviews": r.reviews, "average": f"{r.average:.2f}",
             "zeroed": r.zeroed}
            for i, r in enumerate(rows)
        ]
    }


__all__ = [
    "CSV_HEADER", "all_scorecards", "call_detail_json", "call_page", "csv_chunks", "csv_row", "load_scorecard",
    "query_of", "ranking_json", "review_json", "review_queue",
]
