"""Hot statements compiled once and run straight on a sqlite3 cursor, with SQLAlchemy's own types.

A hopper pick runs five or six short statements; through a SQLAlchemy ``Connection`` each
one costs more in Python (execution context, parameter dict, post-compile of ``IN``
lists, result metadata) than SQLite takes to run it at a million leads. A
:class:`PreparedSqlite` is compiled once for the connection's dialect (the SQL text never
changes, so sqlite3's statement cache keeps it prepared)
and keeps, per positional parameter, either its constant value or the key it reads and the
type's bind processor, and per result column the type's result processor. Running it is
one ``cursor.execute`` plus those processors: the values going in and coming out are
exactly what SQLAlchemy would send and return (aware UTC datetimes, dates, JSON, booleans).
``IN`` lists are refused (their SQL changes with the list's length): write them as ORs.
:func:`executemany` uses the same for a batch's inserts and updates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Dialect, FromClause, bindparam, insert, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

_Processor = Callable[[Any], Any] | None
_UNSET = object()


class PreparedSqlite:
    """One statement compiled for a SQLite dialect; :meth:`rows` runs it on a sqlite3 connection."""

    __slots__ = ("_params", "_results", "sql")

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        if not isinstance(compiled, SQLCompiler) or compiled.positiontup is None:
            raise TypeError("a positional (qmark) SQL compilation was expected")
        self.sql: str = compiled.string
        params: list[tuple[bool, Any, _Processor]] = []
        for name in compiled.positiontup:
            bind = compiled.binds[name]
            if bind.expanding or bind.callable is not None:
                # the SQL text or the value would change per execution: write IN lists as ORs
                raise TypeError(f"parameter {bind.key!r}: IN lists and callable values can't be prepared once")
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if bind.value is None and bind.required:
                params.append((False, bind.key, processor))  # read from the call's parameters
            else:
                value = bind.value
                params.append((True, processor(value) if processor else value, None))
        self._params = tuple(params)
        columns = getattr(statement, "exported_columns", ())
        self._results: tuple[_Processor, ...] = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
        )

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        out = []
        for constant, value, processor in self._params:
            if constant:
                out.append(value)
            else:
                given = values[value]
                out.append(processor(given) if processor is not None else given)
        return tuple(out)

    def many(self, raw: Any, rows: Sequence[Mapping[str, Any]]) -> None:
        """``executemany`` on ``raw`` (a sqlite3 connection), one parameter tuple per mapping."""
        raw.executemany(self.sql, self.many_parameters(rows))

    def many_parameters(self, rows: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
        """:meth:`parameters` of every row; a value that is the very object the previous row had
        (a batch's ``now`` in every row) is converted once: a datetime's bind processors cost
        more than the rest of the row."""
        params = self._params
        last_in: list[Any] = [_UNSET] * len(params)
        last_out: list[Any] = [None] * len(params)
        out = []
        for row in rows:
            values = []
            for i, (constant, value, processor) in enumerate(params):
                if constant:
                    values.append(value)
                    continue
                given = row[value]
                if processor is None:
                    values.append(given)
                elif given is last_in[i]:
                    values.append(last_out[i])
                else:
                    last_in[i] = given
                    last_out[i] = converted = processor(given)
                    values.append(converted)
            out.append(tuple(values))
        return out

    def rows(self, raw: Any, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run on ``raw`` (a sqlite3 connection) and return every row, typed."""
        fetched: Sequence[tuple[Any, ...]] = raw.execute(self.sql, self.parameters(values)).fetchall()
        processors = self._results
        if not any(processors):
            return list(fetched)
        return [
            tuple(p(v) if p is not None else v for p, v in zip(processors, row, strict=True)) for row in fetched
        ]


_WRITES: dict[tuple[Any, ...], PreparedSqlite] = {}
COPY_MIN_ROWS = 50
"""From this many rows a PostgreSQL insert goes as COPY: an executemany runs the statement once
per row on the server (measured: ~0.4 s for 2,000 debts against a few ms for the copy)."""
_COPY_PROCESSORS: dict[tuple[Any, ...], tuple[_Processor, ...]] = {}


async def _copy(conn: Any, table: Any, keys: tuple[str, ...], rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT ``rows`` with PostgreSQL's COPY, values converted by the columns' own bind processors."""
    cache_key = (table, keys, conn.dialect.name)
    processors = _COPY_PROCESSORS.get(cache_key)
    if processors is None:
        processors = _COPY_PROCESSORS[cache_key] = tuple(
            table.c[k].type.dialect_impl(conn.dialect).bind_processor(conn.dialect) for k in keys
        )
    records = [
        tuple(p(row[k]) if p is not None else row[k] for k, p in zip(keys, processors, strict=True)) for row in rows
    ]
    driver = (await conn.get_raw_connection()).driver_connection
    if not driver.is_in_transaction():
        # SQLAlchemy's asyncpg adapter begins the transaction with the first statement: the copy
        # must not run before it, in autocommit
        await conn.exec_driver_sql("SELECT 1")
    await driver.copy_records_to_table(table.name, records=records, columns=list(keys), schema_name=table.schema)


def _defaults(table: FromClause, keys: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for column in table.columns:
        default = getattr(column, "default", None)
        if column.key in keys or default is None:
            continue
        if getattr(default, "is_scalar", False):
            out[column.key] = default.arg
        elif getattr(default, "is_callable", False):
            out[column.key] = default.arg(None)  # SQLAlchemy wraps it to take a context
        else:
            raise TypeError(f"{table}.{column.key}: only scalar and callable defaults are filled in here")
    return out


def _write_statement(table: Any, keys: tuple[str, ...], where_id: str | None) -> Any:
    values = {k: bindparam(k, type_=table.c[k].type) for k in keys if k != where_id}
    if where_id is None:
        return insert(table).values(values)
    return update(table).where(table.c.id == bindparam(where_id)).values(values)


async def executemany(
    session: AsyncSession, table: FromClause, rows: Sequence[Mapping[str, Any]], *, where_id: str | None = None
) -> None:
    """INSERT ``rows`` into ``table`` (or UPDATE by ``id`` = ``row[where_id]``), in the session's transaction.

    Every row has the same keys. On SQLite the whole batch is one ``executemany`` in the
    driver's thread (one hop, no per-row work in SQLAlchemy). On PostgreSQL an insert of
    many rows is one ``COPY`` (asyncpg's binary copy, in the same transaction); smaller
    ones and updates are SQLAlchemy's own executemany.
    """
    if not rows:
        return
    keys = tuple(rows[0])
    if where_id is None:
        # what SQLAlchemy's insert would fill in: the columns' Python-side defaults (once per batch)
        defaults = _defaults(table, keys)
        if defaults:
            rows = [{**defaults, **row} for row in rows]
            keys = tuple(rows[0])
    conn = await session.connection()
    if conn.dialect.name == "postgresql" and where_id is None and len(rows) >= COPY_MIN_ROWS:
        await _copy(conn, table, keys, rows)
        return
    statement = _write_statement(table, keys, where_id)
    if conn.dialect.name != "sqlite":
        await conn.execute(statement, list(rows))
        return
    cache_key = (table, keys, where_id)
    prepared = _WRITES.get(cache_key)
    if prepared is None:
        prepared = _WRITES[cache_key] = PreparedSqlite(statement, conn.dialect)
    driver = (await conn.get_raw_connection()).driver_connection
    await driver._execute(prepared.many, driver._conn, rows)  # type: ignore[union-attr]
