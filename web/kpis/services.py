"""The KPI report: storage's sums → the pure figures → rows with pt-BR labels, JSON and CSV.

Shared by the REST API, the page and ``cobra kpis``. A report is a period of local days
(Brasília), a grouping (campaign, agent or day) and an optional campaign filter; it has
one row per group, a total row, and the reasons for default split and itemised.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.kpis.figures import (
    DISPUTE_OUTCOME,
    REASON_CAPTURE_KEY,
    RIGHT_PARTY_OUTCOMES,
    AgentTime,
    CallTotals,
    DealTotals,
    GroupInput,
    KpiFigures,
    ReasonCatalogue,
    ReasonSplit,
    combine,
    figures,
    split_reasons,
)
from dialer.kpis.reasons import reason_catalogue
from dialer.pacing.live import BRASILIA_OFFSET_S
from dialer.scripts_catalog import load_campaign_scripts
from scripting.money import format_brl, format_date_br
from scripting.script import load_default_script
from storage.models import Campaign, User
from storage.repositories.kpis import (
    Grouping,
    Key,
    KpiQuery,
    KpiRules,
    KpiSums,
    TimeSums,
    day_range,
    kpi_sums,
)
from web.audit_trail import transfer_entry

RULES = KpiRules(RIGHT_PARTY_OUTCOMES, REASON_CAPTURE_KEY, DISPUTE_OUTCOME)
MAX_DAYS = 366
FIRST_YEAR, LAST_YEAR = 2000, 2100  # far enough either way; keeps day arithmetic off datetime's limits
DEFAULT_DAYS = 7
NO_AGENT = "Sem operador (não atendidas, abandonadas ou máquina)"
NO_CAMPAIGN = "Sem campanha"
EXPORT_AUDIT_ACTION = "kpis.export"


@dataclass(frozen=True, slots=True)
class KpiRequest:
    first: date
    last: date
    by: Grouping = Grouping.DAY
    campaign_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"from": self.first.isoformat(), "to": self.last.isoformat(), "by": self.by.value,
                "campaign": self.campaign_id}


@dataclass(frozen=True, slots=True)
class KpiRow:
    key: str | None  # campaign or agent id, or ISO day; None: calls without an agent/campaign
    label: str
    figures: KpiFigures


@dataclass(frozen=True, slots=True)
class KpiReport:
    request: KpiRequest
    campaign_name: str | None
    rows: tuple[KpiRow, ...]
    total: KpiFigures
    reasons: ReasonSplit


def _time(t: TimeSums) -> AgentTime:
    s = t.seconds
    return AgentTime(
        logged_s=sum(s.values()),
        paused_s=s.get("paused", 0.0),
        busy_s=s.get("on_call", 0.0) + s.get("wrap_up", 0.0),
    )


def group_inputs(sums: KpiSums) -> dict[Key, GroupInput]:
    """Storage's sums per key as the pure module's inputs."""
    out: dict[Key, GroupInput] = {}
    for key in sums.group_keys():
        c = sums.calls.get(key)
        d = sums.deals.get(key)
        t = None if sums.time is None else _time(sums.time.get(key, TimeSums()))
        out[key] = GroupInput(
            calls=CallTotals(**dataclasses.asdict(c)) if c is not None else CallTotals(),
            deals=DealTotals(**dataclasses.asdict(d)) if d is not None else DealTotals(),
            time=t,
            reasons=sums.reasons.get(key, {}),
        )
    return out


async def load_catalogue(db: AsyncSession) -> ReasonCatalogue:
    """The reason codes of the default script and of every campaign's published script."""
    scripts = [load_default_script(), *(await load_campaign_scripts(db)).values()]
    return reason_catalogue(scripts)


async def campaign_name(db: AsyncSession, campaign_id: int) -> str | None:
    name: str | None = await db.scalar(select(Campaign.name).where(Campaign.id == campaign_id))
    return name


async def _labels(db: AsyncSession, by: Grouping, keys: list[Key]) -> dict[Key, str]:
    ids = [k for k in keys if isinstance(k, int)]
    if by is Grouping.CAMPAIGN:
        rows = await db.execute(select(Campaign.id, Campaign.name).where(Campaign.id.in_(ids)))
        names = {i: n for i, n in rows}
        return {k: names.get(k, f"Campanha {k}") if isinstance(k, int) else NO_CAMPAIGN for k in keys}
    if by is Grouping.AGENT:
        users = await db.execute(select(User.id, User.full_name, User.login).where(User.id.in_(ids)))
        names = {i: f"{n} ({login})" for i, n, login in users}
        return {k: names.get(k, f"Usuário {k}") if isinstance(k, int) else NO_AGENT for k in keys}
    return {k: format_date_br(k) if isinstance(k, date) else "—" for k in keys}


def _key_text(key: Key) -> str | None:
    if key is None:
        return None
    return key.isoformat() if isinstance(key, date) else str(key)


async def build_report(
    db: AsyncSession,
    request: KpiRequest,
    *,
    now: datetime,
    catalogue: ReasonCatalogue | None = None,
    utc_offset_s: float = BRASILIA_OFFSET_S,
) -> KpiReport:
    start, end = day_range(request.first, request.last, utc_offset_s)
    query = KpiQuery(start, end, request.by, request.campaign_id, utc_offset_s)
    sums = await kpi_sums(db, query, RULES, now=now)
    if catalogue is None:
        catalogue = await load_catalogue(db)
    inputs = group_inputs(sums)
    keys = list(inputs)
    labels = await _labels(db, request.by, keys)
    rows = tuple(KpiRow(_key_text(k), labels[k], figures(inputs[k], catalogue)) for k in keys)
    total_input = combine(inputs.values(), with_time=sums.time is not None)
    name = None if request.campaign_id is None else await campaign_name(db, request.campaign_id)
    return KpiReport(request, name, rows, figures(total_input, catalogue), split_reasons(total_input.reasons, catalogue))


def export_entry(report: KpiReport, *, source: str, actor: str, file: str | None) -> dict[str, Any]:
    """The audit entry's ``after`` for an export: who, through which door, which period and grouping."""
    r = report.request
    return transfer_entry(
        source=source, actor=actor, file=file, figures={"rows": len(report.rows)},
        period_from=r.first.isoformat(), period_to=r.last.isoformat(), group_by=r.by.value, campaign=r.campaign_id,
        format="csv",
    )


def default_period(today: date) -> tuple[date, date]:
    return today - timedelta(days=DEFAULT_DAYS - 1), today


# ---------------------------------------------------------------- formats

# (field, CSV column, kind): the one list of columns, in order, for the CSV and the CLI table
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("attempts", "tentativas", "int"),
    ("live_answers", "atendidas_pessoa", "int"),
    ("abandons", "abandonos", "int"),
    ("abandon_rate", "taxa_abandono_pct", "pct"),
    ("contacts", "contatos", "int"),
    ("right_party", "cpc", "int"),
    ("right_party_rate", "taxa_cpc_pct", "pct"),
    ("promises", "promessas", "int"),
    ("promise_rate", "taxa_promessa_pct", "pct"),
    ("agreements", "acordos", "int"),
    ("agreement_rate", "taxa_acordo_pct", "pct"),
    ("promises_kept", "promessas_cumpridas", "int"),
    ("promises_kept_rate", "taxa_promessas_cumpridas_pct", "pct"),
    ("negotiated", "valor_negociado", "money"),
    ("recovered", "valor_recuperado", "money"),
    ("aht_s", "tma_s", "num"),
    ("short_calls", "chamadas_curtas", "int"),
    ("short_call_share", "pct_chamadas_curtas", "pct"),
    ("occupancy", "ocupacao_pct", "pct"),
    ("contacts_per_agent_hour", "contatos_por_hora", "num"),
    ("hours_in_position", "horas_em_posicao", "num"),
    ("reasons_company", "motivos_empresa", "int"),
    ("reasons_financial", "motivos_financeiros", "int"),
    ("reasons_unclassified", "motivos_nao_classificados", "int"),
)
GROUP_HEADER = {Grouping.CAMPAIGN: "campanha", Grouping.AGENT: "operador", Grouping.DAY: "dia"}


def csv_value(value: Any, kind: str) -> str:
    """A CSV cell for Excel in pt-BR: decimal comma, no thousands separator, percentages as numbers."""
    if value is None:
        return ""
    if kind == "int":
        return str(int(value))
    if kind == "money":
        return f"{Decimal(value):.2f}".replace(".", ",")
    if kind == "pct":
        return f"{float(value) * 100:.1f}".replace(".", ",")
    return f"{float(value):.1f}".replace(".", ",")


def display_value(value: Any, kind: str) -> str:
    """What people read on the page and in the terminal: ``R$ 1.234,56``, ``12,5 %``, ``—`` for none."""
    if value is None:
        return "—"
    if kind == "money":
        return format_brl(Decimal(value))
    if kind == "pct":
        return f"{float(value) * 100:.1f} %".replace(".", ",")
    if kind == "num":
        return f"{float(value):.1f}".replace(".", ",")
    return f"{int(value):,}".replace(",", ".")


def _csv_cell_text(text: str) -> str:
    # names come from users: quote a cell with ; " or a line break, and neutralise formulas (CSV injection)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    if any(ch in text for ch in ';"\r\n'):
        text = '"' + text.replace('"', '""') + '"'
    return text


def csv_lines(report: KpiReport) -> Iterator[str]:
    """The report as CSV lines (``;``, CRLF), header first and the total last; no BOM (the caller writes it)."""
    yield ";".join([GROUP_HEADER[report.request.by], *(c for _, c, _ in COLUMNS)]) + "\r\n"
    for row in report.rows:
        cells = [csv_value(getattr(row.figures, f), k) for f, _, k in COLUMNS]
        yield ";".join([_csv_cell_text(row.label), *cells]) + "\r\n"
    yield ";".join(["Total", *(csv_value(getattr(report.total, f), k) for f, _, k in COLUMNS)]) + "\r\n"


def _figures_json(f: KpiFigures) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, _, kind in COLUMNS:
        value = getattr(f, name)
        out[name] = None if value is None else (f"{value:.2f}" if kind == "money" else value)
    out["display"] = {name: display_value(getattr(f, name), kind) for name, _, kind in COLUMNS}
    return out


def report_json(report: KpiReport) -> dict[str, Any]:
    """The API's body: money as decimal strings (``"1234.56"``), rates as fractions, ``display`` in pt-BR."""
    r = report.reasons
    return {
        **report.request.as_dict(),
        "campaign_name": report.campaign_name,
        "rows": [{"key": row.key, "label": row.label, **_figures_json(row.figures)} for row in report.rows],
        "total": _figures_json(report.total),
        "reasons": {
            "company_caused": r.company_caused,
            "financial": r.financial,
            "unclassified": r.unclassified,
            "items": [
                {"code": i.code, "label": i.label, "company_caused": i.company_caused, "calls": i.calls} for i in r.items
            ],
        },
    }


__all__ = [
    "COLUMNS",
    "EXPORT_AUDIT_ACTION",
    "FIRST_YEAR",
    "LAST_YEAR",
    "MAX_DAYS",
    "KpiReport",
    "KpiRequest",
    "KpiRow",
    "build_report",
    "csv_lines",
    "csv_value",
    "default_period",
    "display_value",
    "export_entry",
    "group_inputs",
    "load_catalogue",
    "report_json",
]
