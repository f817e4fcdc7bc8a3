"""``dbsession.synchronous_commit = off``: session writes on PostgreSQL commit without waiting for the disk."""

from __future__ import annotations

from typing import Any

import pytest
import webtest
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationError
from sqlalchemy.engine import Engine

from pyramid_dbsession import get_store
from pyramid_dbsession.wsgi import SessionMiddleware

from .conftest import SECRET, listening
from .test_wsgi import plain_app


@pytest.fixture
def postgresql(engine: Engine) -> Engine:
    if engine.dialect.name != "postgresql":
        pytest.skip("synchronous_commit is PostgreSQL's")
    return engine


def settings_seen_by_writes(testapp: Any, path: str, engine: Engine | None = None) -> list[str]:
    """``synchronous_commit`` as each INSERT, UPDATE or DELETE of the request saw it, on the store's engine."""
    seen: list[str] = []

    def record(connection: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.split(None, 1)[0] in {"INSERT", "UPDATE", "DELETE"}:
            cursor.execute("SHOW synchronous_commit")
            seen.append(cursor.fetchone()[0])

    with listening(engine or get_store(testapp.app.registry).engine, "before_cursor_execute", record):
        testapp.get(path)
    return seen


@pytest.mark.parametrize("path", ["/set?a=1", "/incr", "/invalidate"])
def test_session_writes_commit_asynchronously_with_the_setting_off(make_testapp, postgresql, path):
    testapp = make_testapp(synchronous_commit="off")
    testapp.get("/set", {"b": "2"})
    assert settings_seen_by_writes(testapp, path) == ["off"]


def test_session_writes_wait_for_the_disk_by_default(make_testapp, postgresql):
    testapp = make_testapp()
    testapp.get("/set", {"b": "2"})
    assert settings_seen_by_writes(testapp, "/incr") == ["on"]


def test_relaxed_commit_ends_with_its_transaction(make_testapp, postgresql):
    testapp = make_testapp(synchronous_commit="off", **{"engine.pool_size": "1", "engine.max_overflow": "0"})
    testapp.get("/incr")
    with get_store(testapp.app.registry).engine.connect() as connection:
        assert connection.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"


def test_middleware_writes_in_its_own_transaction_commit_asynchronously(postgresql):
    middleware = SessionMiddleware(plain_app, postgresql, SECRET, synchronous_commit=False)
    assert settings_seen_by_writes(webtest.TestApp(middleware), "/set?a=1", postgresql) == ["off"]


def test_synchronous_commit_off_on_another_database_is_refused_at_start_up(engine, settings):
    if engine.dialect.name == "postgresql":
        pytest.skip("PostgreSQL takes the setting")
    config = Configurator(settings={**settings, "dbsession.synchronous_commit": "off"})
    with pytest.raises(ConfigurationError, match=r"dbsession\.synchronous_commit = off works on PostgreSQL only"):
        config.include("pyramid_dbsession")
