"""A commit that fails, or a pool that runs dry, fails the request cleanly and stores nothing.

Restarting the database under load is PostgreSQL-only and lives in ``tests/load``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
import webtest
from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response
from transaction.interfaces import IDataManager
from zope.interface import implementer

from pyramid_dbsession import get_store

from .conftest import session_rows


class CommitRefused(Exception):
    """Raised by :class:`VotingNo` when the transaction asks for its vote."""


@implementer(IDataManager)
class VotingNo:
    """A resource that joins the request's transaction and refuses to commit it.

    Its sort key puts its vote before zope.sqlalchemy's, whose vote commits the
    database: the session's statements have run, but are not yet committed.
    """

    def __init__(self, transaction_manager: Any) -> None:
        self.transaction_manager = transaction_manager

    def abort(self, txn: Any) -> None:
        pass

    def tpc_begin(self, txn: Any) -> None:
        pass

    def commit(self, txn: Any) -> None:
        pass

    def tpc_vote(self, txn: Any) -> None:
        raise CommitRefused("a resource voted no")

    def tpc_finish(self, txn: Any) -> None:
        pass

    def tpc_abort(self, txn: Any) -> None:
        pass

    def sortKey(self) -> str:
        return "!votes-before-sqlalchemy"


def set_then_vote_no(request: Request) -> Response:
    request.session.update(request.params)
    request.tm.get().join(VotingNo(request.tm))
    return Response("changed")


def add_refused_commit(config: Configurator) -> None:
    config.add_route("vote_no", "/vote_no")
    config.add_view(set_then_vote_no, route_name="vote_no")


@pytest.fixture
def refusing_app(make_testapp: Callable[..., webtest.TestApp]) -> webtest.TestApp:
    """An app whose ``/vote_no`` changes the session, then fails its commit with a 503 page."""

    def configure(config: Configurator) -> None:
        add_refused_commit(config)
        config.add_view(lambda exc, request: Response("commit failed", status=503), context=CommitRefused)

    return make_testapp(configure)


def session_statements(testapp: webtest.TestApp) -> list[str]:
    """The SQL statements the session store's engine runs from now on."""
    statements: list[str] = []
    engine = get_store(testapp.app.registry).engine
    sa.event.listen(engine, "before_cursor_execute", lambda conn, cursor, sql, *rest: statements.append(sql))
    return statements


# -- a commit that fails after the session was written -------------------------------


def test_refused_commit_stores_no_new_session(refusing_app, engine):
    statements = session_statements(refusing_app)
    refusing_app.get("/vote_no", {"a": "1"}, status=503)
    assert any(sql.lstrip().upper().startswith("INSERT") for sql in statements)  # the row was written...
    assert session_rows(engine) == []  # ...and rolled back


def test_refused_commit_sends_no_cookie_for_a_new_session(refusing_app):
    response = refusing_app.get("/vote_no", {"a": "1"}, status=503)
    assert "Set-Cookie" not in response.headers


def test_refused_commit_keeps_the_stored_row(refusing_app, engine):
    refusing_app.get("/set", {"a": "before"})
    (before,) = session_rows(engine)
    statements = session_statements(refusing_app)
    refusing_app.get("/vote_no", {"a": "after"}, status=503)
    assert any(sql.lstrip().upper().startswith("UPDATE") for sql in statements)
    assert session_rows(engine) == [before]
    assert refusing_app.get("/show").json == {"a": "before"}


def test_refused_commit_without_an_exception_view_raises_and_stores_nothing(make_testapp, engine):
    testapp = make_testapp(add_refused_commit)
    with pytest.raises(CommitRefused):
        testapp.get("/vote_no", {"a": "1"})
    assert session_rows(engine) == []


# -- the connection pool runs dry ------------------------------------------------------------

DRY_POOL = {"engine.pool_size": "1", "engine.max_overflow": "0", "engine.pool_timeout": "1"}
POOL_TIMEOUT_MESSAGE = r"QueuePool limit of size 1 overflow 0 reached, connection timed out, timeout 1\.00"


class Holder:
    """A request, in its own thread, that holds the write pool's only connection until released."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.holding = threading.Event()
        self.release = threading.Event()
        self.thread = threading.Thread(target=webtest.TestApp(app).get, args=("/hold",))

    def __enter__(self) -> Holder:
        self.thread.start()
        assert self.holding.wait(10), "the holding request never got its connection"
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.release.set()
        self.thread.join(10)


@pytest.fixture
def dry_pool_app(make_testapp: Callable[..., webtest.TestApp]) -> Iterator[tuple[webtest.TestApp, Holder]]:
    """An app whose pools have one connection each, and a :class:`Holder` ready to take the writers'."""
    holder: Holder

    def configure(config: Configurator) -> None:
        def hold(request: Request) -> Response:
            with get_store(request.registry).engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
                holder.holding.set()
                holder.release.wait(10)
            return Response("held")

        config.add_route("hold", "/hold")
        config.add_view(hold, route_name="hold")

    testapp = make_testapp(configure, **DRY_POOL)
    holder = Holder(testapp.app)
    yield testapp, holder
    holder.release.set()


def test_reads_are_served_while_the_write_pool_is_dry(dry_pool_app):
    testapp, holder = dry_pool_app
    testapp.get("/set", {"a": "1"})
    with holder:
        assert testapp.get("/show").json == {"a": "1"}


def test_write_waits_for_the_pool_timeout_and_stores_nothing(dry_pool_app, engine):
    testapp, holder = dry_pool_app
    with holder, pytest.raises(sa.exc.TimeoutError, match=POOL_TIMEOUT_MESSAGE):
        testapp.get("/set", {"a": "1"})
    assert session_rows(engine) == []


def test_session_survives_a_dry_pool_unchanged(dry_pool_app):
    testapp, holder = dry_pool_app
    testapp.get("/set", {"a": "1"})
    with holder, pytest.raises(sa.exc.TimeoutError):
        testapp.get("/set", {"a": "2"})
    assert testapp.get("/show").json == {"a": "1"}
