"""Quality monitoring over HTTP: the call records, a call's detail and reviews, scorecards, queue, ranking, CSV.

REST (roles qa, supervisor, admin unless said):

- ``GET /api/v1/calls?from=&to=&agent=&outcome=&campaign=&result=&min_talk=&max_talk=&min_amount=&max_amount=
  &flagged=&reviewed=&cursor=&limit=`` → ``{"items": [...], "next": cursor | null}`` (keyset, newest first);
- ``GET /api/v1/calls.csv?<same filters>``: the whole filtered set as CSV (``;``, UTF-8 with BOM), streamed; audited;
- ``GET /api/v1/calls/{call_id}``: timeline, AMD, script run, identity, offer/agreement/promise, notes, flags, reviews;
- ``POST /api/v1/calls/{call_id}/reviews`` ``{scorecard, answers, feedback}`` → 201 the review (audited);
- ``GET /api/v1/scorecards``, ``GET|PUT /api/v1/scorecards/{key}`` (PUT audited);
- ``GET /api/v1/qa/queue``: the calls to review first; ``GET /api/v1/qa/ranking?from=&to=``: agents by average score;
- ``GET /api/v1/me/reviews`` (every role): the reviews of the logged-in agent's calls.

Pages: ``/monitoria`` (records), ``/monitoria/chamadas/{call_id}``, ``/monitoria/fila``, ``/monitoria/ficha``.
Agents get 403 everywhere except their own reviews.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StrictBool
from sqlalchemy import select

from dialer.qa.records import (
    BRASILIA,
    OUTCOMES,
    RESULTS,
    CallFilter,
    InvalidFilter,
    parse_filters,
)
from dialer.qa.scorecards import (
    DEFAULT_KEY,
    InvalidScorecard,
    check_key,
    parse_items,
    score,
)
from storage.models import Campaign, Role, User
from storage.repositories import audit
from storage.repositories import qa as qa_repo
from storage.repositories.calls import call_detail
from web.audit_trail import transfer_entry
from web.auth.access import ALL_ROLES, requires
from web.auth.responses import render_page
from web.auth.sessions import CurrentLogin
from web.errors import NO_STORE, FieldError, read_body
from web.keys import CLOCK, CONFIG, CURRENT_LOGIN, DB, DB_READ
from web.qa import services
from web.qa.services import RESULT_LABELS

log = logging.getLogger(__name__)

READERS = (Role.QA, Role.SUPERVISOR, Role.ADMIN)
_CALL_ID = re.compile(r"[0-9a-f]{32}")
MAX_FEEDBACK = 4000


class ReviewIn(BaseModel):
    """A review: one answer per scorecard item (true "sim", false "não", null "não se aplica")."""

    model_config = ConfigDict(extra="forbid")

    scorecard: str = Field(default=DEFAULT_KEY, min_length=1, max_length=40)
    answers: dict[str, StrictBool | None] = Field(max_length=40)
    feedback: str | None = Field(default=None, max_length=MAX_FEEDBACK)


class ScoreItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=40)
    label: str = Field(min_length=1, max_length=200)
    weight: int = Field(ge=1, le=100)
    critical: StrictBool = False


class ScorecardIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    items: list[ScoreItemIn] = Field(min_length=1, max_length=40)


def _me(request: web.Request) -> CurrentLogin:
    login = request[CURRENT_LOGIN]
    if login is None:  # the middleware lets no anonymous request reach here
        raise web.HTTPUnauthorized()
    return login


def parse_call_id(raw: str) -> str:
    """A call id of the path (32 hex digits); FieldError (422) naming ``call_id`` otherwise."""
    if _CALL_ID.fullmatch(raw) is None:
        raise FieldError.invalid("call_id", f"Identificador de chamada inválido: {raw[:40]!r} (32 dígitos hexadecimais).")
    return raw


def _filters(query: Mapping[str, str], *, cursor_allowed: bool = True) -> CallFilter:
    try:
        return parse_filters(query, cursor_allowed=cursor_allowed)
    except InvalidFilter as exc:
        raise FieldError.invalid(exc.field, exc.message) from None


# ---------------------------------------------------------------- call records


@requires(*READERS)
async def api_calls(request: web.Request) -> web.Response:
    """``GET /api/v1/calls``: one keyset page of the filtered call records."""
    f = _filters(request.query)
    async with request.app[DB_READ]() as db:
        page = await services.call_page(db, f)
    return web.json_response(page, headers=NO_STORE)


@requires(*READERS)
async def api_calls_csv(request: web.Request) -> web.StreamResponse:
    """``GET /api/v1/calls.csv``: every filtered call record as CSV, streamed (audited with the row count)."""
    me = _me(request)
    f = _filters(request.query, cursor_allowed=False)
    now = request.app[CLOCK]()
    name = f"chamadas-{now.astimezone(BRASILIA):%Y%m%d-%H%M%S}.csv"
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{name}"',
            **NO_STORE,
        }
    )
    await response.prepare(request)
    rows = 0
    complete = False
    try:
        async with request.app[DB_READ]() as db:
            async for chunk, n in services.csv_chunks(db, f):
                await response.write(chunk.encode("utf-8"))
                rows += n
        complete = True
    finally:
        filters = {k: v for k, v in request.query.items()}
        async with request.app[DB]() as db:
            await audit.record(
                db, user_id=me.user_id, action="calls_exported", entity="call_attempts", entity_id=None, at=now,
                after=transfer_entry(source="api", actor=me.login, file=name,
                                     figures={"rows": rows, "complete": complete}, filters=filters),
            )
            await db.commit()
    await response.write_eof()
    return response


@requires(*READERS)
async def api_call(request: web.Request) -> web.Response:
    """``GET /api/v1/calls/{call_id}``: everything stored about the call."""
    call_id = parse_call_id(request.match_info["call_id"])
    async with request.app[DB_READ]() as db:
        detail = await services.call_detail_json(db, call_id)
    if detail is None:
        raise FieldError.not_found("call_id", f"Chamada {call_id} não existe.")
    return web.json_response(detail, headers=NO_STORE)


@requires(*READERS)
async def api_add_review(request: web.Request) -> web.Response:
    """``POST /api/v1/calls/{call_id}/reviews``: score the call on a scorecard (audited)."""
    me = _me(request)
    call_id = parse_call_id(request.match_info["call_id"])
    body = await read_body(request, ReviewIn)
    at = request.app[CLOCK]()
    async with request.app[DB]() as db:
        detail = await call_detail(db, call_id)
        if detail is None:
            raise FieldError.not_found("call_id", f"Chamada {call_id} não existe.")
        card = await services.load_scorecard(db, body.scorecard)
        if card is None:
            raise FieldError.invalid("scorecard", f"scorecard: a ficha {body.scorecard!r} não existe.")
        _name, items, _ = card
        try:
            result = score(items, body.answers)
        except InvalidScorecard as exc:
            raise FieldError.invalid(exc.field, exc.message) from None
        review = await qa_repo.add_review(
            db, attempt_id=call_id, agent_id=detail.call.agent_id, reviewer_id=me.user_id, scorecard_key=body.scorecard,
            answers={"answers": body.answers, "items": [i.as_dict() for i in items]}, score=result.value,
            zeroed=result.zeroed, feedback=(body.feedback or "").strip() or None, at=at,
        )
        await audit.record(
            db, user_id=me.user_id, action="call_reviewed", entity="call", entity_id=call_id, at=at,
            after={"review_id": review.id, "scorecard": body.scorecard, "score": str(result.value),
                   "zeroed": result.zeroed, "failed_critical": list(result.failed_critical)},
        )
        await db.commit()
        rows = await qa_repo.reviews_of_call(db, call_id)
    mine = next(r for r in rows if r.id == review.id)
    return web.json_response(services.review_json(mine), status=201, headers=NO_STORE)


@requires(*ALL_ROLES)
async def api_my_reviews(request: web.Request) -> web.Response:
    """``GET /api/v1/me/reviews``: the newest reviews of the logged-in user's calls (the agent's feedback)."""
    me = _me(request)
    async with request.app[DB_READ]() as db:
        rows = await qa_repo.reviews_of_agent(db, me.user_id)
    return web.json_response({"items": [services.review_json(r) for r in rows]}, headers=NO_STORE)


# ---------------------------------------------------------------- scorecards


def _key(request: web.Request) -> str:
    try:
        return check_key(request.match_info["key"])
    except InvalidScorecard as exc:
        raise FieldError.invalid("key", exc.message) from None


@requires(*READERS)
async def api_scorecards(request: web.Request) -> web.Response:
    async with request.app[DB_READ]() as db:
        return web.json_response({"items": await services.all_scorecards(db)}, headers=NO_STORE)


@requires(*READERS)
async def api_scorecard(request: web.Request) -> web.Response:
    key = _key(request)
    async with request.app[DB_READ]() as db:
        card = await services.load_scorecard(db, key)
    if card is None:
        raise FieldError.not_found("key", f"A ficha {key} não existe.")
    return web.json_response(services.card_json(key, card[0], card[1], card[2]), headers=NO_STORE)


@requires(*READERS)
async def api_put_scorecard(request: web.Request) -> web.Response:
    """``PUT /api/v1/scorecards/{key}``: create or replace a scorecard (audited; old reviews keep their items)."""
    me = _me(request)
    key = _key(request)
    body = await read_body(request, ScorecardIn)
    try:
        items = parse_items([i.model_dump() for i in body.items])
    except InvalidScorecard as exc:
        raise FieldError.invalid(exc.field, exc.message) from None
    at = request.app[CLOCK]()
    async with request.app[DB]() as db:
        card, before = await qa_repo.put_scorecard(
            db, key=key, name=body.name.strip(), items=[i.as_dict() for i in items], user_id=me.user_id, at=at
        )
        await audit.record(
            db, user_id=me.user_id, action="scorecard_saved", entity="scorecard", entity_id=key, at=at, before=before,
            after={"name": card.name, "items": card.items},
        )
        await db.commit()
    return web.json_response(services.card_json(key, card.name, items, at), headers=NO_STORE)


# ---------------------------------------------------------------- queue and ranking


async def _queue(request: web.Request) -> dict[str, Any]:
    qa = request.app[CONFIG].qa
    async with request.app[DB_READ]() as db:
        return await services.review_queue(
            db, now=request.app[CLOCK](), days=qa.queue_days, min_agreement=qa.queue_min_agreement,
            per_agent=qa.sample_per_agent_week,
        )


@requires(*READERS)
async def api_queue(request: web.Request) -> web.Response:
    """``GET /api/v1/qa/queue``: unreviewed agreements above the amount, disputes, flagged calls, the weekly sample."""
    return web.json_response(await _queue(request), headers=NO_STORE)


def _period(query: Mapping[str, str]) -> tuple[datetime | None, datetime | None]:
    f = _filters({k: v for k, v in query.items() if k in ("from", "to")})
    return f.start, f.end


@requires(*READERS)
async def api_ranking(request: web.Request) -> web.Response:
    """``GET /api/v1/qa/ranking?from=&to=``: agents by their average review score (reviews of the period)."""
    start, end = _period(request.query)
    async with request.app[DB_READ]() as db:
        return web.json_response(await services.ranking_json(db, start=start, end=end), headers=NO_STORE)


# ---------------------------------------------------------------- pages


async def _choices(request: web.Request) -> dict[str, Any]:
    async with request.app[DB_READ]() as db:
        campaigns = (await db.execute(select(Campaign.id, Campaign.name).order_by(Campaign.name))).all()
        agents = (
            await db.execute(select(User.login, User.full_name).where(User.role == Role.AGENT).order_by(User.login))
        ).all()
    return {
        "campaigns": [{"id": c[0], "name": c[1]} for c in campaigns],
        "agents": [{"login": a[0], "name": a[1]} for a in agents],
        "outcomes": OUTCOMES,
        "results": [(r, RESULT_LABELS.get(r, r)) for r in RESULTS],
    }


@requires(*READERS)
async def records_page(request: web.Request) -> web.Response:
    """``GET /monitoria``: filters, the table (filled by monitoria.js from the API), "Mais", "Exportar CSV"."""
    return render_page(request, "monitoria.html", {"me": _me(request), **await _choices(request)})


@requires(*READERS)
async def call_page(request: web.Request) -> web.Response:
    """``GET /monitoria/chamadas/{call_id}``: one call for the reviewer, with the scoring form."""
    raw = request.match_info["call_id"]
    if _CALL_ID.fullmatch(raw) is None:
        raise web.HTTPNotFound()
    async with request.app[DB_READ]() as db:
        detail = await services.call_detail_json(db, raw)
        cards = await services.all_scorecards(db)
    if detail is None:
        raise web.HTTPNotFound()
    card = next((c for c in cards if c["key"] == DEFAULT_KEY), cards[0])
    return render_page(
        request,
        "monitoria_chamada.html",
        {"me": _me(request), "call": detail, "card": card, "result_labels": RESULT_LABELS},
    )


@requires(*READERS)
async def queue_page(request: web.Request) -> web.Response:
    """``GET /monitoria/fila``: the review queue and the quality ranking of the last 30 days."""
    queue = await _queue(request)
    now = request.app[CLOCK]()
    async with request.app[DB_READ]() as db:
        rank = await services.ranking_json(db, start=now - timedelta(days=30), end=None)
    return render_page(request, "monitoria_fila.html", {"me": _me(request), "queue": queue, "ranking": rank["items"]})


@requires(*READERS)
async def scorecard_page(request: web.Request) -> web.Response:
    """``GET /monitoria/ficha``: edit the default scorecard (monitoria_ficha.js saves it over the API)."""
    async with request.app[DB_READ]() as db:
        card = await services.load_scorecard(db, DEFAULT_KEY)
    assert card is not None  # the default always exists
    return render_page(
        request, "monitoria_ficha.html",
        {"me": _me(request), "card": services.card_json(DEFAULT_KEY, card[0], card[1], card[2])},
    )


# ---------------------------------------------------------------- templates' formatting


def br_datetime(value: str | datetime | None) -> str:
    """An ISO time (UTC) as ``dd/mm/aaaa HH:MM:SS`` in Brasília; empty for None."""
    if value is None or value == "":
        return ""
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(BRASILIA).strftime("%d/%m/%Y %H:%M:%S")


def br_money(value: str | None) -> str:
    if value is None:
        return ""
    whole, _, cents = f"{float(value):.2f}".partition(".")
    return f"R$ {int(whole):,}".replace(",", ".") + f",{cents}"


def setup_qa(app: web.Application) -> None:
    """Mount the QA pages and API."""
    env = aiohttp_jinja2.get_env(app)
    env.filters["br_datetime"] = br_datetime
    env.filters["br_money"] = br_money
    r = app.router
    r.add_get("/monitoria", records_page, name="qa_home")
    r.add_get("/monitoria/chamadas/{call_id}", call_page, name="qa_call")
    r.add_get("/monitoria/fila", queue_page, name="qa_queue")
    r.add_get("/monitoria/ficha", scorecard_page, name="qa_scorecard")
    r.add_get("/api/v1/calls", api_calls, name="calls")
    r.add_get("/api/v1/calls.csv", api_calls_csv, name="calls_csv")
    r.add_get("/api/v1/calls/{call_id}", api_call, name="call")
    r.add_post("/api/v1/calls/{call_id}/reviews", api_add_review, name="call_reviews")
    r.add_get("/api/v1/scorecards", api_scorecards, name="scorecards")
    r.add_get("/api/v1/scorecards/{key}", api_scorecard, name="scorecard")
    r.add_put("/api/v1/scorecards/{key}", api_put_scorecard, name="scorecard_put")
    r.add_get("/api/v1/qa/queue", api_queue, name="qa_queue_api")
    r.add_get("/api/v1/qa/ranking", api_ranking, name="qa_ranking")
    r.add_get("/api/v1/me/reviews", api_my_reviews, name="my_reviews")


__all__ = ["ReviewIn", "ScorecardIn", "parse_call_id", "setup_qa"]
