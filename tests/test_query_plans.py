"""The statements behind ``clear_expired`` walk ``ix_core_sessions_expire_date`` on every backend."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Connection, Engine

from pyramid_dbsession.codec import Codec, resolve_serializer
from pyramid_dbsession.db.store import SessionStore

from .conftest import SECRET, Clock, listening
from .test_cleanup import add_rows

INDEX = "ix_core_sessions_expire_date"


def planned_statements(engine: Engine, act: Callable[[], object], index: str = INDEX) -> dict[str, bool]:
    """Whether each SELECT and DELETE on ``core_sessions`` that ``act`` sends uses ``index``.

    Each plan is read just before its statement runs, on another connection,
    while the rows the statement is about are still there.
    """
    plans: dict[str, bool] = {}

    def capture(conn: Connection, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if "core_sessions" in statement and statement.lstrip().upper().startswith(("SELECT", "DELETE")):
            with engine.begin() as connection:
                indexed = uses_index(plan(connection, statement, parameters), index)
            plans[statement] = plans.get(statement, True) and indexed

    with listening(engine, "before_cursor_execute", capture):
        act()
    return plans


def plan(connection: Connection, statement: str, parameters: Any) -> str:
    """The backend's plan for ``statement``, as one string."""
    name = connection.dialect.name
    if name == "sqlite":
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
        return "\n".join(str(row[-1]) for row in rows)
    if name == "postgresql":
        # The test table is small enough that a sequential scan would win;
        # forbidding it shows whether the index can serve the statement at all.
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        return "\n".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {statement}", parameters))
    rows = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters).mappings().all()
    return "\n".join(f"key={row['key']} extra={row['Extra']}" for row in rows)


def uses_index(text: str, index: str = INDEX) -> bool:
    # MariaDB answers MIN() from the first index entry without a scan and says
    # so as "Select tables optimized away" (only possible with an index).
    return index in text or "Select tables optimized away" in text


@pytest.fixture
def store(engine: Engine, clock: Clock) -> SessionStore:
    """A store over 40 expired and 1,000 live rows, so that the index is clearly worth using."""
    add_rows(engine, [clock.now - timedelta(minutes=minute) for minute in range(1, 41)])
    add_rows(engine, [clock.now + timedelta(minutes=minute) for minute in range(1, 1001)])
    if engine.dialect.name in {"mysql", "mariadb"}:
        # Statistics left from the emptied table would make any scan look cheap.
        with engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE TABLE core_sessions").all()
    return SessionStore(engine, Codec((SECRET,), resolve_serializer("json")), clock=clock)


def plans_of(store: SessionStore, act: Callable[[], object]) -> dict[str, bool]:
    return planned_statements(store.engine, act)


def test_clear_expired_statements_all_use_the_expire_date_index(store: SessionStore) -> None:
    plans = plans_of(store, lambda: store.clear_expired(15))
    assert (len(plans), all(plans.values())) == (3, True), plans


def test_clear_expired_dry_run_count_uses_the_expire_date_index(store: SessionStore) -> None:
    plans = plans_of(store, lambda: store.clear_expired(dry_run=True))
    assert list(plans.values()) == [True], plans
