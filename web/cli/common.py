"""What every ``cobra`` subcommand shares: the --config option and error reporting."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import click
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import migrate
from storage.engine import create_engine, display_url, session_factory
from storage.errors import StorageError
from web.config import Config, ConfigError, load_config

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


def get_config(config_path: str | None) -> Config:
    try:
        return load_config(config_path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Click does not run coroutines; this does, once per command."""
    return asyncio.run(coro)


@asynccontextmanager
async def database(config: Config) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on the configured database, which must be migrated to head; errors become ClickExceptions."""
    url = config.database.url
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
