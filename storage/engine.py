"""Async engines and sessions for SQLite (aiosqlite) and PostgreSQL (asyncpg).

SQLite is set up on every new connection: foreign keys on (SQLite leaves them off),
WAL so readers don't block the writer, a busy timeout so concurrent writers wait instead
of failing at once. pysqlite's own transaction handling is switched off and SQLAlchemy
emits ``BEGIN IMMEDIATE`` itself, so transactions, SAVEPOINTs and transactional DDL behave as on
PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine
from sqlalchemy.pool import StaticPool

from storage.errors import DatabaseUnavailable, UnsupportedDatabaseUrl

SQLITE_BUSY_TIMEOUT_MS = 5000
SUPPORTED_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")


def parse_url(url: str | URL) -> URL:
    """Parse and vet a database URL; only the two drivers Cobra runs on are accepted."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise UnsupportedDatabaseUrl(f"database URL {str(url)!r} does not parse") from None
    if parsed.drivername not in SUPPORTED_DRIVERS:
        raise UnsupportedDatabaseUrl(
            f"database URL driver {parsed.drivername!r} is not supported: "
            "use sqlite+aiosqlite:///path.db or postgresql+asyncpg://user@host/db"
        )
    return parsed


def display_url(url: str | URL) -> str:
    """The URL as it can be printed: password hidden."""
    return make_url(url).render_as_string(hide_password=True)


def is_sqlite_memory(url: URL) -> bool:
    """True for an in-memory SQLite URL (``sqlite+aiosqlite://`` or ``:memory:``)."""
    return url.get_backend_name() == "sqlite" and (
        url.database in (None, "", ":memory:") or url.query.get("mode") == "memory"
    )


def _require_directory(url: URL) -> None:
    # sqlite would fail with "unable to open database file"; say which directory is missing
    # (and a failed aiosqlite connect leaves a worker thread racing the closing loop)
    path = Path(str(url.database))
    if not path.parent.is_dir():
        raise DatabaseUnavailable(f"SQLite database {path}: directory {path.parent} does not exist")


def _on_sqlite_connect(dbapi_connection: Any, _record: Any, *, memory: bool) -> None:
    # SQLAlchemy will emit BEGIN itself (see _on_sqlite_begin)
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            # safe with WAL (no corruption on power loss, only the last commits may be lost)
            cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _on_sqlite_begin(conn: Any) -> None:
    # IMMEDIATE takes the write lock up front: a deferred transaction that reads and then
    # writes fails at once with "database is locked" when another writer got in between
    # (SQLite can't wait there without risking a deadlock); an immediate one waits out
    # busy_timeout instead. WAL readers are not blocked by it.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(url: str | URL, echo: bool = False) -> AsyncEngine:
    """An AsyncEngine for ``sqlite+aiosqlite://`` (file or memory) or ``postgresql+asyncpg://``."""
    parsed = parse_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        memory = is_sqlite_memory(parsed)
        if not memory and parsed.query.get("uri") != "true":
            _require_directory(parsed)
        if memory:
            # one connection shared by everyone, or each would see its own empty database
            kwargs["poolclass"] = StaticPool
            kwargs["connect_args"] = {"check_same_thread": False}
        engine = _create_async_engine(parsed, **kwargs)
        sync_engine = engine.sync_engine
        event.listen(sync_engine, "connect", lambda c, r: _on_sqlite_connect(c, r, memory=memory))
        event.listen(sync_engine, "begin", _on_sqlite_begin)
        return engine
    kwargs["pool_pre_ping"] = True
    return _create_async_engine(parsed, **kwargs)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay usable after commit (no expiry, so no lazy reload under asyncio)."""
    return async_sessionmaker(engine, expire_on_commit=False)
