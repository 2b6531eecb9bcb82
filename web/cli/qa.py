"""``cobra qa reflag``: recompute the automatic QA flags of stored calls (after a rule or [qa] short_call_s changed)."""

from __future__ import annotations

from datetime import date, datetime

import click

from dialer.clocks import system_clock
from dialer.qa.records import local_day_start
from dialer.qa.services import flag_call
from storage.repositories.calls import disposed_call_ids
from web.cli.common import (
    CONTEXT_SETTINGS,
    config_option,
    database,
    get_config,
    run_async,
)
from web.config import Config

BATCH = 500


@click.group("qa", context_settings=CONTEXT_SETTINGS)
def qa_group() -> None:
    """Quality monitoring: scorecards and flags."""


async def _reflag(
    config: Config, day_from: date | None, day_to: date | None, speed: float = 1.0
) -> tuple[int, int]:
    start = None if day_from is None else local_day_start(day_from)
    end = None if day_to is None else local_day_start(date.fromordinal(day_to.toordinal() + 1))
    calls = flagged = 0
    now = system_clock()
    async with database(config) as sessions:
        async with sessions() as db:
            ids = await disposed_call_ids(db, start=start, end=end)
        for i in range(0, len(ids), BATCH):
            async with sessions.begin() as db:  # one transaction per batch: the dialer's writes get their turn
                for call_id in ids[i : i + BATCH]:
                    flags = await flag_call(db, call_id, short_call_s=config.qa.short_call_s, at=now,
                                            clock_scale=1.0 / speed)
                    calls += 1
                    flagged += bool(flags)
    return calls, flagged


@qa_group.command("reflag")
@click.option("--from", "day_from", type=click.DateTime(["%Y-%m-%d"]), default=None, help="First day (AAAA-MM-DD).")
@click.option("--to", "day_to", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Last day (AAAA-MM-DD).")
@click.option("--speed", type=click.FloatRange(1.0, 100.0), default=1.0, show_default=True,
              help="The calls ran this much faster than life (the `cobra demo --speed` they were made with).")
@config_option
def reflag(day_from: datetime | None, day_to: datetime | None, speed: float, config_path: str | None) -> None:
    """Recompute the flags of every disposed call (of the days FROM..TO, Brasília, when given)."""
    config = get_config(config_path)
    calls, flagged = run_async(
        _reflag(config, day_from.date() if day_from else None, day_to.date() if day_to else None, speed)
    )
    click.echo(f"{calls} calls checked, {flagged} flagged")


__all__ = ["qa_group"]
