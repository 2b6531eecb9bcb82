"""Apply and check Cobra's migrations from Python, from any working directory.

The Alembic scripts ship inside the package (``storage/migrations``), so no ``alembic.ini``
is needed. The plain functions (``upgrade``, ``check``, ``current_revision``) run their own
event loop and suit the CLI and scripts; code already inside a loop uses the ``*_engine``
coroutines on its own engine (the only way to migrate an in-memory SQLite database).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.engine import create_engine, display_url
from storage.errors import DatabaseUnavailable, MigrationError, SchemaDrift
from storage.models import Base

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None, connection: Connection | None = None) -> AlembicConfig:
    """An Alembic config pointing at the packaged scripts, for ``url`` or an open sync connection."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    if url is not None:
        # ConfigParser treats % as interpolation; a password may contain one
        cfg.set_main_option("sqlalchemy.url", str(url).replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest revision shipped with this version of Cobra."""
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:
        raise MigrationError(f"migrations must have exactly one head, found {len(heads)}: {heads}")
    return heads[0]


def _revision_of(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _upgrade_on(connection: Connection, revision: str) -> None:
    try:
        command.upgrade(alembic_config(connection=connection), revision)
    except CommandError as exc:
        raise MigrationError(f"cannot upgrade to {revision!r}: {exc}") from None


def _describe(diff: Any) -> str:
    """One readable line per difference Alembic found (its raw tuples are hard to read)."""
    if isinstance(diff, list):  # column-level changes come grouped
        return "; ".join(_describe(d) for d in diff)
    kind: str = diff[0]
    verb, _, what = kind.partition("_")
    if verb in ("add", "remove"):
        if what == "table":
            name = diff[1].name
        elif what == "column":
            name = f"{diff[2]}.{diff[3].name}"
        else:
            obj = diff[1]
            table = getattr(obj, "table", None)
            name = f"{obj.name} on {table.name if table is not None else '?'}"
        where = "in the models, missing from the database" if verb == "add" else "in the database, not in the models"
        return f"{what} {name}: {where}"
    if verb == "modify":
        return f"column {diff[2]}.{diff[3]} {what}: database {diff[-2]!r}, models {diff[-1]!r}"
    return repr(diff)


def _check_on(connection: Connection) -> str:
    head = head_revision()
    current = _revision_of(connection)
    if current != head:
        raise MigrationError(
            f"database is at revision {current or 'none (empty)'}, not at head {head}: run `cobra db upgrade` first"
        )
    ctx = MigrationContext.configure(
        connection, opts={"compare_type": True, "target_metadata": Base.metadata}
    )
    diffs = compare_metadata(ctx, Base.metadata)
    if diffs:
        lines = [_describe(d) for d in diffs]
        raise SchemaDrift("database schema differs from the models:\n  " + "\n  ".join(lines), lines)
    return head


async def upgrade_engine(engine: AsyncEngine, revision: str = "head") -> str | None:
    """Upgrade the database behind ``engine`` to ``revision``; returns the revision it is now at."""
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade_on, revision)
    async with engine.connect() as conn:
        return await conn.run_sync(_revision_of)


async def check_engine(engine: AsyncEngine) -> str:
    """Raise SchemaDrift if the database (at head) differs from the models; returns the head revision."""
    async with engine.connect() as conn:
        return await conn.run_sync(_check_on)


async def current_revision_engine(engine: AsyncEngine) -> str | None:
    """The revision the database is at, None for a database never migrated."""
    async with engine.connect() as conn:
        return await conn.run_sync(_revision_of)


async def _with_engine(url: str, action: Any) -> Any:
    engine = create_engine(url)
    try:
        try:
            async with engine.connect():
                pass
        except (SQLAlchemyError, OSError) as exc:
            reason = getattr(exc, "orig", None) or exc
            raise DatabaseUnavailable(f"cannot open the database at {display_url(url)}: {reason}") from exc
        try:
            return await action(engine)
        except SQLAlchemyError as exc:
            raise MigrationError(f"database at {display_url(url)}: {exc}") from exc
    finally:
        await engine.dispose()


def upgrade(url: str, revision: str = "head") -> None:
    """Apply the packaged migrations to the database at ``url`` up to ``revision``."""
    asyncio.run(_with_engine(url, lambda engine: upgrade_engine(engine, revision)))


def check(url: str) -> str:
    """Raise SchemaDrift if the models and the migrated database at ``url`` differ; returns head."""
    result: str = asyncio.run(_with_engine(url, check_engine))
    return result


def current_revision(url: str) -> str | None:
    """The revision the database at ``url`` is at (None if never migrated)."""
    result: str | None = asyncio.run(_with_engine(url, current_revision_engine))
    return result
