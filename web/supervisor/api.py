"""Supervisor REST API: segments and boosts of a campaign, portfolio upload, customer holds (SPEC §4, §8).

Every change is validated at the edge (pydantic bodies read by ``web.errors.read_body``;
errors are raised as ``FieldError`` and answered in the API's one shape, naming the first bad
field, e.g. ``segments[2].filters.buckets``), applied in one transaction together with its audit entry
(who, when, before, after), and takes effect on the very next pick: segment and boost
changes re-rank the stored lead priorities the hopper reads.
"""

from __future__ import annotations

import logging
import tempfile
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    WithJsonSchema,
)
from sqlalchemy import or_
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.leads.hopper import reprioritise_campaign
from dialer.leads.segments import (
    MAX_BOOST,
    MAX_SEGMENTS,
    MAX_WEIGHT,
    MIN_BOOST,
    SegmentError,
    parse_filter,
)
from dialer.portfolio.errors import PortfolioFormatError
from dialer.portfolio.importer import (
    FirstRejects,
    import_portfolio,
    import_portfolio_in_worker,
)
from dialer.portfolio.importer import summary_pt as import_summary_pt
from dialer.portfolio.worker import import_portfolio_in_process
from storage.engine import is_sqlite_memory, parse_url
from storage.errors import InvalidValue, NotFound
from storage.models import Campaign, Customer, HoldKind, Lead, Role
from storage.repositories.audit import record
from storage.repositories.portfolio import release_hold, set_hold
from storage.repositories.segments import (
    StoredSegment,
    boosted_leads,
    list_segments,
    replace_segments,
    set_boosts,
    unranked_leads,
)
from web.audit_trail import file_label, transfer_entry
from web.auth.access import requires
from web.errors import FieldError, path_id, read_body
from web.keys import CLOCK, CONFIG, CURRENT_LOGIN, DB, DB_READ

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 200 * 1024 * 1024
PROCESS_IMPORT_MIN_BYTES = 1 << 20
"""Uploads from this size (about 7,000 rows) are imported in a child process, smaller ones in a thread."""
MAX_FILTER_AMOUNT = Decimal(1000000000000)  # R$ 1 trillion: above any balance, below Decimal's precision
MAX_FILTER_SCORE = 1_000_000
MANAGERS = (Role.SUPERVISOR, Role.ADMIN)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


Text = Annotated[str, StringConstraints(min_length=1, max_length=80)]
# Amounts as JSON numbers or strings ("1000.00"); bounded so quantizing to cents can't overflow
Amount = Annotated[
    Decimal,
    Field(ge=0, le=MAX_FILTER_AMOUNT, max_digits=16, allow_inf_nan=False),
    WithJsonSchema({"type": ["number", "string"], "minimum": 0, "maximum": int(MAX_FILTER_AMOUNT), "maxLength": 20}),
]
Score = Annotated[int, Field(ge=-MAX_FILTER_SCORE, le=MAX_FILTER_SCORE)]


class FilterIn(_Body):
    """A segment's filter; ``dialer.leads.segments.parse_filter`` checks the values' meaning."""

    buckets: list[Text] | None = Field(default=None, max_length=20)
    balance_min: Amount | None = None
    balance_max: Amount | None = None
    tags_any: list[Text] | None = Field(default=None, max_length=100)
    ufs: list[Annotated[str, StringConstraints(min_length=2, max_length=2)]] | None = Field(default=None, max_length=27)
    score_min: Score | None = None
    score_max: Score | None = None
    promise_broken: StrictBool | None = None
    callback_due: StrictBool | None = None

    def as_filter(self) -> dict[str, Any]:
        """The given criteria as parse_filter reads them (amounts as strings, no nulls)."""
        out = self.model_dump(exclude_none=True)
        for name in ("balance_min", "balance_max"):
            if name in out:
                out[name] = str(out[name])
        return out


class SegmentIn(_Body):
    name: str = Field(min_length=1, max_length=80)
    weight: int = Field(ge=0, le=MAX_WEIGHT)
    filters: FilterIn = Field(default_factory=FilterIn)


class SegmentsIn(_Body):
    segments: list[SegmentIn] = Field(max_length=MAX_SEGMENTS)


class BoostsIn(_Body):
    boosts: dict[
        Annotated[str, StringConstraints(min_length=1, max_length=64)], Annotated[int, Field(ge=MIN_BOOST, le=MAX_BOOST)]
    ] = Field(min_length=1, max_length=10_000)
    """External customer id → boost (0 removes it)."""


class HoldIn(_Body):
    kind: HoldKind
    reason: str = Field(min_length=1, max_length=200)
    until: datetime | None = None


def invalid(field: str, message: str) -> FieldError:
    """422 naming ``field``; the message starts with the field, as pydantic's do (``web.errors``)."""
    return FieldError.invalid(field, f"{field}: {message}")


def _campaign_id(request: web.Request) -> int:
    return path_id(request, "campaign_id", "campanha")


def _customer_id(request: web.Request) -> int:
    return path_id(request, "customer_id", "cliente")


async def _campaign(db: AsyncSession, campaign_id: int) -> Campaign:
    campaign = await db.get(Campaign, campaign_id)
    if campaign is None:
        raise FieldError.not_found("campaign_id", f"Campanha {campaign_id} não existe.")
    return campaign


def _user_id(request: web.Request) -> int | None:
    login = request.get(CURRENT_LOGIN)
    return login.user_id if login is not None else None


def _now(request: web.Request) -> datetime:
    return request.app[CLOCK]()


def _segments_json(segments: list[StoredSegment]) -> list[dict[str, Any]]:
    return [{"position": s.position, "name": s.name, "weight": s.weight, "filters": s.filters} for s in segments]


@requires(Role.SUPERVISOR, Role.ADMIN, Role.QA)
async def get_segments(request: web.Request) -> web.Response:
    campaign_id = _campaign_id(request)
    async with request.app[DB_READ]() as db:
        campaign = await _campaign(db, campaign_id)
        segments = await list_segments(db, campaign.id)
        boosts = await boosted_leads(db, campaign.id)
    return web.json_response({"campaign_id": campaign.id, "segments": _segments_json(segments), "boosts": boosts})


@requires(*MANAGERS)
async def put_segments(request: web.Request) -> web.Response:
    campaign_id = _campaign_id(request)
    body = await read_body(request, SegmentsIn)
    new: list[StoredSegment] = []
    seen: set[str] = set()
    for i, seg in enumerate(body.segments):
        name = " ".join(seg.name.split())
        if name.lower() in seen:
            raise invalid(f"segments[{i}].name", f"nome repetido: {name!r}")
        seen.add(name.lower())
        try:
            flt = parse_filter(seg.filters.as_filter(), f"segments[{i}].filters")
        except SegmentError as exc:
            raise invalid(exc.field, exc.message) from None
        new.append(StoredSegment(i, name, seg.weight, flt.to_json()))
    now = _now(request)
    async with request.app[DB]() as db:
        campaign = await _campaign(db, campaign_id)
        before = await list_segments(db, campaign.id)
        await replace_segments(db, campaign.id, new)
        ranked = await reprioritise_campaign(db, campaign.id, now=now)
        await record(
            db, user_id=_user_id(request), action="segments.replace", entity="campaign", entity_id=campaign.id,
            before={"segments": _segments_json(before)}, after={"segments": _segments_json(new)}, at=now,
        )
        await db.commit()
    return web.json_response({"campaign_id": campaign.id, "segments": _segments_json(new), "leads_reranked": ranked})


@requires(*MANAGERS)
async def put_boosts(request: web.Request) -> web.Response:
    campaign_id = _campaign_id(request)
    body = await read_body(request, BoostsIn)
    for ext, value in body.boosts.items():
        if not MIN_BOOST <= value <= MAX_BOOST:
            raise invalid(f"boosts.{ext}", f"deve estar entre {MIN_BOOST} e {MAX_BOOST}")
    now = _now(request)
    async with request.app[DB]() as db:
        campaign = await _campaign(db, campaign_id)
        changes, unknown = await set_boosts(db, campaign.id, body.boosts, now=now)
        if unknown:
            await db.rollback()
            raise invalid(f"boosts.{unknown[0]}", "cliente sem lead nesta campanha")
        if changes:
            # the boosted, and any lead never ranked on the segment scale (priority 0): it would
            # otherwise still outrank a boosted lead at the next pick
            boosted = Lead.customer_id.in_([c.customer_id for c in changes])
            await reprioritise_campaign(db, campaign.id, now=now, only=or_(boosted, unranked_leads()))
            await record(
                db, user_id=_user_id(request), action="boosts.set", entity="campaign", entity_id=campaign.id,
                before={c.external_id: c.before for c in changes}, after={c.external_id: c.after for c in changes},
                at=now,
            )
        await db.commit()
    return web.json_response(
        {"campaign_id": campaign.id, "changed": {c.external_id: c.after for c in changes}}
    )


async def _save_upload(request: web.Request, directory: Path) -> tuple[Path, bool, str | None]:
    """Stream the multipart ``file`` part to disk (size-limited); also read ``dry_run`` and the file's name.

    A body that is not well-formed multipart (bad part headers, bad boundary) is a 422 naming
    ``file``: aiohttp's multipart reader raises parser errors that are not HTTP exceptions."""
    try:
        return await _read_upload(request, directory)
    except (HttpProcessingError, ValueError, AssertionError) as exc:
        log.info("malformed multipart upload: %s", exc)
        raise invalid("file", "o corpo multipart/form-data está malformado; envie o CSV no campo file") from None


async def _read_upload(request: web.Request, directory: Path) -> tuple[Path, bool, str | None]:
    if not request.content_type.startswith("multipart/"):
        raise FieldError(
            415, "unsupported_media_type", "Envie o arquivo como multipart/form-data (campo file).", field="file"
        )
    reader = await request.multipart()
    target: Path | None = None
    file_name: str | None = None
    dry_run = False
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            continue
        if part.name == "dry_run":
            dry_run = (await part.text()).strip().lower() in ("1", "true", "sim", "yes", "on")
        elif part.name == "file":
            target = directory / "carteira.csv"  # never the client's name: paths are not built from input
            file_name = file_label(part.filename)
            size = 0
            with target.open("wb") as out:
                while chunk := await part.read_chunk(1 << 16):
                    size += len(chunk)
                    if size > MAX_UPLOAD_BYTES:
                        raise FieldError(
                            413, "too_large", f"Arquivo maior que {MAX_UPLOAD_BYTES // 2**20} MB.", field="file"
                        )
                    out.write(chunk)
    if target is None:
        raise invalid("file", "campo obrigatório (o arquivo CSV da carteira)")
    return target, dry_run, file_name


@requires(*MANAGERS)
async def post_import(request: web.Request) -> web.Response:
    campaign_id = _campaign_id(request)
    async with request.app[DB]() as db:
        campaign = await _campaign(db, campaign_id)
    with tempfile.TemporaryDirectory(prefix="cobra-import-") as tmp:
        path, dry_run, file_name = await _save_upload(request, Path(tmp))
        rejects: list[dict[str, Any]] = []
        first = FirstRejects()

        def keep(row: Any) -> None:
            first(row)
            if len(rejects) < 1000:  # the figures count them all; the body lists the first thousand
                rejects.extend(
                    {"linha": r.row_number, "coluna": r.column, "codigo": r.code, "motivo": r.reason}
                    for r in row.rejections
                )

        try:
            database = request.app[CONFIG].database
            if is_sqlite_memory(parse_url(database.url)):  # one connection: only this engine sees it
                with path.open("rb") as stream:
                    result = await import_portfolio(
                        request.app[DB], stream, campaign_id=campaign.id, dry_run=dry_run, now=_now(request),
                        on_rejected=keep,
                    )
            else:
                # off the service's loop (the dialer runs on it), with an engine of its own: a big file
                # in a child process (its parsing would otherwise share this process's GIL with the
                # loop), a small one in a worker thread (starting a process costs more than it saves)
                run_import = (import_portfolio_in_process if path.stat().st_size >= PROCESS_IMPORT_MIN_BYTES
                              else import_portfolio_in_worker)
                result = await run_import(
                    database.url, path, campaign_id=campaign.id, busy_timeout_s=database.busy_timeout_s,
                    dry_run=dry_run, now=_now(request), on_rejected=keep,
                )
        except PortfolioFormatError as exc:
            raise invalid("file", str(exc)) from None
    figures = result.to_json()
    # dry runs too: they read the whole file of personal data just the same
    login = request.get(CURRENT_LOGIN)
    async with request.app[DB]() as db:
        await record(db, user_id=_user_id(request), action="portfolio.import", entity="campaign",
                     entity_id=campaign.id, before=None,
                     after=transfer_entry(source="api", actor=f"web:{login.login}" if login else "web", file=file_name,
                                          figures=figures),
                     at=_now(request))
        await db.commit()
    # the summary `cobra import` prints: every row accepted or not, and the first rejects with line, column, reason
    return web.json_response({**figures, "all_accepted": result.rejected_rows == 0,
                              "first_rejects": first.to_json(), "summary": import_summary_pt(result, first),
                              "rejects": rejects})


@requires(*MANAGERS)
async def post_hold(request: web.Request) -> web.Response:
    customer_id = _customer_id(request)
    body = await read_body(request, HoldIn)
    if body.until is not None and body.until.tzinfo is None:
        raise invalid("until", "informe o fuso horário (ex.: 2026-05-01T18:00:00-03:00)")
    now = _now(request)
    async with request.app[DB]() as db:
        try:
            hold = await set_hold(db, customer_id, kind=body.kind, reason=body.reason, until=body.until,
                                  set_by_id=_user_id(request), now=now)
        except NotFound:
            raise FieldError.not_found("customer_id", f"Cliente {customer_id} não existe.") from None
        except InvalidValue as exc:
            if "until" in str(exc):
                raise invalid("until", "deve estar no futuro") from None
            raise invalid("reason", "não pode ser vazio") from None
        await record(db, user_id=_user_id(request), action="hold.set", entity="customer", entity_id=customer_id,
                     before=None, after=hold.as_dict(), at=now)
        await db.commit()
    return web.json_response(hold.as_dict(), status=201)


@requires(*MANAGERS)
async def delete_hold(request: web.Request) -> web.Response:
    customer_id = _customer_id(request)
    hold_id = path_id(request, "hold_id", "suspensão")
    now = _now(request)
    async with request.app[DB]() as db:
        try:
            hold = await release_hold(db, customer_id, hold_id, released_by_id=_user_id(request), now=now)
        except NotFound:
            if await db.get(Customer, customer_id) is None:
                raise FieldError.not_found("customer_id", f"Cliente {customer_id} não existe.") from None
            raise FieldError.not_found(
                "hold_id", f"O cliente {customer_id} não tem a suspensão {hold_id}."
            ) from None
        except InvalidValue:
            raise FieldError.conflict(f"A suspensão {hold_id} já foi encerrada.", field="hold_id") from None
        after = hold.as_dict()
        await record(db, user_id=_user_id(request), action="hold.release", entity="customer", entity_id=customer_id,
                     before={**after, "released_at": None}, after=after, at=now)
        await db.commit()
    return web.json_response(after)


def setup_supervisor_api(app: web.Application) -> None:
    """Mount the supervisor REST routes (segments, boosts, import, holds)."""
    app.router.add_get("/api/v1/campaigns/{campaign_id}/segments", get_segments, name="api_segments")
    app.router.add_put("/api/v1/campaigns/{campaign_id}/segments", put_segments, name="api_segments_put")
    app.router.add_put("/api/v1/campaigns/{campaign_id}/boosts", put_boosts, name="api_boosts")
    app.router.add_post("/api/v1/campaigns/{campaign_id}/import", post_import, name="api_import")
    app.router.add_post("/api/v1/customers/{customer_id}/holds", post_hold, name="api_holds")
    app.router.add_delete(
        "/api/v1/customers/{customer_id}/holds/{hold_id}", delete_hold, name="api_hold_delete"
    )

