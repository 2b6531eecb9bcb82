"""KPIs on the web (SPEC §8): the JSON API, the streaming CSV export and the page.

- ``GET /api/v1/kpis?from=YYYY-MM-DD&to=YYYY-MM-DD&by=campaign|agent|day[&campaign=ID]``
  (qa, supervisor, admin): one row per group, the total, the reasons for default;
- ``GET /api/v1/kpis.csv?...``: the same table as CSV for Excel in pt-BR (UTF-8 with BOM,
  ``;``, ``1234,56``, percentages as ``12,5``), streamed; every export is audited;
- ``GET /monitoria/indicadores``: the page (filters, a table, an SVG chart per KPI, export).

``from``/``to`` default to the last 7 days ending today (the app's clock, Brasília); a
period is at most 366 days. Errors name the query parameter (422) or the campaign (404).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from aiohttp import web
from sqlalchemy import select

from dialer.pacing.live import BRASILIA_OFFSET_S, local_day
from scripting.money import format_date_br
from storage.models import Campaign, Role
from storage.repositories.audit import record
from storage.repositories.kpis import Grouping
from web.auth.access import requires
from web.auth.responses import render_page
from web.errors import NO_STORE, FieldError, parse_id
from web.keys import CLOCK, CURRENT_LOGIN, DB, DB_READ
from web.kpis.services import (
    EXPORT_AUDIT_ACTION,
    FIRST_YEAR,
    LAST_YEAR,
    MAX_DAYS,
    KpiReport,
    KpiRequest,
    build_report,
    campaign_name,
    csv_lines,
    default_period,
    export_entry,
    report_json,
)

READERS = (Role.QA, Role.SUPERVISOR, Role.ADMIN)
BOM = "\ufeff"
PAGE_PATH = "/monitoria/indicadores"


def _today(request: web.Request) -> date:
    return local_day(request.app[CLOCK]().timestamp(), BRASILIA_OFFSET_S)


def _date(raw: str, field: str) -> date:
    try:
        if len(raw) != 10:
            raise ValueError(raw)
        day = date.fromisoformat(raw)
    except ValueError:
        raise FieldError.invalid(field, f"{field}: data inválida {raw!r}; use aaaa-mm-dd.") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise FieldError.invalid(field, f"{field}: use uma data entre {FIRST_YEAR} e {LAST_YEAR}.")
    return day


def parse_kpi_request(query: Mapping[str, str], today: date) -> KpiRequest:
    """The report asked for in the query string; FieldError naming the parameter otherwise."""
    first, last = default_period(today)
    if query.get("from"):
        first = _date(query["from"], "from")
    if query.get("to"):
        last = _date(query["to"], "to")
    if first > last:
        raise FieldError.invalid("from", "from: o início do período é depois do fim.")
    if (last - first).days + 1 > MAX_DAYS:
        raise FieldError.invalid("to", f"to: o período pode ter no máximo {MAX_DAYS} dias.")
    raw_by = query.get("by") or Grouping.DAY.value
    try:
        by = Grouping(raw_by)
    except ValueError:
        raise FieldError.invalid("by", f"by: agrupamento inválido {raw_by!r}; use campaign, agent ou day.") from None
    campaign_id = None
    if query.get("campaign"):
        campaign_id = parse_id(query["campaign"], "campaign", "campanha")
    return KpiRequest(first, last, by, campaign_id)


async def _report(request: web.Request) -> KpiReport:
    wanted = parse_kpi_request(request.query, _today(request))
    async with request.app[DB_READ]() as db:
        if wanted.campaign_id is not None and await campaign_name(db, wanted.campaign_id) is None:
            raise FieldError.not_found("campaign", f"Campanha {wanted.campaign_id} não existe.")
        return await build_report(db, wanted, now=request.app[CLOCK]())


@requires(*READERS)
async def get_kpis(request: web.Request) -> web.Response:
    """``GET /api/v1/kpis``: the KPI table as JSON."""
    report = await _report(request)
    return web.json_response(report_json(report), headers=NO_STORE)


@requires(*READERS)
async def get_kpis_csv(request: web.Request) -> web.StreamResponse:
    """``GET /api/v1/kpis.csv``: the KPI table as CSV (audited export)."""
    login = request[CURRENT_LOGIN]
    if login is None:  # the middleware lets no anonymous request reach here
        raise web.HTTPUnauthorized()
    report = await _report(request)
    r = report.request
    name = f"indicadores-{r.by.value}-{r.first.isoformat()}-a-{r.last.isoformat()}.csv"
    async with request.app[DB].begin() as db:
        await record(
            db, user_id=login.user_id, action=EXPORT_AUDIT_ACTION, entity="kpis", entity_id=None,
            after=export_entry(report, source="api", actor=login.login, file=name), at=request.app[CLOCK](),
        )
    response = web.StreamResponse(
        headers={
            **NO_STORE,
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{name}"',
        }
    )
    await response.prepare(request)
    await response.write(BOM.encode())
    for line in csv_lines(report):
        await response.write(line.encode())
    await response.write_eof()
    return response


@requires(*READERS)
async def kpis_page(request: web.Request) -> web.Response:
    """``GET /monitoria/indicadores``: filters, table and charts (drawn by web/static/kpis.js)."""
    login = request[CURRENT_LOGIN]
    if login is None:
        raise web.HTTPUnauthorized()
    first, last = default_period(_today(request))
    async with request.app[DB_READ]() as db:
        campaigns = [{"id": i, "name": n} for i, n in await db.execute(select(Campaign.id, Campaign.name).order_by(Campaign.name))]
    return render_page(
        request, "kpis.html", {"me": login, "campaigns": campaigns, "first": format_date_br(first), "last": format_date_br(last)}
    )


def setup_kpis(app: web.Application) -> None:
    app.router.add_get("/api/v1/kpis", get_kpis, name="kpis")
    app.router.add_get("/api/v1/kpis.csv", get_kpis_csv, name="kpis_csv")
    app.router.add_get(PAGE_PATH, kpis_page, name="kpis_page")


__all__ = ["PAGE_PATH", "parse_kpi_request", "setup_kpis"]
