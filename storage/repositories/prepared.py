"""Hot statements compiled once and run straight on a sqlite3 cursor, with SQLAlchemy's own types.

A hopper pick runs five or six short statements; through a SQLAlchemy ``Connection`` each
one costs more in Python (execution context, parameter dict, post-compile of ``IN``
lists, result metadata) than SQLite takes to run it at a million leads. A
:class:`PreparedSqlite` is compiled once for the connection's dialect (``IN`` lists
rendered, so the SQL text never changes and sqlite3's statement cache keeps it prepared)
and keeps, per positional parameter, either its constant value or the key it reads and the
type's bind processor, and per result column the type's result processor. Running it is
one ``cursor.execute`` plus those processors: the values going in and coming out are
exactly what SQLAlchemy would send and return (aware UTC datetimes, dates, JSON, booleans).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Dialect
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

_Processor = Callable[[Any], Any] | None


class PreparedSqlite:
    """One statement compiled for a SQLite dialect; :meth:`rows` runs it on a sqlite3 connection."""

    __slots__ = ("_params", "_results", "sql")

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        if not isinstance(compiled, SQLCompiler) or compiled.positiontup is None:
            raise TypeError("a positional (qmark) SQL compilation was expected")
        self.sql: str = compiled.string
        params: list[tuple[bool, Any, _Processor]] = []
        for name in compiled.positiontup:
            bind = compiled.binds[name]
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if bind.callable is None and bind.value is None and bind.required:
                params.append((False, bind.key, processor))  # read from the call's parameters
            else:
                value = bind.effective_value
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

    def rows(self, raw: Any, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run on ``raw`` (a sqlite3 connection) and return every row, typed."""
        fetched: Sequence[tuple[Any, ...]] = raw.execute(self.sql, self.parameters(values)).fetchall()
        processors = self._results
        if not any(processors):
            return list(fetched)
        return [
            tuple(p(v) if p is not None else v for p, v in zip(processors, row, strict=True)) for row in fetched
        ]
