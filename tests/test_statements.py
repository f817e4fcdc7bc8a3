"""The SQL each request kind sends to the server, on every backend.

Counted by ``benchmarks/statements.py``, the counter the request benchmark
prints, BEGIN, COMMIT and ROLLBACK included where the driver sends them; on
SQLite, what the library itself runs is traced too (the pragmas of WAL mode).
"""

from __future__ import annotations

from typing import Any

import pytest
import webtest

from benchmarks.statements import statement_log
from pyramid_dbsession import get_store

from .conftest import listening

#: What each backend's driver sends per request kind, where it differs from PostgreSQL's.
MARIADB = {
    # PyMySQL sends no BEGIN: MariaDB starts the transaction with the first statement.
    "read": ["SELECT"],
    "new": ["INSERT", "COMMIT"],
    "write": ["SELECT", "UPDATE", "COMMIT"],
}
POSTGRESQL = {
    "read": ["SELECT"],
    "new": ["BEGIN", "INSERT", "COMMIT"],
    "write": ["SELECT", "BEGIN", "UPDATE", "COMMIT"],
}
#: PostgreSQL with ``dbsession.synchronous_commit = off``: each write transaction relaxes its commit first.
POSTGRESQL_ASYNC_COMMIT = {
    "read": ["SELECT"],
    "new": ["BEGIN", "SET", "INSERT", "COMMIT"],
    "write": ["SELECT", "BEGIN", "SET", "UPDATE", "COMMIT"],
}
#: The paths of the request kinds, for a client that has a session.
PATHS = {"read": "/show", "new": "/set?a=1", "write": "/incr"}


@pytest.fixture
def expected(engine) -> dict[str, list[str]]:
    """The statements each request kind sends on this backend."""
    return MARIADB if engine.dialect.name in {"mysql", "mariadb"} else POSTGRESQL


@pytest.fixture
def returning_client(testapp: webtest.TestApp) -> webtest.TestApp:
    """A client whose stored session holds ``counter``."""
    testapp.get("/incr")
    return testapp


def statements_of(testapp: webtest.TestApp, path: str) -> list[str]:
    with statement_log() as words:
        testapp.get(path)
    return words


def test_untouched_request_sends_no_statement(returning_client):
    assert statements_of(returning_client, "/untouched") == []


def test_reading_without_a_cookie_sends_no_statement(testapp):
    assert statements_of(testapp, "/show") == []


def test_reading_a_session_sends_one_select(returning_client, expected):
    assert statements_of(returning_client, "/show") == expected["read"]


def test_new_session_sends_one_insert_in_a_transaction(testapp, expected):
    assert statements_of(testapp, "/set?a=1") == expected["new"]


def test_changing_a_session_sends_select_then_update_in_a_transaction(returning_client, expected):
    assert statements_of(returning_client, "/incr") == expected["write"]


def append_through_items(request):
    for value in request.session.values():
        if isinstance(value, list):
            value.append("more")
    return {}


def add_append_view(config) -> None:
    config.add_route("append_through_items", "/append_through_items")
    config.add_view(append_through_items, route_name="append_through_items", renderer="json")


def test_in_place_change_to_a_value_read_through_values_is_written(make_testapp, expected):
    testapp = make_testapp(add_append_view)
    testapp.get("/append", {"item": "first"})
    assert statements_of(testapp, "/append_through_items") == expected["write"]


@pytest.mark.parametrize("kind", sorted(PATHS))
def test_relaxed_commit_is_set_in_write_transactions_only(make_testapp, engine, kind):
    if engine.dialect.name != "postgresql":
        pytest.skip("synchronous_commit is PostgreSQL's")
    testapp = make_testapp(synchronous_commit="off")
    if kind != "new":
        testapp.get("/incr")
    assert statements_of(testapp, PATHS[kind]) == POSTGRESQL_ASYNC_COMMIT[kind]


def test_sqlite_pragmas_run_once_per_connection_not_per_request(make_testapp, engine):
    if engine.dialect.name != "sqlite":
        pytest.skip("the pragmas are SQLite's")
    testapp = make_testapp(**{"engine.pool_size": "1", "engine.max_overflow": "0"})
    sent: list[str] = []

    def trace(connection: Any, record: Any) -> None:
        connection.set_trace_callback(lambda sql: sent.append(sql.split(None, 1)[0].upper()))

    with listening(get_store(testapp.app.registry).engine, "connect", trace):
        for _ in range(3):
            testapp.get("/incr")
    assert sent == ["PRAGMA", "PRAGMA", "BEGIN", "INSERT", "COMMIT", *(["BEGIN", "UPDATE", "COMMIT"] * 2)]
