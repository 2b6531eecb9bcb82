"""``cobra payments import FILE``: the creditor's payment file settles installments and promises (SPEC §9)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from dialer.clocks import system_clock
from dialer.negotiation.payments import (
    BROKEN_PROMISE_BOOST,
    ImportReport,
    PaymentFileError,
    import_payments,
)
from dialer.portfolio.dates import parse_date
from dialer.portfolio.errors import FieldError
from scripting.money import format_brl
from storage.engine import create_engine, session_factory
from storage.repositories.audit import record
from web.audit_trail import cli_actor, file_label, transfer_entry
from web.cli.common import CONTEXT_SETTINGS, config_option, get_config, run_async
from web.config import Config

# Promise dates are Brazilian calendar days; "today" is the company's (Brasília time)
COMPANY_TZ = ZoneInfo("America/Sao_Paulo")


def _parse_today(ctx: click.Context, param: click.Parameter, value: str | None) -> date:
    if value is None:
        # a CLI run outside the service: the real clock, on the company's calendar
        return system_clock().astimezone(COMPANY_TZ).date()
    try:
        return parse_date(value)
    except FieldError as exc:
        raise click.BadParameter(exc.message_pt) from None


async def _run(config: Config, path: Path, *, today: date, grace_days: int, boost: int, dry_run: bool) -> ImportReport:
    engine = create_engine(config.database.url)
    try:
        sessions = session_factory(engine)
        with path.open("rb") as stream:
            report = await import_payments(
                sessions, stream, source=path.name, today=today, grace_days=grace_days, boost=boost,
                dry_run=dry_run, clock=system_clock,
            )
        figures = {k: v for k, v in report.as_dict().items() if k != "rejected"} | {"rejected": len(report.rejected)}
        async with sessions.begin() as db:
            await record(
                db, user_id=None, action="payments.import", entity="payments", entity_id=file_label(path),
                after=transfer_entry(source="cli", actor=cli_actor(), file=path, figures=figures, dry_run=dry_run,
                                     today=today.isoformat()),
            )
        return report
    finally:
        await engine.dispose()


def summary(report: ImportReport, dry_run: bool) -> list[str]:
    """The human summary of an import."""
    lines = [
        f"{report.rows} rows read ({report.encoding}, '{report.delimiter}'): {report.stored} payments stored "
        f"totalling {format_brl(report.amount_stored)}, {report.duplicates} already imported",
        f"{report.installments_paid} installments paid, {report.agreements_settled} agreements settled, "
        f"{report.promises_kept} promises kept, {report.promises_broken} promises broken "
        f"({report.leads_requeued} leads back in the list)",
    ]
    if report.rejected:
        lines.append(f"{len(report.rejected)} rows rejected:")
        lines.extend(f"  row {r.row}, column {r.column or '-'}: {r.reason}" for r in report.rejected)
    if dry_run:
        lines.append("dry run: nothing was stored")
    return lines


@click.group("payments", context_settings=CONTEXT_SETTINGS)
def payments_group() -> None:
    """Payments reported by the creditor: settle installments and promises."""


@payments_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the figures and rejections as one JSON object.")
@click.option("--dry-run", is_flag=True, help="Check and apply in a transaction that is rolled back; break no promise.")
@click.option(
    "--today", callback=_parse_today, default=None, metavar="DATE",
    help="The day promises are judged on (dd/mm/aaaa or aaaa-mm-dd; default: today in Brasília).",
)
@click.option(
    "--grace-days", type=click.IntRange(min=0), default=0, show_default=True,
    help="Days after a promise's date before it counts as broken (payment files arrive late).",
)
@click.option(
    "--boost", type=click.IntRange(min=0), default=BROKEN_PROMISE_BOOST, show_default=True,
    help="How much higher a broken promise puts the account in the dialing list.",
)
@config_option
def import_command(
    file: Path, as_json: bool, dry_run: bool, today: date, grace_days: int, boost: int, config_path: str | None
) -> None:
    """Import payment FILE (CSV, ';' or ',', UTF-8 or Latin-1).

    Columns: cpf and/or contrato, valor, data (dd/mm/aaaa or aaaa-mm-dd), optional
    id_pagamento. Payments mark installments paid and promises kept; open promises whose
    date has passed become broken and their accounts go back to the list with a boost.
    Importing the same file again changes nothing. Bad rows are reported with row and column.
    """
    config = get_config(config_path)
    try:
        report = run_async(_run(config, file, today=today, grace_days=grace_days, boost=boost, dry_run=dry_run))
    except PaymentFileError as exc:
        raise click.ClickException(f"{file}: {exc}") from None
    if as_json:
        click.echo(json.dumps({**report.as_dict(), "dry_run": dry_run, "today": today.isoformat()}, ensure_ascii=False))
    else:
        for line in summary(report, dry_run):
            click.echo(line)
