"""``cobra serve``: run the service in the foreground until Ctrl-C or SIGTERM.

One process (SPEC §2): the web application, the AMI connection to the first ``[[pbx]]``
and the dialer on it. With ``simulator = true`` for that PBX (the embedded default) the
built-in PBX simulator is started on its host/port first, so a fresh install dials
simulated customers; with a real Asterisk set ``simulator = false``.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import click
from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from dialer.ami.gateway import AmiSettings
from dialer.clocks import BRASILIA, Clock, business_clock, system_clock
from dialer.errors import AmiError
from dialer.simulator.server import SimulatorServer
from storage import migrate
from storage.engine import display_url
from storage.errors import StorageError
from web.agent.dialer import attach_dialer, dialer_settings_from
from web.app import create_app
from web.cli.common import (
    CONTEXT_SETTINGS,
    config_option,
    get_config,
    log_level_option,
    run_async,
    setup_logging,
)
from web.config import Config
from web.keys import ENGINE
from web.ops.heap import TRACEMALLOC_ENV, AllocationTracer, freeze_startup_heap

# Time given to open requests to finish once a stop is asked for
SHUTDOWN_TIMEOUT_S = 10.0
# "business": the service's clock starts at 11:00 Brasília of the next business day and runs at real
# speed, so a benchmark (bench/screen_pop.py) dials at any hour; never set in production
CLOCK_ENV = "COBRA_CLOCK"


@click.command("serve", context_settings=CONTEXT_SETTINGS)
@config_option
@log_level_option
def serve(config_path: str | None, log_level: str | None) -> None:
    """Run Cobra's web server ([web] host/port of the configuration); Ctrl-C stops it.

    Status lines go to stdout; logs, with timestamp, level and logger, to stderr.
    """
    config = get_config(config_path)
    setup_logging(log_level, config)
    run_async(_serve(config))


async def _schema_is_current(app: web.Application, config: Config) -> None:
    url = display_url(config.database.url)
    try:
        revision = await migrate.current_revision_engine(app[ENGINE])
    except (SQLAlchemyError, OSError) as exc:
        reason = getattr(exc, "orig", None) or exc
        raise click.ClickException(f"cannot open the database at {url}: {reason}") from None
    head = migrate.head_revision()
    if revision != head:
        raise click.ClickException(
            f"database at {url} is at revision {revision or 'none (empty)'}, not {head}: run `cobra db upgrade` first"
        )


def _clock() -> Clock:
    value = os.environ.get(CLOCK_ENV, "").strip().lower()
    if value in ("", "system"):
        return system_clock
    if value == "business":
        clock = business_clock()
        shown = clock().astimezone(BRASILIA).strftime("%d/%m/%Y %H:%M")
        click.echo(f"cobra serve: {CLOCK_ENV}=business: the service's clock starts at {shown} (Brasília)")
        return clock
    raise click.UsageError(f"{CLOCK_ENV}: 'system' or 'business', not {value!r}")


def _tracer() -> AllocationTracer | None:
    """``COBRA_TRACEMALLOC=DIR``: trace allocations from here on, a snapshot in DIR per SIGUSR2
    (``bench/memory.py --tracemalloc``); a debugging aid, never set in production."""
    directory = os.environ.get(TRACEMALLOC_ENV, "").strip()
    if not directory:
        return None
    tracer = AllocationTracer(Path(directory))
    tracer.start()
    click.echo(f"cobra serve: {TRACEMALLOC_ENV}: tracing allocations, a snapshot in {directory} per SIGUSR2")
    return tracer


async def _serve(config: Config) -> None:
    tracer = _tracer()
    clock = _clock()
    try:
        app = create_app(config, clock=clock)
    except StorageError as exc:
        raise click.ClickException(str(exc)) from None
    # before the dialer starts: it must not run on a database behind the code
    await _schema_is_current(app, config)
    pbx = config.pbx[0]
    sim: SimulatorServer | None = None
    if pbx.simulator:
        sim = SimulatorServer(host=pbx.host, port=pbx.port, username=pbx.username, secret=pbx.secret)
        try:
            await sim.start()
        except OSError as exc:
            raise click.ClickException(f"cannot start the PBX simulator on {pbx.host}:{pbx.port}: {exc.strerror or exc}") from None
        pbx = pbx.model_copy(update={"port": sim.port})
    attach_dialer(app, AmiSettings.from_pbx(pbx), dialer_settings_from(config))
    runner = web.AppRunner(app, shutdown_timeout=SHUTDOWN_TIMEOUT_S)
    started = False
    try:
        try:
            await runner.setup()
        except (AmiError, OSError, TimeoutError) as exc:
            raise click.ClickException(f"cannot reach the PBX {pbx.name} at {pbx.host}:{pbx.port} over AMI: {exc}") from None
        site = web.TCPSite(runner, config.web.host, config.web.port)
        try:
            await site.start()
        except OSError as exc:
            raise click.ClickException(
                f"cannot listen on {config.web.host}:{config.web.port}: {exc.strerror or exc}"
            ) from None
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        if tracer is not None:
            loop.add_signal_handler(signal.SIGUSR2, tracer.dump)
        started = True
        freeze_startup_heap()  # after start-up: full collections no longer walk the whole heap (issue 10)
        host, port = runner.addresses[0][:2]
        click.echo(f"cobra serve: web on http://{host}:{port} (database {display_url(config.database.url)})")
        kind = "built-in PBX simulator" if sim is not None else "Asterisk"
        click.echo(f"cobra serve: dialer on {kind} {pbx.name} at {pbx.host}:{pbx.port} (AMI); Ctrl-C stops")
        if len(config.pbx) > 1:
            click.echo(f"cobra serve: only the first [[pbx]] ({pbx.name}) is used by this version")
        await stop.wait()
    finally:
        await runner.cleanup()
        if sim is not None:
            await sim.stop()
        if started:
            click.echo("cobra serve: stopped")
