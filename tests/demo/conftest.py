"""Fixtures for the demo app: built by its ``main()`` on each backend's database."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
import webtest
from pyramid.router import Router
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as ORMSession

from pyramid_dbsession import get_store
from pyramid_dbsession.demo import main
from pyramid_dbsession.demo.models import DEMO_PASSWORD, DEMO_USERNAME, Base, User
from pyramid_dbsession.demo.passwords import hash_password

from ..conftest import Clock


@pytest.fixture(scope="session")
def demo_tables(database: Engine) -> Iterator[None]:
    """Drop the demo's tables once a backend's tests are done."""
    yield
    Base.metadata.drop_all(database, checkfirst=True)


@pytest.fixture
def app(settings: dict[str, Any], clock: Clock, demo_tables: None) -> Iterator[Router]:
    """The demo app on the backend, its clock in the tests' hands; its rows go afterwards."""
    app = main({}, **settings)
    store = get_store(app.registry)
    store.clock = clock
    yield app
    with store.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    store.dispose()


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
