"""Pacing on the web: live figures and settings per campaign, and the what-if page (SPEC §5, §8).

- ``GET /api/v1/campaigns/{id}/pacing`` (supervisor, admin, QA): mode, dial level, calls in
  flight, abandon rate today and over 30 days, live answers, short calls today and their
  ratio per caller id. From the running dialer when there is one, else from storage.
- ``PUT /api/v1/campaigns/{id}/pacing`` (supervisor, admin; JSON with any of ``mode``,
  ``max_dial_level``, ``abandon_cap``, ``amd_enabled``): changes them live, audited (who,
  before, after); the dialer applies them on its next tick. Errors name the field, in the
  API's one shape (``web.errors``): a malformed id or field is 422, an unknown campaign 404.
- ``GET /supervisor/simulacao`` (supervisor, admin): the what-if tool's page; with
  ``?agentes=…`` it runs the simulation in a worker process (bounded by a timeout) and
  shows occupancy, abandon rate, connects per agent-hour and agent wait per agent count.
"""

from __future__ import annotations

import asyncio
import logging
import math
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StrictBool
from sqlalchemy import select

from dialer.pacing.live import (
    BRASILIA_OFFSET_S,
    MAX_ABANDON_CAP,
    MAX_DIAL_LEVEL_LIMIT,
    Floor,
    PacingFigures,
    PacingSettings,
    SettingsError,
    ShortCalls,
    day_bounds,
    local_day,
)
from dialer.pacing.pacer import PacingMode
from storage.models import Campaign, CampaignMode, Role
from storage.repositories.pacing import (
    abandon_days,
    campaign_pacing,
    short_calls_by_caller_id,
    update_campaign_pacing,
)
from web.agent.http import AGENT_DESK
from web.auth.access import requires
from web.auth.responses import render_page
from web.errors import NO_STORE, FieldError, parse_model, path_id, read_json_object
from web.keys import CLOCK, CURRENT_LOGIN, DB, DB_READ
from web.pacing.whatif import (
    DEFAULT_FALLBACK,
    WhatIfError,
    WhatIfInput,
    WhatIfRow,
    campaign_input,
    check_cap,
    check_hours,
    decimal_br,
    named_scenario,
    parse_agent_counts,
    percent,
    run_whatif,
)

log = logging.getLogger(__name__)

SIMULATION_TIMEOUT_S = 120.0
SETTINGS_FIELDS = ("mode", "max_dial_level", "abandon_cap", "amd_enabled")


@dataclass
class PacingWeb:
    """The what-if tool's worker process (started on first use, shut down with the app)."""

    pool: ProcessPoolExecutor | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # a PUT reads the stored settings, merges the body and writes: two at once must not merge stale values
    settings_lock: asyncio.Lock = field(default_factory=asyncio.Lock)


PACING_WEB: web.AppKey[PacingWeb] = web.AppKey("cobra.pacing_web", PacingWeb)


def _runtime(request: web.Request) -> Any:
    desk = request.app.get(AGENT_DESK)
    return None if desk is None else desk.runtime


class PacingIn(BaseModel):
    """The body of ``PUT .../pacing``: any of the settings; ``PacingSettings`` checks them together.

    Typed and bounded here too, so the OpenAPI document says what is accepted and a number too
    large for a float (``1e400`` as an integer) is a 422, not an OverflowError."""

    model_config = ConfigDict(extra="forbid")

    mode: PacingMode | None = None
    max_dial_level: float | None = Field(default=None, ge=1.0, le=MAX_DIAL_LEVEL_LIMIT, allow_inf_nan=False)
    abandon_cap: float | None = Field(default=None, gt=0.0, le=MAX_ABANDON_CAP, allow_inf_nan=False)
    amd_enabled: StrictBool | None = None


def _campaign_id(request: web.Request) -> int:
    return path_id(request, "campaign_id", "campanha")


def _no_campaign(campaign_id: int) -> FieldError:
    return FieldError.not_found("campaign_id", f"Campanha {campaign_id} não existe.")


async def stored_figures(request: web.Request, campaign_id: int) -> PacingFigures | None:
    """The figures from storage alone (no dialer running here): nothing in flight.

    "Today" is the app's clock's day, the same the dialer and the demo count on."""
    today = local_day(request.app[CLOCK]().timestamp(), BRASILIA_OFFSET_S)
    async with request.app[DB_READ]() as db:
        row = await campaign_pacing(db, campaign_id)
        if row is None:
            return None
        days = await abandon_days(
            db, campaign_id, first_day=today - timedelta(days=29), last_day=today, utc_offset_s=BRASILIA_OFFSET_S
        )
        start, end = day_bounds(today)
        shorts = await short_calls_by_caller_id(db, campaign_id, start=start, end=end)
    settings = PacingSettings(row.mode.value, row.max_dial_level, row.abandon_cap, row.amd_enabled)  # type: ignore[arg-type]
    today_row = next((d for d in days if d.day == today), None)
    return PacingFigures(
        campaign_id=campaign_id,
        settings=settings,
        running=row.running,
        state="off",
        floor=Floor(),
        dial_level=0.0,
        live_today=today_row.live if today_row else 0,
        abandons_today=today_row.abandons if today_row else 0,
        live_30d=sum(d.live for d in days),
        abandons_30d=sum(d.abandons for d in days),
        short_calls_today=tuple(ShortCalls(s.caller_id, s.completed, s.short) for s in shorts),
        live=False,
    )


async def _figures(request: web.Request, campaign_id: int) -> PacingFigures | None:
    runtime = _runtime(request)
    if runtime is not None:
        figures: PacingFigures | None = runtime.campaign_figures(campaign_id)
        if figures is not None:
            return figures
    return await stored_figures(request, campaign_id)


@requires(Role.SUPERVISOR, Role.ADMIN, Role.QA)
async def get_pacing(request: web.Request) -> web.Response:
    """``GET /api/v1/campaigns/{id}/pacing``: the campaign's live pacing figures."""
    campaign_id = _campaign_id(request)
    figures = await _figures(request, campaign_id)
    if figures is None:
        raise _no_campaign(campaign_id)
    return web.json_response(figures.as_dict(), headers=NO_STORE)


@requires(Role.SUPERVISOR, Role.ADMIN)
async def put_pacing(request: web.Request) -> web.Response:
    """``PUT /api/v1/campaigns/{id}/pacing``: change mode / max dial level / cap / AMD (audited)."""
    login = request[CURRENT_LOGIN]
    if login is None:  # the middleware lets no anonymous request reach here
        raise web.HTTPUnauthorized()
    campaign_id = _campaign_id(request)
    data = await read_json_object(request)
    unknown = sorted(set(data) - set(SETTINGS_FIELDS))
    if unknown:
        raise FieldError.invalid(unknown[0], f"{unknown[0]}: campo desconhecido; use: {', '.join(SETTINGS_FIELDS)}")
    body = parse_model(data, PacingIn).model_dump(exclude_unset=True, mode="json")
    async with request.app[PACING_WEB].settings_lock:
        await _change_pacing(request, campaign_id, body, login.user_id)
    figures = await _figures(request, campaign_id)
    if figures is None:  # deleted meanwhile
        raise _no_campaign(campaign_id)
    return web.json_response(figures.as_dict(), headers=NO_STORE)


async def _change_pacing(request: web.Request, campaign_id: int, body: dict[str, Any], user_id: int) -> None:
    """Merge ``body`` into the stored settings and write them (the caller holds the settings lock)."""
    async with request.app[DB]() as db:
        row = await campaign_pacing(db, campaign_id)
    if row is None:
        raise _no_campaign(campaign_id)
    merged = {**row.settings(), **body}
    try:
        wanted = PacingSettings(merged["mode"], merged["max_dial_level"], merged["abandon_cap"], merged["amd_enabled"])
    except SettingsError as exc:
        raise FieldError.invalid(exc.field, exc.message) from None
    runtime = _runtime(request)
    if runtime is not None:
        await runtime.set_pacing(
            campaign_id, wanted.mode.value, wanted.max_dial_level, wanted.abandon_cap, user_id, wanted.amd_enabled
        )
        return
    async with request.app[DB].begin() as db:
        await update_campaign_pacing(
            db,
            campaign_id,
            mode=CampaignMode(wanted.mode.value),
            max_dial_level=wanted.max_dial_level,
            abandon_cap=wanted.abandon_cap,
            amd_enabled=wanted.amd_enabled,
            user_id=user_id,
            at=request.app[CLOCK](),
        )


# ---------------------------------------------------------------- the what-if page


def _simulate_in_worker(inp: WhatIfInput, agents: list[int], cap: float, hours: float) -> list[WhatIfRow]:
    return run_whatif(inp.scenario, agents, cap=cap, hours=hours)


async def _run_in_pool(app: web.Application, inp: WhatIfInput, agents: list[int], cap: float, hours: float) -> list[WhatIfRow]:
    """In a worker process: the simulation is CPU-bound and must not stall the dialer's event loop."""
    state = app[PACING_WEB]
    async with state.lock:  # one simulation at a time per process
        if state.pool is None:
            state.pool = ProcessPoolExecutor(max_workers=1)
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(state.pool, _simulate_in_worker, inp, agents, cap, hours)
        try:
            return await asyncio.wait_for(future, SIMULATION_TIMEOUT_S)
        except TimeoutError:
            # the worker may still be computing: replace it so the next request is not stuck
            state.pool.shutdown(wait=False, cancel_futures=True)
            state.pool = None
            raise


def _number(raw: str, field: str) -> float:
    try:
        value = float(raw.replace(",", "."))
    except ValueError:
        raise WhatIfError(field, f"não é um número: {raw!r}") from None
    if not math.isfinite(value):
        raise WhatIfError(field, f"não é um número: {raw!r}")
    return value


@requires(Role.SUPERVISOR, Role.ADMIN)
async def simulation_page(request: web.Request) -> web.Response:
    """``GET /supervisor/simulacao``: how many agents for this list today, at this cap."""
    login = request[CURRENT_LOGIN]
    if login is None:
        raise web.HTTPUnauthorized()
    async with request.app[DB_READ]() as db:
        campaigns = [n for (n,) in await db.execute(select(Campaign.name).order_by(Campaign.name))]
    q = request.query
    form = {
        "campanha": q.get("campanha", ""),
        "agentes": q.get("agentes", "5,10,20"),
        "teto": q.get("teto", "3"),
        "horas": q.get("horas", "8"),
    }
    context: dict[str, Any] = {"me": login, "campaigns": campaigns, "form": form, "rows": None, "error": None,
                               "source": None, "leads": None}
    if "agentes" in q:
        try:
            agents = parse_agent_counts(form["agentes"])
            cap = check_cap(_number(form["teto"], "cap") / 100.0)
            hours = check_hours(_number(form["horas"], "hours"))
            if form["campanha"]:
                async with request.app[DB_READ]() as db:
                    inp = await campaign_input(
                        db, form["campanha"], days=14, fallback=DEFAULT_FALLBACK, now=request.app[CLOCK]()
                    )
            else:
                s = named_scenario(DEFAULT_FALLBACK)
                inp = WhatIfInput(s, f"cenário {s.name}")
            rows = await _run_in_pool(request.app, inp, agents, cap, hours)
        except WhatIfError as exc:
            context["error"] = exc.message
        except TimeoutError:
            context["error"] = "A simulação demorou demais; tente menos agentes ou um turno mais curto."
        else:
            context["source"] = inp.source
            context["leads"] = inp.leads_dialable
            context["cap"] = percent(cap)
            context["rows"] = [
                {
                    "agents": r.agents,
                    "occupancy": percent(r.occupancy),
                    "abandon": percent(r.abandon_rate, 2),
                    "over_cap": r.abandon_rate > cap,
                    "connects": decimal_br(r.connects_per_agent_hour, 2),
                    "wait50": decimal_br(r.agent_wait_p50_s),
                    "wait95": decimal_br(r.agent_wait_p95_s),
                    "per_hour": decimal_br(r.calls_per_hour),
                    "lasts": None
                    if not inp.leads_dialable or r.calls_per_hour <= 0
                    else decimal_br(inp.leads_dialable / r.calls_per_hour),
                }
                for r in rows
            ]
    return render_page(request, "supervisor_simulacao.html", context)


async def _shut_pool(app: web.Application) -> None:
    pool = app[PACING_WEB].pool
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)
        app[PACING_WEB].pool = None


def setup_pacing(app: web.Application) -> None:
    """Mount the pacing API and the what-if page."""
    app[PACING_WEB] = PacingWeb()
    app.on_cleanup.append(_shut_pool)
    app.router.add_get("/api/v1/campaigns/{campaign_id}/pacing", get_pacing, name="campaign_pacing")
    app.router.add_put("/api/v1/campaigns/{campaign_id}/pacing", put_pacing, name="campaign_pacing_put")
    app.router.add_get("/supervisor/simulacao", simulation_page, name="supervisor_simulacao")


__all__ = ["PACING_WEB", "setup_pacing", "stored_figures"]
