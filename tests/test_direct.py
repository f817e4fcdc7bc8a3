"""DirectSelect reads what Connection.execute reads, on each backend, and steps aside for observers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pyramid_dbsession.db.fastread import DirectSelect
from pyramid_dbsession.db.store import _LOAD
from pyramid_dbsession.models import sessions_table

from .conftest import listening

NOW = datetime(2026, 11, 25, 12, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture
def reader(engine: Engine) -> Iterator[Engine]:
    """An autocommit engine on the backend, as the session factory builds for reads."""
    with engine.begin() as connection:
        connection.execute(
            sessions_table.insert(),
            {
                "session_key": "k" * 64,
                "session_data": "payload",
                "data_size": 7,
                "created": NOW - timedelta(hours=1),
                "expire_date": NOW + timedelta(days=1),
                "version": 3,
            },
        )
    reader = sa.create_engine(engine.url, isolation_level="AUTOCOMMIT", skip_autocommit_rollback=True)
    yield reader
    reader.dispose()


def core_first(engine: Engine, params: dict[str, Any]) -> Any:
    with engine.connect() as connection:
        return connection.execute(_LOAD, params).first()


def test_a_row_reads_as_through_a_connection(reader: Engine) -> None:
    params = {"key": "k" * 64, "now": NOW}
    row = DirectSelect(reader, _LOAD).first(params)
    assert row == ("payload", NOW + timedelta(days=1), NOW - timedelta(hours=1), 3)
    assert row == tuple(core_first(reader, params))
    assert row[1].tzinfo is UTC and row[2].tzinfo is UTC


def test_no_row_reads_as_none(reader: Engine) -> None:
    select = DirectSelect(reader, _LOAD)
    assert select.first({"key": "k" * 64, "now": NOW + timedelta(days=2)}) is None
    assert select.first({"key": "x" * 64, "now": NOW}) is None


def test_unobserved_reads_need_no_connection_object(reader: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse() -> None:
        raise AssertionError("read through a Connection")

    monkeypatch.setattr(reader, "connect", refuse)
    assert DirectSelect(reader, _LOAD).first({"key": "k" * 64, "now": NOW}) is not None


@pytest.mark.parametrize("event", ["before_cursor_execute", "after_cursor_execute", "handle_error"])
def test_observers_see_every_read(reader: Engine, event: str) -> None:
    seen: list[Any] = []
    target = reader.dialect if event == "handle_error" else reader
    select = DirectSelect(reader, _LOAD)

    def observe(*args: Any) -> None:
        seen.append(args)

    def on_statement(connection: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    listener = observe if event == "handle_error" else on_statement
    with listening(target, event, listener):
        assert select.first({"key": "k" * 64, "now": NOW}) is not None
        if event == "handle_error":
            with pytest.raises(sa.exc.DBAPIError):
                DirectSelect(reader, sa.select(sa.text("no_such_column")).select_from(sessions_table)).first({})
    assert len(seen) == 1
    if event != "handle_error":
        assert seen[0].startswith("SELECT core_sessions.session_data")


def test_a_missing_table_raises_sqlalchemys_error(reader: Engine) -> None:
    missing = sa.Table("no_such_table", sa.MetaData(), sa.Column("a", sa.Integer))
    with pytest.raises(sa.exc.DBAPIError) as raised:
        DirectSelect(reader, sa.select(missing.c.a)).first({})
    assert "no_such_table" in str(raised.value)
    # The pooled connection is still good for the next read.
    assert DirectSelect(reader, _LOAD).first({"key": "k" * 64, "now": NOW}) is not None


def test_an_unreachable_server_raises_operational_error(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        pytest.skip("an embedded SQLite file has no server to reach")
    dead = sa.create_engine(engine.url.set(host="127.0.0.1", port=9), isolation_level="AUTOCOMMIT")
    with pytest.raises(sa.exc.OperationalError):
        DirectSelect(dead, _LOAD).first({"key": "k" * 64, "now": NOW})
    dead.dispose()


def test_a_connection_killed_on_the_server_is_dropped_from_the_pool(engine: Engine, reader: Engine) -> None:
    if engine.dialect.name == "sqlite":
        pytest.skip("an embedded SQLite file has no server to kill connections")
    server_id = sa.func.pg_backend_pid() if engine.dialect.name == "postgresql" else sa.func.connection_id()
    kill = "SELECT pg_terminate_backend(:id)" if engine.dialect.name == "postgresql" else "KILL :id"
    select = DirectSelect(reader, _LOAD)
    row = DirectSelect(reader, sa.select(server_id)).first({})
    assert row is not None
    with engine.begin() as connection:
        connection.execute(sa.text(kill), {"id": row[0]})
    with pytest.raises(sa.exc.OperationalError):
        select.first({"key": "k" * 64, "now": NOW})
    assert select.first({"key": "k" * 64, "now": NOW}) is not None
