"""``cobra demo``: the whole product on one machine, in one command (SPEC §12)."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import click

from dialer.clocks import BRASILIA
from web.auth.access import ROLE_LABEL
from web.cli.common import CONTEXT_SETTINGS, run_async
from web.demo.check import run_check
from web.demo.seed import DEMO_PASSWORD, DEMO_USERS, bot_user
from web.demo.service import CLI_CONFIG, DemoOptions, running_demo
from web.demo.smtp_sink import DEFAULT_PORT as DEFAULT_SINK_PORT
from web.logs import DEFAULT_LEVEL, LEVELS, configure_logging


@click.command("demo", context_settings=CONTEXT_SETTINGS)
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where the demo keeps its database and recordings (default ./cobra-demo; "
                   "with --check a temporary directory, removed afterwards).")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True,
              help="Web port on 127.0.0.1 (0 = any free port).")
@click.option("--bots", type=click.IntRange(0, 200), default=0, show_default=True,
              help="Bot agents that log in and work calls alongside you.")
@click.option("--check", is_flag=True,
              help="Run the loop headless (agent ready → pop → PROMESSA stored) and exit 0 only if it worked.")
@click.option("--log-level", type=click.Choice([level.lower() for level in LEVELS], case_sensitive=False),
              default=None, envvar="COBRA_LOG__LEVEL", show_envvar=True,
              help="Least severe log records written to stderr (default info; warning with --check).")
@click.option("--speed", type=click.FloatRange(1.0, 100.0), default=1.0, show_default=True,
              help="How much faster than life the simulated customers ring and talk (10 = a call in seconds).")
@click.option("--smtp-sink", is_flag=True,
              help="Start a local SMTP server that keeps the régua's e-mails (read them on /demo/emails).")
@click.option("--smtp-sink-port", type=click.IntRange(0, 65535), default=DEFAULT_SINK_PORT, show_default=True,
              help="Port of the SMTP sink on 127.0.0.1 (0 = any free port).")
def demo(directory: Path | None, port: int, bots: int, check: bool, log_level: str | None, speed: float,
         smtp_sink: bool, smtp_sink_port: int) -> None:
    """The embedded demo: SQLite + seeded portfolio + PBX simulator + web + dialer."""
    # --check prints one summary line: only problems are worth a log line there
    configure_logging(log_level or ("warning" if check else DEFAULT_LEVEL))
    if check:
        result = run_async(run_check(directory))
        click.echo(result.summary)
        if not result.ok:
            raise SystemExit(1)
        return
    options = DemoOptions(directory=directory or Path("cobra-demo"), port=port, bots=bots, time_scale=1.0 / speed,
                          regua=True, smtp_sink_port=smtp_sink_port if smtp_sink else None)
    run_async(_run(options))


async def _run(options: DemoOptions) -> None:
    click.echo(f"cobra demo: preparing {options.directory}/ (database, portfolio, users)…")
    try:
        async with running_demo(options) as running:
            seed = running.seed
            if seed.customers_created:
                click.echo(f"cobra demo: seeded {seed.customers_created} customers in a progressive campaign")
            else:
                click.echo("cobra demo: reusing the existing demo database")
            click.echo(f"cobra demo: PBX simulator (AMI) on 127.0.0.1:{running.sim.port}")
            if running.clock_moved:
                shown = running.clock().astimezone(BRASILIA).strftime("%d/%m/%Y %H:%M")
                click.echo(
                    f"cobra demo: outside calling hours now, so the demo's clock starts at {shown} (Brasília):"
                    " Brazilian rules forbid collection calls at night, on Sundays and on holidays"
                )
            click.echo(f"\n  Open {running.url}/login\n")
            click.echo(f"  Every demo user's password: {DEMO_PASSWORD}")
            for u in DEMO_USERS:
                where = f"  ramal {u.extension}" if u.extension else ""
                click.echo(f"    {u.login:<12} {ROLE_LABEL[u.role]}{where}")
            if options.bots:
                click.echo(f"    {bot_user(1).login}…{bot_user(options.bots).login}: {options.bots} bot agent(s) working calls")
            click.echo("\n  As an agent: click Disponível (F2), wait for a call, verify the identity (type the date of birth), register the result (? lists the keys).")
            click.echo("  Ctrl-C stops the demo; run it again to continue with the same data.")
            config = options.directory / CLI_CONFIG
            click.echo(f"\n  The demo's configuration (its database) is {config}. Every other command works on the")
            click.echo("  demo's data with it, from another terminal in this directory, e.g.:")
            click.echo(f"    COBRA_CONFIG={config} cobra campaign list")
            click.echo(f"    export COBRA_CONFIG={config}   # then simply: cobra user list, cobra import ...")
            click.echo(f"  Régua de cobrança: {running.url}/supervisor/regua; COBRA_CONFIG={config} cobra regua run")
            if running.smtp_sink is not None:
                click.echo(f"  SMTP sink on 127.0.0.1:{running.smtp_sink.port}: the e-mails are on {running.url}/demo/emails")
            click.echo(f"  Bot agents against it: echo {DEMO_PASSWORD} | cobra bots --url {running.url} "
                       "--login agente1 --login agente2 --password-stdin")
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await stop.wait()
    except OSError as exc:
        raise click.ClickException(f"cannot start the demo: {exc.strerror or exc}") from None
    click.echo("cobra demo: stopped")
