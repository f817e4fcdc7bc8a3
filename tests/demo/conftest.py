"""Fixtures for the demo app: built by its ``main()`` on each backend's database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
import webtest
from pyramid.router import Router
from sqlalchemy.engine import Engine

from pyramid_dbsession import get_store
from pyramid_dbsession.demo import main
from pyramid_dbsession.demo.models import Base

from ..conftest import Clock


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
