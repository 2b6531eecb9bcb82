"""``cobra kpis show`` and ``cobra kpis export``: the KPI report of SPEC §8 from the command line.

``show`` prints a table (one line per group, the total, the reasons for default);
``export`` writes the same CSV as ``GET /api/v1/kpis.csv`` to standard output (UTF-8 with
BOM, ``;``) and audits the export with the operating-system account that ran it.
"""

from __future__ import annotations

import sys
from datetime import date

import click
from sqlalchemy import select

from dialer.clocks import BRASILIA, system_clock
from dialer.portfolio.dates import parse_date
from dialer.portfolio.errors import FieldError
from storage.models import Campaign
from storage.repositories.audit import record
from storage.repositories.kpis import Grouping
from web.audit_trail import cli_actor
from web.cli.common import (
    CONTEXT_SETTINGS,
    config_option,
    database,
    get_config,
    run_async,
)
from web.config import Config
from web.kpis.services import (
    EXPORT_AUDIT_ACTION,
    FIRST_YEAR,
    LAST_YEAR,
    MAX_DAYS,
    KpiReport,
    KpiRequest,
    build_report,
    csv_lines,
    default_period,
    display_value,
    export_entry,
)

# (field, header, kind): what fits a terminal; the CSV has every column
SHOWN: tuple[tuple[str, str, str], ...] = (
    ("attempts", "Tentativas", "int"),
    ("live_answers", "Atendidas", "int"),
    ("contacts", "Contatos", "int"),
    ("right_party_rate", "CPC", "pct"),
    ("promise_rate", "Promessa", "pct"),
    ("agreement_rate", "Acordo", "pct"),
    ("promises_kept_rate", "Cumpridas", "pct"),
    ("negotiated", "Negociado", "money"),
    ("recovered", "Recuperado", "money"),
    ("aht_s", "TMA s", "num"),
    ("occupancy", "Ocupação", "pct"),
    ("abandon_rate", "Abandono", "pct"),
    ("short_call_share", "Curtas", "pct"),
    ("contacts_per_agent_hour", "Cont./h", "num"),
)
GROUP_TITLE = {Grouping.CAMPAIGN: "Campanha", Grouping.AGENT: "Operador", Grouping.DAY: "Dia"}


def _date(ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        day = parse_date(value)
    except FieldError as exc:
        raise click.BadParameter(exc.message_pt) from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise click.BadParameter(f"use a day between {FIRST_YEAR} and {LAST_YEAR}")
    return day


def _options(func: click.decorators.FC) -> click.decorators.FC:
    for option in reversed((
        click.option("--from", "first", callback=_date, help="First day (aaaa-mm-dd or dd/mm/aaaa; default: 6 days ago)."),
        click.option("--to", "last", callback=_date, help="Last day (default: today, Brasília)."),
        click.option("--by", type=click.Choice([g.value for g in Grouping]), default=Grouping.DAY.value,
                     show_default=True, help="One line per campaign, agent or day."),
        click.option("--campaign", default=None, help="Only this campaign (its name)."),
        config_option,
    )):
        func = option(func)
    return func


async def _request(config: Config, first: date | None, last: date | None, by: str, campaign: str | None) -> KpiRequest:
    today = system_clock().astimezone(BRASILIA).date()
    default_first, default_last = default_period(today)
    first, last = first or default_first, last or default_last
    if first > last:
        raise click.BadParameter("the first day is after the last", param_hint="--from")
    if (last - first).days + 1 > MAX_DAYS:
        raise click.BadParameter(f"a period has at most {MAX_DAYS} days", param_hint="--to")
    campaign_id = None
    if campaign is not None:
        async with database(config) as sessions, sessions() as db:
            campaign_id = await db.scalar(select(Campaign.id).where(Campaign.name == campaign))
        if campaign_id is None:
            raise click.ClickException(f"no campaign named {campaign!r} (see `cobra campaign list`)")
    return KpiRequest(first, last, Grouping(by), campaign_id)


async def _report(config: Config, wanted: KpiRequest) -> KpiReport:
    async with database(config) as sessions, sessions() as db:
        return await build_report(db, wanted, now=system_clock())


def table(report: KpiReport) -> str:
    """The report as an aligned text table, the total last, then the reasons for default."""
    head = [GROUP_TITLE[report.request.by], *(h for _, h, _ in SHOWN)]
    lines = [[row.label, *(display_value(getattr(row.figures, f), k) for f, _, k in SHOWN)] for row in report.rows]
    lines.append(["Total", *(display_value(getattr(report.total, f), k) for f, _, k in SHOWN)])
    widths = [max(len(r[i]) for r in [head, *lines]) for i in range(len(head))]

    def fmt(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))

    out = [fmt(head), "  ".join("-" * w for w in widths), *(fmt(r) for r in lines)]
    r = report.reasons
    out.append("")
    out.append(f"Motivos da inadimplência: {r.company_caused} causados pela empresa, {r.financial} financeiros"
               + (f", {r.unclassified} não classificados" if r.unclassified else ""))
    out.extend(f"  {i.calls:>6}  {i.label} ({'empresa' if i.company_caused else 'financeiro' if i.company_caused is False else '?'})"
               for i in r.items)
    return "\n".join(out)


@click.group("kpis", context_settings=CONTEXT_SETTINGS)
def kpis_group() -> None:
    """KPIs per campaign, agent or day (SPEC §8): show a table or export CSV."""


@kpis_group.command("show")
@_options
def show(first: date | None, last: date | None, by: str, campaign: str | None, config_path: str | None) -> None:
    """Print the KPI table of a period (default: the last 7 days, one line per day)."""
    config = get_config(config_path)

    async def run() -> str:
        wanted = await _request(config, first, last, by, campaign)
        report = await _report(config, wanted)
        title = f"Indicadores de {wanted.first:%d/%m/%Y} a {wanted.last:%d/%m/%Y}"
        if report.campaign_name:
            title += f" — campanha {report.campaign_name}"
        return title + "\n\n" + table(report)

    click.echo(run_async(run()))


@kpis_group.command("export")
@_options
def export(first: date | None, last: date | None, by: str, campaign: str | None, config_path: str | None) -> None:
    """Write the KPI table as CSV to standard output (UTF-8 with BOM, ';', 1234,56; audited).

    Example: cobra kpis export --from 2026-03-01 --to 2026-03-31 --by agent > indicadores.csv
    """
    config = get_config(config_path)

    async def run() -> KpiReport:
        wanted = await _request(config, first, last, by, campaign)
        report = await _report(config, wanted)
        async with database(config) as sessions, sessions.begin() as db:
            await record(db, user_id=None, action=EXPORT_AUDIT_ACTION, entity="kpis", entity_id=None,
                         after=export_entry(report, source="cli", actor=cli_actor(), file=None))
        return report

    report = run_async(run())
    out = sys.stdout.buffer
    out.write("\ufeff".encode())
    for line in csv_lines(report):
        out.write(line.encode())
    out.flush()


__all__ = ["kpis_group", "table"]
