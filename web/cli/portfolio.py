"""``cobra import FILE --campaign NAME``: load a portfolio CSV into a campaign (SPEC §4, §12)."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import IO, Any

import click

from dialer.portfolio.csv_reader import COLUMNS
from dialer.portfolio.errors import PortfolioFormatError
from dialer.portfolio.importer import (
    REJECTS_HEADER,
    FirstRejects,
    ImportResult,
    import_portfolio,
    rejection_lines,
)
from dialer.portfolio.rows import RejectedRow
from scripting.money import format_brl
from storage.repositories.audit import record
from web.audit_trail import cli_actor, file_label, transfer_entry
from web.cli.campaign import campaign_named
from web.cli.common import (
    CONTEXT_SETTINGS,
    config_option,
    database,
    get_config,
    run_async,
)
from web.config import Config


def parse_maps(maps: tuple[str, ...]) -> dict[str, str]:
    """``--map col=header`` options → the reader's {file header: Cobra column} mapping."""
    mapping: dict[str, str] = {}
    for item in maps:
        column, sep, header = item.partition("=")
        column, header = column.strip().lower(), header.strip()
        if not sep or not column or not header:
            raise click.BadParameter(f"{item!r}: write COLUMN=HEADER, e.g. id_cliente=Codigo", param_hint="--map")
        if column not in COLUMNS:
            raise click.BadParameter(f"{item!r}: Cobra has no column {column!r} (known: {', '.join(COLUMNS)})",
                                     param_hint="--map")
        mapping[header] = column
    return mapping


def _stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


async def _run(
    config: Config, path: Path, campaign_name: str, *, dry_run: bool, column_map: dict[str, str],
    rejects: IO[str] | None, progress: bool, first: FirstRejects,
) -> ImportResult:
    writer = csv.writer(rejects, delimiter=";") if rejects is not None else None
    if writer is not None:
        writer.writerow(REJECTS_HEADER)

    def on_rejected(row: RejectedRow) -> None:
        first(row)
        if writer is not None:
            writer.writerows(rejection_lines(row))

    bar: Any = None

    def on_start(records: int) -> None:
        nonlocal bar
        if progress:
            bar = click.progressbar(length=records, label="importando", file=sys.stderr)
            bar.__enter__()

    def on_progress(count: int) -> None:
        if bar is not None:
            bar.update(count)

    async with database(config) as sessions:
        async with sessions() as db:
            campaign_id = (await campaign_named(db, campaign_name)).id
        try:
            with path.open("rb") as stream:
                result = await import_portfolio(
                    sessions, stream, campaign_id=campaign_id, column_map=column_map or None, dry_run=dry_run,
                    on_rejected=on_rejected, on_progress=on_progress, on_start=on_start,
                )
        except PortfolioFormatError as exc:
            raise click.ClickException(f"{path}: {exc}") from None
        finally:
            if bar is not None:
                bar.__exit__(None, None, None)
        # dry runs too: they read the whole file of personal data just the same
        async with sessions.begin() as db:
            await record(
                db, user_id=None, action="portfolio.import", entity="campaign", entity_id=campaign_id,
                after=transfer_entry(source="cli", actor=cli_actor(), file=path, figures=result.to_json(),
                                     rejects_file=file_label(getattr(rejects, "name", None))),
            )
        return result


def summary(result: ImportResult, first: FirstRejects | None = None, *, rejects_file: str | None = None) -> list[str]:
    """The human summary of an import, with the first rejected rows (line, column, reason)."""
    lines = [
        (f"{result.rows} rows read ({result.encoding}, '{result.delimiter}'): "
         f"{result.imported_customers} new customers, {result.updated_customers} updated, "
         f"{result.debts} debts totalling {format_brl(result.balance_total)}, {result.leads_created} new leads")
    ]
    if result.rejected_rows:
        by_column = ", ".join(f"{c} {n}" for c, n in sorted(result.rejects_by_column.items()))
        lines.append(f"{result.rejected_rows} rows rejected (by column: {by_column})")
    if first is not None and first.rows:
        hidden = result.rejected_rows - len(first.rows)
        lines.append(f"first {len(first.rows)} rejected rows:" if hidden > 0 else "rejected rows:")
        lines.extend(f"  line {r.row_number}, column {r.column}: {r.reason}" for r in first.rejections())
        if hidden > 0:
            where = f"all of them are in {rejects_file}" if rejects_file else "--rejects FILE lists them all"
            lines.append(f"  ... and {hidden} more row(s) ({where})")
    if result.dry_run:
        lines.append("dry run: nothing was stored")
    return lines


@click.command("import", context_settings=CONTEXT_SETTINGS)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--campaign", "campaign_name", required=True, help="Campaign the customers are dialled in.")
@click.option("--dry-run", is_flag=True, help="Validate and count everything, store nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
@click.option(
    "--rejects", type=click.File("w", encoding="utf-8-sig", lazy=False),
    help="Write the rejected rows (linha;coluna;codigo;motivo) to this CSV file.",
)
@click.option(
    "--map", "maps", multiple=True, metavar="COLUMN=HEADER",
    help="Read Cobra's COLUMN from the file's HEADER, e.g. --map id_cliente=Codigo (repeatable).",
)
@click.option(
    "--allow-rejects", is_flag=True,
    help="Exit 0 even when some rows were rejected (by default any rejected row makes the exit status 1).",
)
@config_option
def import_command(
    file: Path, campaign_name: str, dry_run: bool, as_json: bool, rejects: IO[str] | None, maps: tuple[str, ...],
    allow_rejects: bool, config_path: str | None,
) -> None:
    """Import portfolio FILE (CSV, ';' or ',', UTF-8 or Latin-1) into campaign NAME.

    Re-importing a file changes nothing; an updated file updates customers by id_cliente
    and debts by contrato. Rows with problems are skipped (the others are imported) and the
    first ones are shown with line, column and reason; the exit status is 0 only when every
    row was accepted, unless --allow-rejects.
    """
    column_map = parse_maps(maps)
    config = get_config(config_path)
    progress = not as_json and _stderr_is_terminal()
    first = FirstRejects()
    result = run_async(
        _run(config, file, campaign_name, dry_run=dry_run, column_map=column_map, rejects=rejects, progress=progress,
             first=first)
    )
    if as_json:
        click.echo(json.dumps({**result.to_json(), "first_rejects": first.to_json()}, ensure_ascii=False))
    else:
        for line in summary(result, first, rejects_file=getattr(rejects, "name", None)):
            click.echo(line)
    if result.rejected_rows and not allow_rejects:
        if not as_json:
            kept = "dry run, nothing stored" if result.dry_run else "the other rows were imported"
            click.echo(f"exit status 1: {result.rejected_rows} row(s) rejected ({kept}); fix them and import the "
                       "file again, or pass --allow-rejects to accept a partial import", err=True)
        raise SystemExit(1)
