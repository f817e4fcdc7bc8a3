"""Database matrix, clock, app and testapp fixtures."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
import webtest
from pyramid.config import Configurator
from pyramid.request import Request
from pyramid_retry import IBeforeRetry
from sqlalchemy.engine import Engine

from pyramid_dbsession import SessionStore, get_store
from pyramid_dbsession.ids import session_key_for
from pyramid_dbsession.models import create_table, drop_table, sessions_table

from .sessionapp import make_app

SECRET = "test-secret-that-is-long-enough-to-be-real"
BACKENDS = {
    "sqlite": None,  # a file under tmp_path_factory
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "mariadb": "mysql+pymysql://root@127.0.0.1:3306/test",
}


def backend_url(name: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The URL of a backend: an environment override, the machine's server, or a SQLite file."""
    url = os.environ.get(f"DBSESSION_TEST_{name.upper()}_URL") or BACKENDS[name]
    return url or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"


@pytest.fixture(scope="session", params=sorted(BACKENDS))
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """One engine per backend, with ``core_sessions`` created; CI fails where a server is missing."""
    name = request.param
    engine = sa.create_engine(backend_url(name, tmp_path_factory))
    try:
        engine.connect().close()
    except sa.exc.OperationalError as exc:
        engine.dispose()
        if os.environ.get("CI"):
            raise
        pytest.skip(f"{name} is not reachable here: {exc.orig}")
    drop_table(engine)
    create_table(engine)
    yield engine
    drop_table(engine)
    engine.dispose()


@pytest.fixture
def engine(database: Engine) -> Engine:
    """The backend's engine, with ``core_sessions`` emptied."""
    with database.begin() as connection:
        connection.execute(sessions_table.delete())
    return database


class Clock:
    """A clock the tests move by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(engine: Engine) -> dict[str, Any]:
    """The app's settings; tests change them before asking for ``app``."""
    return {
        "dbsession.url": engine.url.render_as_string(hide_password=False),
        "dbsession.secret": SECRET,
        # The suite was written for sessions that live the full timeout from their first request;
        # tests/test_unconfirmed.py turns the short first lifetime back on.
        "dbsession.unconfirmed_timeout": "none",
    }


@pytest.fixture
def open_stores() -> Iterator[list[SessionStore]]:
    """The stores a test opened, closed once it is done."""
    stores: list[SessionStore] = []
    yield stores
    for store in stores:
        store.dispose()


@pytest.fixture
def make_testapp(
    settings: dict[str, Any], clock: Clock, open_stores: list[SessionStore]
) -> Callable[..., webtest.TestApp]:
    """Build a ``webtest.TestApp`` of the test views; keyword arguments are extra settings."""

    def build(configure: Any = None, **extra: Any) -> webtest.TestApp:
        app = make_app({**settings, **{f"dbsession.{key}": value for key, value in extra.items()}}, configure)
        store = get_store(app.registry)
        store.clock = clock
        open_stores.append(store)
        return webtest.TestApp(app)

    return build


@pytest.fixture
def testapp(make_testapp: Callable[..., webtest.TestApp]) -> webtest.TestApp:
    return make_testapp()


class Retries:
    """The exceptions pyramid_retry replayed, by class name: ``configure`` adds it with 3 attempts."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def configure(self, config: Configurator) -> None:
        config.add_settings({"retry.attempts": 3})
        config.include("pyramid_retry")
        config.add_subscriber(lambda event: self.seen.append(type(event.exception).__name__), IBeforeRetry)


@pytest.fixture
def retries() -> Retries:
    return Retries()


def session_rows(engine: Engine) -> list[Any]:
    """Every row of ``core_sessions``."""
    with engine.connect() as connection:
        return list(connection.execute(sa.select(sessions_table)))


def commit_elsewhere(request: Request, later: timedelta = timedelta(0), **changes: Any) -> None:
    """Another request of ``request``'s session commits ``changes`` first, its expiry ``later`` than stored."""
    store = get_store(request.registry)
    session_key = session_key_for(request.cookies["session"])
    stored = store.load(session_key)
    assert stored is not None
    text = store.codec.encode(session_key, {**store.decode(stored), **changes})
    with store.engine.begin() as connection:
        assert store.update(connection, session_key, stored.version, text, stored.expire_date + later)


@contextmanager
def listening(target: Any, name: str, handler: Callable[..., Any]) -> Iterator[None]:
    """Keep ``handler`` listening to the ``name`` events of ``target`` while the block runs."""
    sa.event.listen(target, name, handler)
    try:
        yield
    finally:
        sa.event.remove(target, name, handler)


FIGURES = pytest.StashKey[list[tuple[str, list[str]]]]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[FIGURES] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    for title, lines in config.stash.get(FIGURES, []):
        terminalreporter.write_sep("-", title)
        for line in lines:
            terminalreporter.write_line(line)


class Figures:
    """Lines a test wants printed in the terminal summary (figures measured under load), even when it fails."""

    def __init__(self, config: pytest.Config, title: str) -> None:
        self._lines: list[str] = []
        config.stash[FIGURES].append((title, self._lines))

    def add(self, *lines: str) -> None:
        self._lines.extend(lines)


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Figures:
    return Figures(request.config, request.node.nodeid)
