"""What every ``cobra`` subcommand shares: the --config option and error reporting."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import migrate
from storage.engine import (
    create_engine,
    display_url,
    is_sqlite_memory,
    parse_url,
    session_factory,
)
from storage.errors import StorageError
from web.config import Config, ConfigError, LogConfig, load_config, resolve_config_path
from web.logs import LEVELS, configure_logging

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


def config_option(func: F) -> F:
    """Adds ``--config FILE`` (falls back to COBRA_CONFIG, then ./cobra.toml, then defaults)."""
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False),
        default=None,
        help="Configuration file (default: $COBRA_CONFIG, else ./cobra.toml, else embedded defaults).",
    )(func)


def log_level_option(func: F) -> F:
    """Adds ``--log-level`` (default: ``[log] level`` of the configuration, else info)."""
    return click.option(
        "--log-level",
        "log_level",
        type=click.Choice([level.lower() for level in LEVELS], case_sensitive=False),
        default=None,
        help="Least severe log records written to stderr (default: [log] level, $COBRA_LOG__LEVEL, else info).",
    )(func)


def setup_logging(log_level: str | None, config: Config | None = None) -> None:
    """Timestamped logs on stderr at ``log_level``, else the configuration's ``[log] level``."""
    log = config.log if config is not None else LogConfig()
    configure_logging(log_level or log.level, access_log=log.access, fmt=log.format)


def get_config(config_path: str | None, *, needs_database: bool = True) -> Config:
    """The configuration; with ``needs_database`` (every command but ``cobra db`` and those that open
    none) a SQLite file that does not exist is refused here, before anything creates it."""
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    if needs_database:
        require_database(config, config_path)
    return config


# Where `cobra demo` writes its configuration (web.demo.service.write_cli_config), relative to
# the directory it was started in
DEMO_CONFIG = Path("cobra-demo") / "cobra.toml"


def missing_database(database_url: str, config_path: str | None = None, *, given_url: bool = False) -> str | None:
    """Why the command must not run, when the configured SQLite file does not exist; else None.

    SQLite creates a missing file on connect: a command run in the wrong directory, or
    without the demo's configuration, would leave an empty ``./cobra.db`` behind and then
    complain that it is empty. Only ``cobra db upgrade`` (and the demo) may create one."""
    try:
        url = parse_url(database_url)
    except StorageError:
        return None  # create_engine says what is wrong with the URL
    if url.get_backend_name() != "sqlite" or is_sqlite_memory(url):
        return None
    path = Path(str(url.database))
    if path.exists():
        return None
    source = resolve_config_path(config_path)
    if given_url:
        where = "given by --url"
    elif source is not None:
        where = f"configured in {source}"
    else:
        where = "the default: no --config, $COBRA_CONFIG or ./cobra.toml"
    lines = [
        f"no database at {path} ({where}); nothing was created.",
        "  - a new database: run `cobra db upgrade` first (it creates the file), then `cobra user add ...`",
        "  - another one: --config FILE or COBRA_CONFIG=FILE naming its [database] url",
    ]
    if DEMO_CONFIG.exists():
        lines.append(f"  - the demo's data: COBRA_CONFIG={DEMO_CONFIG} cobra ... (written by `cobra demo`)")
    else:
        lines.append(f"  - the demo's data: run the command where `cobra demo` ran, with COBRA_CONFIG={DEMO_CONFIG}")
    return "\n".join(lines)


def require_database(config: Config, config_path: str | None = None) -> None:
    """ClickException (see :func:`missing_database`) when the configured SQLite file does not exist."""
    problem = missing_database(config.database.url, config_path)
    if problem is not None:
        raise click.ClickException(problem)


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Click does not run coroutines; this does, once per command."""
    return asyncio.run(coro)


@asynccontextmanager
async def database(config: Config) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on the configured database, which must be migrated to head; errors become ClickExceptions."""
    url = config.database.url
    require_database(config)
    try:
        engine = create_engine(url, echo=config.database.echo)
    except StorageError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        try:
            revision = await migrate.current_revision_engine(engine)
        except (SQLAlchemyError, OSError) as exc:
            reason = getattr(exc, "orig", None) or exc
            raise click.ClickException(f"cannot open the database at {display_url(url)}: {reason}") from None
        head = migrate.head_revision()
        if revision != head:
            raise click.ClickException(
                f"database at {display_url(url)} is at revision {revision or 'none (empty)'}, not {head}: "
                "run `cobra db upgrade` first"
            )
        yield session_factory(engine)
    finally:
        await engine.dispose()


async def in_database(config: Config, action: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``action`` in one transaction on the configured database and commit."""
    async with database(config) as sessions, sessions() as db:
        try:
            result = await action(db)
        except StorageError as exc:
            raise click.ClickException(str(exc)) from None
        await db.commit()
        return result
