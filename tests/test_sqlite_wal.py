"""A SQLite file gets WAL mode with synchronous = NORMAL from the library's engines, unless opted out."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import webtest
import zope.sqlalchemy
from pyramid.config import Configurator
from pyramid.request import Request
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as ORMSession

from pyramid_dbsession import get_store
from pyramid_dbsession.models import create_table

from .conftest import SECRET
from .sessionapp import make_app

#: ``PRAGMA synchronous`` reads 1 for NORMAL and 2 for FULL, SQLite's default.
NORMAL, FULL = 1, 2


def pragma(engine: Engine, name: str) -> Any:
    with engine.connect() as connection:
        return connection.exec_driver_sql(f"PRAGMA {name}").scalar()


def file_pragma(path: Path, name: str) -> Any:
    """A pragma as a connection of an engine the library never saw reads it."""
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        return pragma(engine, name)
    finally:
        engine.dispose()


@pytest.fixture
def make_sqlite_testapp(tmp_path: Path) -> Iterator[Callable[..., webtest.TestApp]]:
    """Build the test views' app on a fresh SQLite file, ``sessions.sqlite``; keywords are settings."""
    apps: list[Any] = []

    def build(configure: Any = None, **extra: Any) -> webtest.TestApp:
        settings = {
            "dbsession.url": f"sqlite:///{tmp_path / 'sessions.sqlite'}",
            "dbsession.secret": SECRET,
            "dbsession.create_table": "true",
            **{f"dbsession.{key}": value for key, value in extra.items()},
        }
        app = make_app(settings, configure)
        apps.append(app)
        return webtest.TestApp(app)

    yield build
    for app in apps:
        get_store(app.registry).dispose()


@pytest.fixture
def app_engine(tmp_path: Path) -> Iterator[Engine]:
    """The app's own engine, on a SQLite file of its own holding ``core_sessions``."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'app.sqlite'}")
    create_table(engine)
    yield engine
    engine.dispose()


def add_app_dbsession(app_engine: Engine) -> Callable[[Configurator], None]:
    """Configure ``request.dbsession`` on ``app_engine``, as the Pyramid starter does."""

    def dbsession(request: Request) -> ORMSession:
        session = ORMSession(app_engine)
        zope.sqlalchemy.register(session, transaction_manager=request.tm)
        return session

    def configure(config: Configurator) -> None:
        config.add_request_method(dbsession, "dbsession", reify=True)

    return configure


def test_sqlite_file_of_the_library_is_in_wal_mode(make_sqlite_testapp, tmp_path):
    make_sqlite_testapp().get("/set", {"a": "1"})
    assert file_pragma(tmp_path / "sessions.sqlite", "journal_mode") == "wal"


def test_library_connections_commit_with_synchronous_normal(make_sqlite_testapp):
    testapp = make_sqlite_testapp()
    assert pragma(get_store(testapp.app.registry).engine, "synchronous") == NORMAL


def test_sqlite_wal_off_keeps_the_rollback_journal(make_sqlite_testapp, tmp_path):
    testapp = make_sqlite_testapp(sqlite_wal="false")
    testapp.get("/set", {"a": "1"})
    journal = file_pragma(tmp_path / "sessions.sqlite", "journal_mode")
    assert (journal, pragma(get_store(testapp.app.registry).engine, "synchronous")) == ("delete", FULL)


def test_sessions_work_the_same_in_wal_mode(make_sqlite_testapp):
    testapp = make_sqlite_testapp()
    testapp.get("/incr")
    testapp.get("/incr")
    assert testapp.get("/show").json == {"counter": 2}


def test_in_memory_sqlite_is_left_as_it_is():
    app = make_app({"dbsession.url": "sqlite://", "dbsession.secret": SECRET, "dbsession.create_table": "true"})
    store = get_store(app.registry)
    try:
        assert pragma(store.engine, "journal_mode") == "memory"
    finally:
        store.dispose()


def test_apps_engine_gets_wal_mode_when_session_rows_go_through_it(make_sqlite_testapp, app_engine, tmp_path):
    testapp = make_sqlite_testapp(add_app_dbsession(app_engine), request_dbsession="dbsession")
    testapp.get("/set", {"a": "1"})
    journal = file_pragma(tmp_path / "app.sqlite", "journal_mode")
    assert (journal, pragma(app_engine, "synchronous")) == ("wal", NORMAL)


def test_apps_engine_is_left_as_it_is_with_sqlite_wal_off(make_sqlite_testapp, app_engine, tmp_path):
    testapp = make_sqlite_testapp(add_app_dbsession(app_engine), request_dbsession="dbsession", sqlite_wal="off")
    testapp.get("/set", {"a": "1"})
    journal = file_pragma(tmp_path / "app.sqlite", "journal_mode")
    assert (journal, pragma(app_engine, "synchronous")) == ("delete", FULL)
