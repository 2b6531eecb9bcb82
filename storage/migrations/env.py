"""Alembic environment: async engines from storage.engine, batch mode on SQLite.

Three ways in: ``storage.migrate`` passes an open connection in
``config.attributes["connection"]`` (used as is); otherwise the URL comes from
``-x url=...`` or ``sqlalchemy.url`` and a fresh engine is made and disposed.
"""

from __future__ import annotations

import asyncio
from logging.config import fileConfig
from typing import Any

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection

from storage.engine import create_engine, parse_url
from storage.models import Base, UtcDateTime

config = context.config
target_metadata = Base.metadata

if config.config_file_name is not None and not config.attributes.get("connection"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | bool:
    """Render our TypeDecorators as the plain column type they store, so revisions never import models."""
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _options(dialect_name: str) -> dict[str, Any]:
    return {
        "target_metadata": target_metadata,
        # SQLite can't ALTER most things: batch mode copies the table instead
        "render_as_batch": dialect_name == "sqlite",
        # storage.engine makes SQLite DDL transactional (explicit BEGIN): a failed upgrade leaves nothing half-done
        "transactional_ddl": True,
        "compare_type": True,
        "render_item": render_item,
    }


def _url() -> str:
    return context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url") or ""


def run_migrations_offline() -> None:
    url = parse_url(_url())
    context.configure(url=url, literal_binds=True, dialect_opts={"paramstyle": "named"}, **_options(url.get_backend_name()))
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    context.configure(connection=connection, **_options(connection.dialect.name))
    with context.begin_transaction():
        if connection.dialect.name == "sqlite":
            # a batch migration rebuilds a table (copy, DROP, rename): with foreign keys
            # enforced, the DROP of a table that others reference fails once it holds data.
            # Deferred checks run at COMMIT, when the rebuilt table is back in place.
            connection.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
        context.run_migrations()


async def run_async_migrations() -> None:
    engine = create_engine(_url())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(do_run_migrations)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
elif config.attributes.get("connection") is not None:
    do_run_migrations(config.attributes["connection"])
else:
    asyncio.run(run_async_migrations())
