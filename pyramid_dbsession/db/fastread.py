"""DirectSelect: a SELECT compiled once, then run straight on a pooled DBAPI cursor.

It is the session read's fast path: ``benchmarks/requests.py`` measures what
it saves (about 110 us of a 620 us read on PostgreSQL). Whenever anything
watches statements (SQL logging, a debug toolbar, tracing) it steps aside and
reads through a Connection, so that every statement is seen.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Engine

#: Events that must see every statement: while any has a listener (a debug
#: toolbar, tracing, a statement counter), statements run through a Connection.
_OBSERVED_EVENTS = (
    "engine_connect",
    "before_execute",
    "after_execute",
    "before_cursor_execute",
    "after_cursor_execute",
)

Processor = Callable[[Any], Any] | None


class DirectSelect:
    """Run one SELECT on ``engine`` without SQLAlchemy's per-statement work.

    Compiling, binding and type conversion are SQLAlchemy's own (the
    dialect's SQL, bind and result processors), done once here; each call
    only checks a connection out of the engine's pool, runs the cursor and
    converts the row. That saves about 100 us a statement on a 2-core machine,
    more than a local PostgreSQL needs to answer it. Errors are SQLAlchemy's
    ``DBAPIError`` subclasses, as from ``Connection.execute``.
    """

    def __init__(self, engine: Engine, statement: sa.Select[Any]) -> None:
        self.engine = engine
        self.statement = statement
        dialect = engine.dialect
        compiled = statement.compile(dialect=dialect)
        self._sql = compiled.string
        self._binds: dict[str, Processor] = {
            name: bind.type.dialect_impl(dialect).bind_processor(dialect) for name, bind in compiled.binds.items()
        }
        positional = dialect.paramstyle in {"qmark", "numeric", "format"}
        self._order = tuple(compiled.positiontup or ()) if positional else None
        self._results: list[Processor] = [
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in statement.selected_columns
        ]

    def first(self, params: dict[str, Any]) -> tuple[Any, ...] | None:
        """Return the first row for ``params``, its values converted, or None."""
        if self._observed():
            with self.engine.connect() as connection:
                row = connection.execute(self.statement, params).first()
            return None if row is None else tuple(row)
        values = {name: value if (bind := self._binds[name]) is None else bind(value) for name, value in params.items()}
        parameters = values if self._order is None else tuple(values[name] for name in self._order)
        dialect = self.engine.dialect
        try:
            row = self._fetch(parameters)
        except _Disconnected as lost:
            raise self._wrapped(lost.error, parameters, invalidated=True) from lost.error
        except dialect.loaded_dbapi.Error as exc:
            raise self._wrapped(exc, parameters, invalidated=False) from exc
        if row is None:
            return None
        converted = zip(self._results, row, strict=True)
        return tuple(value if result is None else result(value) for result, value in converted)

    def _fetch(self, parameters: Any) -> Any:
        try:
            connection = self.engine.raw_connection()
        except self.engine.dialect.loaded_dbapi.Error as exc:
            raise _Disconnected(exc) from exc  # no connection to be had: the server is gone
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(self._sql, parameters)
                return cursor.fetchone()
            finally:
                cursor.close()
        except self.engine.dialect.loaded_dbapi.Error as exc:
            if self.engine.dialect.is_disconnect(exc, connection.dbapi_connection, None):
                connection.invalidate(exc)
                raise _Disconnected(exc) from exc
            raise
        finally:
            connection.close()

    def _wrapped(self, error: Exception, parameters: Any, *, invalidated: bool) -> sa.exc.DBAPIError:
        """The error SQLAlchemy's Connection would raise for ``error``."""
        dialect = self.engine.dialect
        wrapped = sa.exc.DBAPIError.instance(
            self._sql,
            parameters,
            error,
            dialect.loaded_dbapi.Error,
            self.engine.hide_parameters,
            connection_invalidated=invalidated,
            dialect=dialect,
        )
        return cast(sa.exc.DBAPIError, wrapped)  # a DBAPI error always wraps as one

    def _observed(self) -> bool:
        dispatch = self.engine.dispatch
        return (
            self.engine.logger.isEnabledFor(logging.INFO)  # dbsession.engine.echo, or the sqlalchemy.engine logger
            or bool(self.engine.dialect.dispatch.handle_error)
            or any(getattr(dispatch, name) for name in _OBSERVED_EVENTS)
        )


class _Disconnected(Exception):
    """The server went away: the connection was lost while reading, or none could be made."""

    def __init__(self, error: Exception) -> None:
        super().__init__(error)
        self.error = error
