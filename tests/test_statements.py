"""The SQL each request kind sends, counted through SQLAlchemy engine events, on every backend.

BEGIN, COMMIT and ROLLBACK count like any statement, except on autocommit
connections: SQLAlchemy reports a begin and a rollback there too, but the
driver sends nothing (checked against a libpq trace on PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import webtest
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from pyramid_dbsession import get_store


def _is_autocommit(connection: Connection) -> bool:
    return connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT"


@contextmanager
def statement_log(engine: Engine) -> Iterator[list[str]]:
    """Collect the first word of every statement that reaches the server."""
    words: list[str] = []

    def on_statement(connection: Connection, cursor: Any, statement: str, *args: Any) -> None:
        words.append(statement.split(None, 1)[0].upper())

    def on_transaction(word: str) -> Callable[[Connection], None]:
        def handler(connection: Connection) -> None:
            if not _is_autocommit(connection):
                words.append(word)

        return handler

    handlers: list[tuple[str, Callable[..., None]]] = [("before_cursor_execute", on_statement)]
    handlers += [(name, on_transaction(name.upper())) for name in ("begin", "commit", "rollback")]
    for name, handler in handlers:
        event.listen(engine, name, handler)
    try:
        yield words
    finally:
        for name, handler in handlers:
            event.remove(engine, name, handler)


@pytest.fixture
def returning_client(testapp: webtest.TestApp) -> webtest.TestApp:
    """A client whose stored session holds ``counter``."""
    testapp.get("/incr")
    return testapp


def statements_of(testapp: webtest.TestApp, path: str) -> list[str]:
    with statement_log(get_store(testapp.app.registry).engine) as words:
        testapp.get(path)
    return words


def test_untouched_request_sends_no_statement(returning_client):
    assert statements_of(returning_client, "/untouched") == []


def test_reading_a_session_sends_one_select(returning_client):
    assert statements_of(returning_client, "/show") == ["SELECT"]


def test_new_session_sends_begin_insert_commit(testapp):
    assert statements_of(testapp, "/set?a=1") == ["BEGIN", "INSERT", "COMMIT"]


def test_changing_a_session_sends_select_begin_update_commit(returning_client):
    assert statements_of(returning_client, "/incr") == ["SELECT", "BEGIN", "UPDATE", "COMMIT"]


def test_reading_without_a_cookie_sends_no_statement(testapp):
    assert statements_of(testapp, "/show") == []
