"""``cobra regua``: the régua de cobrança from the command line (SPEC §9, §12).

- ``preview --date D``: what a run on D would do (per step, and who), nothing stored;
- ``run [--date D]``: take the steps due (idempotent), then deliver the outbox once;
- ``send``: deliver the outbox once (what is due and not waiting for a backoff or a window);
- ``export-agency``: the hand-offs of an agency as CSV (``;``), marking them exported.
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from pathlib import Path

import click
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialer.clocks import BRASILIA, Clock, demo_clock, system_clock
from dialer.outbox.sender import DrainReport
from dialer.portfolio.dates import parse_date
from dialer.portfolio.errors import FieldError
from dialer.regua.services import Preview, RunReport, preview_day, run_day
from scripting.money import format_date_br
from storage.repositories import regua as repo
from web.cli.common import (
    CONTEXT_SETTINGS,
    config_option,
    database,
    get_config,
    run_async,
)
from web.config import Config
from web.regua.services import export_agency, preview_view
from web.regua.wiring import outbox_sender, regua_settings


def _clock(config: Config) -> Clock:
    return demo_clock()[0] if config.regua.demo_clock else system_clock


def _parse_day(ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return parse_date(value)
    except FieldError as exc:
        raise click.BadParameter(exc.message_pt) from None


def _today(clock: Clock) -> date:
    return clock().astimezone(BRASILIA).date()


date_option = click.option("--date", "day", callback=_parse_day, default=None, metavar="DATE",
                           help="The day (dd/mm/aaaa or aaaa-mm-dd; default: today in Brasília).")


@click.group("regua", context_settings=CONTEXT_SETTINGS)
def regua_group() -> None:
    """Régua de cobrança: cadence steps, the message outbox, agency hand-offs."""


async def _preview(config: Config, day: date | None, clock: Clock) -> Preview:
    async with database(config) as sessions:
        now = clock()
        return await preview_day(sessions, day or _today(clock), regua_settings(config), now=now)


@regua_group.command("preview")
@date_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (counts per step, the first 200 actions).")
@config_option
def preview_command(day: date | None, as_json: bool, config_path: str | None) -> None:
    """What a run on DATE would send and do, per step and per customer (nothing is stored)."""
    config = get_config(config_path)
    preview = run_async(_preview(config, day, _clock(config)))
    view = preview_view(preview)
    if as_json:
        click.echo(json.dumps(view, ensure_ascii=False))
        return
    click.echo(f"Régua em {view['date_br']}: {_n(view['total'], 'ação', 'ações')}")
    for step in view["steps"]:
        click.echo(f"  {step['day_label']:>6} {step['name']} ({step['channel_label']}): {_int_br(step['count'])}")
    for item in view["items"]:
        click.echo(f"    {item['step']} · {item['name']} · {item['channel_label']} {item['recipient'] or ''} · {item['amount_br']}")
    for skip in view["skipped"]:
        click.echo(f"  não sai: {skip['rule']}: {skip['reason']} ({_int_br(skip['count'])})")


async def _send(sessions: async_sessionmaker[AsyncSession], config: Config, clock: Clock) -> DrainReport:
    return await outbox_sender(config, sessions, clock).drain_once()


async def _run(config: Config, day: date | None, clock: Clock, send: bool) -> tuple[RunReport, DrainReport | None]:
    async with database(config) as sessions:
        report = await run_day(sessions, day or _today(clock), regua_settings(config), now=clock())
        drained = await _send(sessions, config, clock) if send else None
        return report, drained


def _int_br(count: int) -> str:
    """``1234`` -> ``1.234`` (pt-BR thousands)."""
    return f"{count:,}".replace(",", ".")


def _n(count: int, one: str, many: str) -> str:
    """``1 mensagem``, ``2 mensagens``: a count with its noun (the supervisor reads it)."""
    return f"{_int_br(count)} {one if count == 1 else many}"


def _sent_line(report: DrainReport) -> str:
    """What a delivery did, in pt-BR like the régua page (na fila / enviada / falhou)."""
    return (f"Envio: {_n(report.sent, 'mensagem enviada', 'mensagens enviadas')}, "
            f"{_n(report.retried, 'para tentar de novo', 'para tentar de novo')}, "
            f"{_n(report.failed, 'falhou', 'falharam')}"
            + (f" (primeiro erro: {report.errors[0]})" if report.errors else ""))


def run_lines(report: RunReport) -> list[str]:
    """A run's summary as the supervisor reads it (pt-BR; dates dd/mm/aaaa), then its problems."""
    lines = [
        (f"Régua em {format_date_br(report.day)}: {_n(report.decided, 'passo executado', 'passos executados')} "
        f"({_n(report.messages, 'mensagem na fila', 'mensagens na fila')}, "
        f"{_n(report.boosted, 'lead com reforço na discagem', 'leads com reforço na discagem')}, "
        f"{_n(report.handed_off, 'conta enviada a assessoria', 'contas enviadas a assessorias')}), "
        f"{_n(report.broken, 'compromisso quebrado', 'compromissos quebrados')}, "
        f"{_n(report.left_for_next_run, 'passo fica', 'passos ficam')} para a próxima execução"),
    ]
    lines.extend(f"  problema: {error}" for error in report.errors[:10])
    return lines


@regua_group.command("run")
@date_option
@click.option("--no-send", is_flag=True, help="Only queue the messages; `cobra regua send` (or the service) delivers them.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@config_option
def run_command(day: date | None, no_send: bool, as_json: bool, config_path: str | None) -> None:
    """Take the steps due on DATE (once: running again takes nothing twice), then deliver the outbox once."""
    config = get_config(config_path)
    report, drained = run_async(_run(config, day, _clock(config), not no_send))
    if as_json:
        click.echo(json.dumps({**report.as_dict(), "outbox": None if drained is None else drained.as_dict()},
                              ensure_ascii=False))
        return
    summary, *problems = run_lines(report)
    click.echo(summary)
    for line in problems:
        click.echo(line, err=True)
    if drained is not None:
        click.echo(_sent_line(drained))


async def _send_only(config: Config, clock: Clock) -> DrainReport:
    async with database(config) as sessions:
        return await _send(sessions, config, clock)


@regua_group.command("send")
@config_option
def send_command(config_path: str | None) -> None:
    """Deliver the outbox once: every message due now (not waiting for a retry or for its channel's hours)."""
    config = get_config(config_path)
    click.echo(_sent_line(run_async(_send_only(config, _clock(config)))))


async def _export(config: Config, agency: str | None, only_new: bool, at: datetime) -> list[tuple[str, str, int]]:
    async with database(config) as sessions:
        async with sessions() as db:
            names = [a for a, _, _ in await repo.agencies(db)]
        if agency is not None:
            names = [n for n in names if n == agency] or [agency]
        return [(name, *(await export_agency(sessions, name, user_id=None, at=at, only_new=only_new))) for name in names]


@regua_group.command("export-agency")
@click.option("--agency", default=None, help="Only this agency (default: every agency, a file each).")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Where the files go (<agency>-<date>.csv).")
@click.option("--only-new", is_flag=True, help="Only the accounts not exported before.")
@click.option("--stdout", "to_stdout", is_flag=True, help="Write the CSV to standard output (needs --agency).")
@config_option
def export_command(agency: str | None, directory: Path, only_new: bool, to_stdout: bool, config_path: str | None) -> None:
    """The accounts handed to outside agencies, one CSV per agency (';', pt-BR numbers and dates)."""
    if to_stdout and agency is None:
        raise click.UsageError("--stdout precisa de --agency (um arquivo por assessoria)")
    config = get_config(config_path)
    clock = _clock(config)
    files = run_async(_export(config, agency, only_new, clock()))
    if to_stdout:
        sys.stdout.write(files[0][1])
        return
    directory.mkdir(parents=True, exist_ok=True)
    for name, body, rows in files:
        safe = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-") or "assessoria"
        path = directory / f"{safe}-{_today(clock).isoformat()}.csv"
        path.write_text(body, encoding="utf-8-sig")
        click.echo(f"{name}: {_n(rows, 'conta', 'contas')} → {path}")
    if not files:
        click.echo("Nenhuma conta enviada a assessorias ainda.")
