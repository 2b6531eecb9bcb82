"""``cobra serve``: run the service in the foreground until Ctrl-C or SIGTERM.

This version serves the web application only (login, sessions, each role's home page).
The AMI connection, the dialer and the PBX simulator are not started yet: the start-up
line says so, so nobody waits for calls that will not come.
"""

from __future__ import annotations

import asyncio
import signal

import click
from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from storage import migrate
from storage.engine import display_url
from storage.errors import StorageError
from web.app import create_app
from web.cli.common import CONTEXT_SETTINGS, config_option, get_config, run_async
from web.config import Config
from web.keys import ENGINE

# Time given to open requests to finish once a stop is asked for
SHUTDOWN_TIMEOUT_S = 10.0


@click.command("serve", context_settings=CONTEXT_SETTINGS)
@config_option
def serve(config_path: str | None) -> None:
    """Run Cobra's web server ([web] host/port of the configuration); Ctrl-C stops it."""
    config = get_config(config_path)
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


async def _serve(config: Config) -> None:
    try:
        app = create_app(config)
    except StorageError as exc:
        raise click.ClickException(str(exc)) from None
    runner = web.AppRunner(app, shutdown_timeout=SHUTDOWN_TIMEOUT_S)
    await runner.setup()
    started = False
    try:
        await _schema_is_current(app, config)
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
        started = True
        host, port = runner.addresses[0][:2]
        click.echo(f"cobra serve: web on http://{host}:{port} (database {display_url(config.database.url)})")
        click.echo("cobra serve: not started in this version: AMI connection, dialer, PBX simulator; Ctrl-C stops")
        await stop.wait()
    finally:
        await runner.cleanup()
        if started:
            click.echo("cobra serve: stopped")
