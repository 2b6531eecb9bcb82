"""``cobra export calls --from --to [--campaign] > file.csv``: the call records as CSV (SPEC §8, §11).

The same rows, columns and format as ``GET /api/v1/calls.csv`` (``;``, UTF-8 with BOM,
amounts ``1234,56``, times ``dd/mm/aaaa HH:MM:SS`` in Brasília), streamed from the
database to standard output with flat memory; audited (who: the operating-system account).
"""

from __future__ import annotations

import sys
from datetime import datetime

import click

from dialer.clocks import system_clock
from dialer.qa.records import InvalidFilter, parse_filters
from storage.repositories.audit import record
from web.audit_trail import cli_actor, transfer_entry
from web.cli.common import (
    CONTEXT_SETTINGS,
    config_option,
    database,
    get_config,
    run_async,
)
from web.config import Config
from web.qa.services import csv_chunks


@click.group("export", context_settings=CONTEXT_SETTINGS)
def export_group() -> None:
    """Export data as CSV for spreadsheets (';', UTF-8 with BOM)."""


async def _export_calls(config: Config, params: dict[str, str]) -> int:
    try:
        f = parse_filters(params, cursor_allowed=False)
    except InvalidFilter as exc:
        raise click.BadParameter(exc.message, param_hint=f"--{exc.field}") from None
    stream = sys.stdout.buffer
    rows = 0
    async with database(config) as sessions:
        async with sessions() as db:
            async for chunk, n in csv_chunks(db, f, chunk_rows=5000):
                stream.write(chunk.encode("utf-8"))
                rows += n
        stream.flush()
        async with sessions.begin() as db:
            await record(
                db, user_id=None, action="calls_exported", entity="call_attempts", entity_id=None, at=system_clock(),
                after=transfer_entry(source="cli", actor=cli_actor(), file=None, figures={"rows": rows, "complete": True},
                                     filters=params),
            )
    return rows


@export_group.command("calls")
@click.option("--from", "day_from", type=click.DateTime(["%Y-%m-%d"]), required=True, help="First day (AAAA-MM-DD).")
@click.option("--to", "day_to", type=click.DateTime(["%Y-%m-%d"]), required=True, help="Last day (AAAA-MM-DD).")
@click.option("--campaign", type=click.IntRange(min=1), default=None, help="Only this campaign (id).")
@click.option("--agent", default=None, help="Only this agent (login).")
@click.option("--outcome", default=None, help="Only this outcome (ACORDO, PROMESSA, ...).")
@config_option
def export_calls(
    day_from: datetime, day_to: datetime, campaign: int | None, agent: str | None, outcome: str | None, config_path: str | None
) -> None:
    """Write the call records of the days FROM..TO (Brasília) to standard output as CSV."""
    config = get_config(config_path)
    params = {"from": day_from.strftime("%Y-%m-%d"), "to": day_to.strftime("%Y-%m-%d")}
    if campaign is not None:
        params["campaign"] = str(campaign)
    if agent:
        params["agent"] = agent
    if outcome:
        params["outcome"] = outcome
    rows = run_async(_export_calls(config, params))
    click.echo(f"{rows} calls exported", err=True)


__all__ = ["export_group"]
