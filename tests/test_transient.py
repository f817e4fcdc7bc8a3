"""Deadlocks, lock wait timeouts and snapshot conflicts are transient: pyramid_retry replays them."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import psycopg.errors
import pymysql.err
import pytest
import sqlalchemy as sa
import zope.sqlalchemy
from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as ORMSession
from transaction.interfaces import TransientError

from pyramid_dbsession import SessionConflict, TransientDatabaseError, get_store
from pyramid_dbsession.db.transient import is_transient, transient_error
from pyramid_dbsession.models import sessions_table

from .conftest import listening

SESSION_KEY = "k" * 64
UPDATE_SQL = "UPDATE core_sessions SET session_data=%(data)s WHERE session_key = %(key)s"


def wrapped(orig: Exception, params: Any = None) -> sa.exc.DBAPIError:
    """The SQLAlchemy error wrapping a driver's exception, as ``Connection.execute`` raises it."""
    return sa.exc.DBAPIError.instance(UPDATE_SQL, params, orig, Exception)


# -- which driver errors are transient -----------------------------------------------------

TRANSIENT = {
    # PyMySQL gives the server's SQLSTATE too, as the server sends them
    "mariadb-1020-snapshot-conflict": pymysql.err.OperationalError(1020, "Record has changed", sqlstate="HY000"),
    "mariadb-1205-lock-wait-timeout": pymysql.err.OperationalError(1205, "Lock wait timeout", sqlstate="HY000"),
    "mariadb-1213-deadlock": pymysql.err.OperationalError(1213, "Deadlock found", sqlstate="40001"),
    "postgresql-40001-serialization-failure": psycopg.errors.SerializationFailure("could not serialize access"),
    "postgresql-40P01-deadlock": psycopg.errors.DeadlockDetected("deadlock detected"),
    "postgresql-55P03-lock-timeout": psycopg.errors.LockNotAvailable("canceling statement due to lock timeout"),
}
PERMANENT = {
    "mariadb-1062-duplicate-key": pymysql.err.IntegrityError(1062, "Duplicate entry", sqlstate="23000"),
    "mariadb-2013-lost-connection": pymysql.err.OperationalError(2013, "Lost connection to MySQL server"),
    "mariadb-1047-galera-node-not-ready": pymysql.err.OperationalError(1047, "WSREP not ready", sqlstate="08S01"),
    "postgresql-23505-unique-violation": psycopg.errors.UniqueViolation("duplicate key value"),
    "postgresql-25006-read-only": psycopg.errors.ReadOnlySqlTransaction("cannot execute UPDATE"),
    "postgresql-connection-refused": psycopg.OperationalError("connection refused"),
    "sqlite-database-is-locked": sqlite3.OperationalError("database is locked"),
}


@pytest.mark.parametrize("orig", TRANSIENT.values(), ids=TRANSIENT.keys())
def test_transient_driver_error_is_transient(orig):
    assert is_transient(wrapped(orig))


@pytest.mark.parametrize("orig", PERMANENT.values(), ids=PERMANENT.keys())
def test_other_driver_error_is_not_transient(orig):
    assert not is_transient(wrapped(orig))


def test_pool_timeout_is_not_transient():
    assert not is_transient(sa.exc.TimeoutError("QueuePool limit reached"))


def test_driver_error_that_sqlalchemy_did_not_wrap_is_not_transient():
    assert not is_transient(TRANSIENT["mariadb-1213-deadlock"])


# -- what is raised instead ------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, code", [("mariadb-1020-snapshot-conflict", 1020), ("postgresql-40001-serialization-failure", "40001")]
)
def test_row_changed_under_a_session_write_is_that_sessions_conflict(name, code):
    error = transient_error(wrapped(TRANSIENT[name], {"key": SESSION_KEY, "data": "x"}))
    assert isinstance(error, SessionConflict) and (error.session_key, error.code) == (SESSION_KEY, code)


def test_row_changed_at_commit_is_a_transient_database_error():
    error = transient_error(wrapped(TRANSIENT["postgresql-40001-serialization-failure"]))
    assert isinstance(error, TransientDatabaseError) and error.code == "40001"


def test_deadlock_in_a_session_write_is_a_transient_database_error():
    error = transient_error(wrapped(TRANSIENT["mariadb-1213-deadlock"], {"key": SESSION_KEY}))
    assert type(error) is TransientDatabaseError and error.code == 1213


@pytest.mark.parametrize("orig", TRANSIENT.values(), ids=TRANSIENT.keys())
def test_transient_error_is_a_transaction_transient_error(orig):
    assert isinstance(transient_error(wrapped(orig, {"key": SESSION_KEY})), TransientError)


def test_permanent_error_has_no_transient_replacement():
    assert transient_error(wrapped(PERMANENT["mariadb-1062-duplicate-key"])) is None


# -- replays through pyramid_tm and pyramid_retry, on the databases ---------------------------


def lock_timeout_of(engine: Engine) -> Exception:
    """The driver's own lock-wait-timeout error of the engine's database."""
    if engine.dialect.name == "postgresql":
        return psycopg.errors.LockNotAvailable("canceling statement due to lock timeout")
    if engine.dialect.name in {"mysql", "mariadb"}:
        return pymysql.err.OperationalError(1205, "Lock wait timeout exceeded; try restarting transaction")
    pytest.skip("SQLite has no lock wait timeout a replay could cure: a locked database waits, then fails")


def test_lock_wait_timeout_in_a_session_write_is_replayed(make_testapp, engine, retries):
    refused = lock_timeout_of(engine)
    testapp = make_testapp(retries.configure)
    testapp.get("/incr")
    raised: list[str] = []

    def refuse_first_update(conn: Any, cursor: Any, sql: str, *rest: Any) -> None:
        if sql.lstrip().upper().startswith("UPDATE") and not raised:
            raised.append(sql)
            raise refused

    with listening(get_store(testapp.app.registry).engine, "before_cursor_execute", refuse_first_update):
        response = testapp.get("/incr")
    assert (response.json, raised != [], retries.seen) == (2, True, ["TransientDatabaseError"])


@pytest.fixture
def snapshot_engine(engine: Engine) -> Iterator[Engine]:
    """An app engine whose transactions read from one snapshot, and that says so when a row changed since."""
    if engine.dialect.name == "postgresql":
        snapshot = sa.create_engine(engine.url, isolation_level="REPEATABLE READ")
    elif engine.dialect.name in {"mysql", "mariadb"}:
        # MariaDB 10.11 keeps it off by default: an UPDATE then silently writes over a newer row.
        init = "SET SESSION innodb_snapshot_isolation = ON"
        snapshot = sa.create_engine(engine.url, connect_args={"init_command": init})
    else:
        pytest.skip("SQLite serialises writers; no snapshot can go stale under a write")
    yield snapshot
    snapshot.dispose()


def add_snapshot_reader(snapshot_engine: Engine, interrupted: Callable[[Request], None]) -> Any:
    """``request.dbsession`` on ``snapshot_engine``, and ``/read_then_incr``: a read, then an increment."""

    def dbsession(request: Request) -> ORMSession:
        session = ORMSession(snapshot_engine)
        zope.sqlalchemy.register(session, transaction_manager=request.tm)
        return session

    def read_then_increment(request: Request) -> Response:
        # The app's first query takes the transaction's snapshot, as a view reading its user would.
        request.dbsession.execute(sa.select(sa.func.count()).select_from(sessions_table))
        interrupted(request)
        request.session["counter"] += 1
        return Response(str(request.session["counter"]))

    def configure(config: Configurator) -> None:
        config.add_request_method(dbsession, "dbsession", reify=True)
        config.add_route("read_then_incr", "/read_then_incr")
        config.add_view(read_then_increment, route_name="read_then_incr")

    return configure


def test_row_changed_since_the_snapshot_is_replayed_as_a_session_conflict(make_testapp, snapshot_engine, retries):
    attempts: list[int] = []

    def touched_on_first_attempt(request: Request) -> None:
        attempts.append(len(attempts) + 1)
        if len(attempts) == 1:  # another request pushes the row's expiry forward, leaving its version as it was
            store = get_store(request.registry)
            with store.engine.begin() as connection:
                key, expire = connection.execute(
                    sa.select(sessions_table.c.session_key, sessions_table.c.expire_date)
                ).one()
                store.touch(connection, key, expire + timedelta(seconds=1))

    def configure(config: Configurator) -> None:
        retries.configure(config)
        add_snapshot_reader(snapshot_engine, touched_on_first_attempt)(config)

    testapp = make_testapp(configure, request_dbsession="dbsession")
    testapp.get("/incr")
    response = testapp.get("/read_then_incr")
    assert (response.text, attempts, retries.seen) == ("2", [1, 2], ["SnapshotConflict"])


def conflict_at_commit_of(engine: Engine) -> Exception:
    """The driver's error for a COMMIT that lost to a concurrent transaction."""
    if engine.dialect.name == "postgresql":
        return psycopg.errors.SerializationFailure("could not serialize access due to read/write dependencies")
    if engine.dialect.name in {"mysql", "mariadb"}:
        # Galera's certification failure, which the topology tests provoke for real
        return pymysql.err.OperationalError(1213, "Deadlock found when trying to get lock", sqlstate="40001")
    pytest.skip("SQLite's COMMIT does not lose to another transaction")


def test_conflict_at_commit_rendered_by_a_catch_all_view_is_replayed(make_testapp, engine, retries, monkeypatch):
    refused = conflict_at_commit_of(engine)

    def configure(config: Configurator) -> None:
        retries.configure(config)
        config.add_view(lambda exc, request: Response("error", status=500), context=Exception)

    testapp = make_testapp(configure)
    testapp.get("/incr")
    dialect = get_store(testapp.app.registry).engine.dialect
    commit, lost = dialect.do_commit, []

    def lose_first_commit(dbapi_connection: Any) -> None:
        if not lost:
            lost.append(refused)
            dbapi_connection.rollback()  # the server ends a transaction whose COMMIT it refused
            raise refused
        commit(dbapi_connection)

    monkeypatch.setattr(dialect, "do_commit", lose_first_commit)
    response = testapp.get("/incr")
    assert (response.json, retries.seen) == (2, ["OperationalError"])


def test_lock_wait_timeout_in_an_app_statement_is_replayed(make_testapp, engine, snapshot_engine, retries):
    refused = lock_timeout_of(engine)
    raised: list[Exception] = []

    def refuse_first_read(conn: Any, cursor: Any, sql: str, *rest: Any) -> None:
        if sql.lstrip().upper().startswith("SELECT") and not raised:
            raised.append(refused)
            raise refused

    def configure(config: Configurator) -> None:
        retries.configure(config)
        add_snapshot_reader(snapshot_engine, lambda request: None)(config)

    testapp = make_testapp(configure)
    testapp.get("/incr")
    with listening(snapshot_engine, "before_cursor_execute", refuse_first_read):
        response = testapp.get("/read_then_incr")
    assert (response.text, retries.seen) == ("2", ["OperationalError"])
