"""Fixtures for the demo app: built by its ``main()`` on each backend's database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
import webtest
from pyramid.router import Router
from sqlalchemy.engine import Engine
from sqlalchemy.events import ConnectionEvents
from sqlalchemy.orm import Session as ORMSession

from pyramid_dbsession import get_store
from pyramid_dbsession.demo import main
from pyramid_dbsession.demo.models import DEMO_PASSWORD, DEMO_USERNAME, Base, User
from pyramid_dbsession.demo.passwords import hash_password

from ..conftest import Clock

#: The events pyramid_debugtoolbar's SQLAlchemy panel can listen to on every ``Engine``.
_ENGINE_EVENTS = [name for name in dir(ConnectionEvents) if not name.startswith("_") and name != "dispatch"]


@pytest.fixture(scope="session", autouse=True)
def toolbar_sql_listeners() -> list[tuple[str, Callable[..., Any]]]:
    """The listeners the toolbar's SQLAlchemy panel adds to every ``Engine`` when imported, taken off.

    Left on, they would turn the bare-cursor read path off for every later test in the process.
    Taken off before the demo's first test, they stay off in every app that includes the toolbar
    (development.ini does) but under the ``debugtoolbar`` fixture.
    """
    from pyramid_debugtoolbar.panels import sqla

    listeners = [
        (name, listener)
        for name in _ENGINE_EVENTS
        for listener in vars(sqla).values()
        if callable(listener) and sa.event.contains(Engine, name, listener)
    ]
    for name, listener in listeners:
        sa.event.remove(Engine, name, listener)
    return listeners


@pytest.fixture
def debugtoolbar(toolbar_sql_listeners: list[tuple[str, Callable[..., Any]]]) -> Iterator[None]:
    """Let pyramid_debugtoolbar's SQLAlchemy panel listen for one test, as development.ini includes it."""
    for name, listener in toolbar_sql_listeners:
        sa.event.listen(Engine, name, listener)
    yield
    for name, listener in toolbar_sql_listeners:
        sa.event.remove(Engine, name, listener)


@pytest.fixture(scope="session")
def demo_tables(database: Engine) -> Iterator[None]:
    """Drop the demo's tables once a backend's tests are done."""
    yield
    Base.metadata.drop_all(database, checkfirst=True)


@contextmanager
def serving(app: Router, clock: Clock) -> Iterator[Router]:
    """Hand out a demo app with its clock in the tests' hands; its rows go afterwards and its store closes."""
    store = get_store(app.registry)
    store.clock = clock
    yield app
    with store.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    store.dispose()


@pytest.fixture
def app(settings: dict[str, Any], clock: Clock, demo_tables: None) -> Iterator[Router]:
    """The demo app on the backend, built by its ``main()``."""
    with serving(main({}, **settings), clock) as app:
        yield app


@pytest.fixture
def testapp(app: Router) -> webtest.TestApp:
    return webtest.TestApp(app)


def table_rows(engine: Engine, table_name: str) -> list[Any]:
    """Every row of one of the demo's tables."""
    with engine.connect() as connection:
        return list(connection.execute(sa.select(Base.metadata.tables[table_name])))


def add_user(engine: Engine, username: str, password: str) -> int:
    """Store another user beside the demo one; return their id."""
    with ORMSession(engine) as dbsession, dbsession.begin():
        user = User(username=username, password_hash=hash_password(password))
        dbsession.add(user)
        dbsession.flush()
        return user.id


def log_in(
    testapp: webtest.TestApp,
    password: str = DEMO_PASSWORD,
    remember: bool = False,
    username: str = DEMO_USERNAME,
) -> webtest.TestResponse:
    """Fill and send the login form the way a browser would."""
    form = testapp.get("/login").forms["login-form"]
    form["username"] = username
    form["password"] = password
    form["remember"] = remember
    return form.submit()


def csrf_token(testapp: webtest.TestApp) -> str:
    """The session's CSRF token, as a form of the counter page carries it."""
    return testapp.get("/counter").forms[0]["csrf_token"].value
