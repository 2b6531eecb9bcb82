"""Async engines and sessions for SQLite (aiosqlite) and PostgreSQL (asyncpg).

SQLite is set up on every new connection: foreign keys on (SQLite leaves them off),
WAL so readers don't block the writer, a busy timeout so concurrent writers wait instead
of failing at once. pysqlite's own transaction handling is switched off and SQLAlchemy
emits ``BEGIN`` itself, so transactions, SAVEPOINTs and transactional DDL behave as on
PostgreSQL.

Two kinds of session share one engine (one pool): :func:`session_factory` writes, and its
SQLite transactions begin ``IMMEDIATE`` (the write lock up front); :func:`read_session_factory`
only reads, and its SQLite transactions begin deferred and ``query_only``: under WAL they
take no lock at all, so a writer holding the lock for a long time never makes a read wait
or fail ("database is locked" on a session lookup was the bug). A write attempted through a
read session fails at once ("attempt to write a readonly database") instead of silently
taking the lock. One timeout bounds every wait for the database (:data:`SQLITE_BUSY_TIMEOUT_S`):
SQLite's busy handler, pysqlite's connect timeout, and (twice it) the wait for a pooled connection.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine
from sqlalchemy.pool import StaticPool

from storage.checkpoint import AUTOCHECKPOINT_PAGES
from storage.errors import DatabaseUnavailable, UnsupportedDatabaseUrl

# How long a SQLite statement waits for another writer's lock; the wait for a pooled connection
# is derived from it (POOL_WAITS_PER_BUSY_TIMEOUT), so the two always agree
SQLITE_BUSY_TIMEOUT_S = 5.0
SQLITE_BUSY_TIMEOUT_MS = int(SQLITE_BUSY_TIMEOUT_S * 1000)
POOL_WAITS_PER_BUSY_TIMEOUT = 2.0
# Execution option marking a read-only engine view (see read_session_factory)
READ_ONLY_OPTION = "cobra_read_only"
# What the drivers say when the database is busy (SQLite's lock; PostgreSQL serialization/deadlock)
_BUSY_MARKERS = ("database is locked", "database table is locked", "could not serialize", "deadlock detected")
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


def _on_sqlite_connect(dbapi_connection: Any, _record: Any, *, memory: bool, busy_timeout_ms: int) -> None:
    # SQLAlchemy will emit BEGIN itself (see _on_sqlite_begin)
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            # safe with WAL (no corruption on power loss, only the last commits may be lost)
            cursor.execute("PRAGMA synchronous=NORMAL")
            # checkpoints are the background checkpointer's job (storage.checkpoint): a commit
            # only checkpoints itself when the log grew this large without one
            cursor.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
    finally:
        cursor.close()


def _set_query_only(conn: Any, on: bool) -> None:
    # Setting the pragma expires every prepared statement of the connection (each is then
    # prepared again: ~0.3 ms on a pick's statements), so it is only set when it changes
    if bool(conn.exec_driver_sql("PRAGMA query_only").scalar()) != on:
        conn.exec_driver_sql(f"PRAGMA query_only={'ON' if on else 'OFF'}")


def _on_sqlite_begin(conn: Any) -> None:
    if conn.get_execution_options().get(READ_ONLY_OPTION):
        # Deferred: a WAL reader takes no lock, so a held write lock neither delays nor fails it.
        # query_only makes a stray write fail loudly here instead of upgrading to the write lock
        # mid-transaction (which fails at once, without waiting, when another writer got in)
        conn.exec_driver_sql("BEGIN")
        _set_query_only(conn, True)
        return
    # IMMEDIATE takes the write lock up front: a deferred transaction that reads and then
    # writes fails at once with "database is locked" when another writer got in between
    # (SQLite can't wait there without risking a deadlock); an immediate one waits out
    # busy_timeout instead. WAL readers are not blocked by it. The pooled connection may
    # have served a read before: lift query_only first.
    _set_query_only(conn, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(url: str | URL, echo: bool = False, *, busy_timeout_s: float = SQLITE_BUSY_TIMEOUT_S) -> AsyncEngine:
    """An AsyncEngine for ``sqlite+aiosqlite://`` (file or memory) or ``postgresql+asyncpg://``.

    ``busy_timeout_s`` (SQLite files) bounds the wait for another writer's lock; the wait for a
    pooled connection is twice it (a connection is held at most one busy wait by a queued writer).
    """
    if busy_timeout_s <= 0:
        raise ValueError("busy_timeout_s must be positive")
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
        else:
            # pysqlite's own busy wait (before the pragma runs) is busy_timeout. A pooled connection is
            # held at most one busy wait by a writer queued on the lock, so a request waiting for a
            # connection outlasts one such wait (and never the 30 s default) before it gives up
            kwargs["connect_args"] = {"timeout": busy_timeout_s}
            kwargs["pool_timeout"] = POOL_WAITS_PER_BUSY_TIMEOUT * busy_timeout_s
        engine = _create_async_engine(parsed, **kwargs)
        sync_engine = engine.sync_engine
        busy_ms = round(busy_timeout_s * 1000)
        event.listen(
            sync_engine, "connect", lambda c, r: _on_sqlite_connect(c, r, memory=memory, busy_timeout_ms=busy_ms)
        )
        event.listen(sync_engine, "begin", _on_sqlite_begin)
        return engine
    kwargs["pool_pre_ping"] = True
    return _create_async_engine(parsed, **kwargs)


def sqlite_file(engine: AsyncEngine) -> Path | None:
    """The database file of a SQLite-file engine (None for PostgreSQL and in-memory SQLite)."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or is_sqlite_memory(url) or url.query.get("uri") == "true":
        return None
    return Path(str(url.database))


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay usable after commit (no expiry, so no lazy reload under asyncio).

    On SQLite their transactions take the write lock up front (``BEGIN IMMEDIATE``): use them
    for anything that may write.
    """
    return async_sessionmaker(engine, expire_on_commit=False)


def read_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for reading only, on the same engine and pool as :func:`session_factory`.

    On a SQLite file their transactions begin deferred and ``query_only`` (no lock under WAL:
    they go on while a writer holds the lock; a write through them fails at once). In-memory
    SQLite (one shared connection) and PostgreSQL (MVCC readers never wait for writers) get
    ordinary sessions.
    """
    url = engine.url
    if url.get_backend_name() != "sqlite" or is_sqlite_memory(url):
        return async_sessionmaker(engine, expire_on_commit=False)
    return async_sessionmaker(engine.execution_options(**{READ_ONLY_OPTION: True}), expire_on_commit=False)


def is_busy_error(exc: BaseException) -> bool:
    """Whether ``exc`` says the database was busy: SQLite's lock outlasted the busy timeout, a
    PostgreSQL serialization/deadlock failure, or no pooled connection came free in time."""
    if isinstance(exc, PoolTimeout):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    text = str(exc).lower()
    return any(marker in text for marker in _BUSY_MARKERS)
