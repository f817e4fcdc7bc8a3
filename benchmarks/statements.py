"""Count the SQL statements that reach the server, BEGIN, COMMIT and ROLLBACK included.

Statements are seen through SQLAlchemy's engine events, on every engine of
the process. SQLAlchemy also reports a begin and a commit or rollback for
connections in autocommit mode, where the driver sends nothing: psycopg and
sqlite3 ignore the calls (checked against a libpq trace on PostgreSQL).
PyMySQL is the exception both ways: it never sends BEGIN (MariaDB starts
transactions by itself) and sends COMMIT and ROLLBACK even in autocommit
mode, unless the engine was made with ``skip_autocommit_rollback``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine


def _sent(connection: Connection, word: str) -> bool:
    """Whether the driver sends ``word`` (BEGIN, COMMIT or ROLLBACK) to the server."""
    dialect = connection.dialect
    dbapi_connection = connection.connection.dbapi_connection
    autocommit = dbapi_connection is not None and dialect.detect_autocommit_setting(dbapi_connection)
    if dialect.driver != "pymysql":
        return not autocommit
    if word == "BEGIN":
        return False
    return not (autocommit and word == "ROLLBACK" and dialect.skip_autocommit_rollback)


@contextmanager
def statement_log() -> Iterator[list[str]]:
    """Collect the first word of every statement sent while the block runs."""
    words: list[str] = []

    def on_statement(connection: Connection, cursor: Any, statement: str, *args: Any) -> None:
        words.append(statement.split(None, 1)[0].upper())

    def on_transaction(word: str) -> Callable[[Connection], None]:
        def handler(connection: Connection) -> None:
            if _sent(connection, word):
                words.append(word)

        return handler

    handlers: list[tuple[str, Callable[..., None]]] = [("before_cursor_execute", on_statement)]
    handlers += [(name, on_transaction(name.upper())) for name in ("begin", "commit", "rollback")]
    for name, handler in handlers:
        event.listen(Engine, name, handler)
    try:
        yield words
    finally:
        for name, handler in handlers:
            event.remove(Engine, name, handler)
