"""``cobra db``: bring the database schema up to date, or check it against the models."""

from __future__ import annotations

import click

from storage import migrate
from storage.engine import display_url
from storage.errors import SchemaDrift, StorageError
from web.cli.common import CONTEXT_SETTINGS, config_option, get_config, missing_database


def _target_url(config_path: str | None, url: str | None) -> str:
    return url if url else get_config(config_path, needs_database=False).database.url


url_option = click.option(
    "--url",
    default=None,
    metavar="URL",
    help="Database URL (sqlite+aiosqlite:///file.db or postgresql+asyncpg://user@host/db); "
    "overrides the configured database.url.",
)


@click.group("db", context_settings=CONTEXT_SETTINGS)
def db() -> None:
    """Database schema: apply migrations, check them against the models."""


@db.command("upgrade")
@config_option
@url_option
@click.option("--revision", default="head", show_default=True, help="Revision to upgrade to.")
def upgrade_command(config_path: str | None, url: str | None, revision: str) -> None:
    """Apply the migrations to the configured database (creates a SQLite file if missing)."""
    target = _target_url(config_path, url)
    try:
        before = migrate.current_revision(target)
        migrate.upgrade(target, revision)
        after = migrate.current_revision(target)
    except StorageError as exc:
        raise click.ClickException(str(exc)) from None
    where = display_url(target)
    if before == after:
        click.echo(f"database at {where} is at revision {after} (already up to date)")
    else:
        click.echo(f"database at {where} upgraded from {before or 'empty'} to revision {after}")


@db.command("check")
@config_option
@url_option
def check_command(config_path: str | None, url: str | None) -> None:
    """Exit non-zero if the database is not at the newest revision or differs from the models."""
    target = _target_url(config_path, url)
    problem = missing_database(target, config_path, given_url=url is not None)
    if problem is not None:  # checking must not leave an empty SQLite file behind
        raise click.ClickException(problem)
    try:
        head = migrate.check(target)
    except SchemaDrift as exc:
        raise click.ClickException(f"database at {display_url(target)}: {exc}") from None
    except StorageError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"database at {display_url(target)} is at revision {head} and matches the models")
