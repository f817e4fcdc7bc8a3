"""Session writes live and die with the request's transaction, and never lose an update."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
import webtest
import zope.sqlalchemy
from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as ORMSession

import pyramid_dbsession.db.store
from pyramid_dbsession import DBSessionFactory, SessionConflict, SessionTooLarge, get_store

from .conftest import SECRET, commit_elsewhere, session_rows
from .sessionapp import ROUTES

notes_metadata = sa.MetaData()
notes = sa.Table(
    "app_notes", notes_metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("text", sa.String(50))
)


@pytest.fixture
def app_engine(engine: Engine) -> Iterator[Engine]:
    """The application's own engine on the same database, with its ``app_notes`` table."""
    app_engine = sa.create_engine(engine.url)
    notes_metadata.drop_all(app_engine)
    notes_metadata.create_all(app_engine)
    yield app_engine
    notes_metadata.drop_all(app_engine)
    app_engine.dispose()


def add_app_dbsession(app_engine: Engine, statements: list[str]) -> Any:
    """Configure ``request.dbsession`` as the Pyramid starter does, and two note views."""
    sa.event.listen(app_engine, "before_cursor_execute", lambda conn, cursor, sql, *rest: statements.append(sql))

    def dbsession(request: Request) -> ORMSession:
        session = ORMSession(app_engine)
        zope.sqlalchemy.register(session, transaction_manager=request.tm)
        return session

    def note(request: Request) -> Response:
        request.dbsession.execute(notes.insert().values(text=request.params["text"]))
        request.session["noted"] = request.params["text"]
        if request.params.get("fail"):
            raise RuntimeError("the view failed after writing both")
        return Response("noted")

    def configure(config: Configurator) -> None:
        config.add_request_method(dbsession, "dbsession", reify=True)
        config.add_route("note", "/note")
        config.add_view(note, route_name="note")

    return configure


def note_texts(app_engine: Engine) -> list[str]:
    with app_engine.connect() as connection:
        return list(connection.execute(sa.select(notes.c.text)).scalars())


def test_app_row_and_session_commit_together(make_testapp, app_engine, engine):
    statements: list[str] = []
    testapp = make_testapp(add_app_dbsession(app_engine, statements), request_dbsession="dbsession")
    testapp.get("/note", {"text": "hello"})
    assert note_texts(app_engine) == ["hello"]
    assert testapp.get("/show").json == {"noted": "hello"}


def test_session_rows_are_written_on_the_apps_connection(make_testapp, app_engine):
    statements: list[str] = []
    testapp = make_testapp(add_app_dbsession(app_engine, statements), request_dbsession="dbsession")
    testapp.get("/note", {"text": "hello"})
    assert any(sql.lstrip().upper().startswith("INSERT") and "core_sessions" in sql for sql in statements)


def test_failing_view_stores_neither_app_row_nor_session(make_testapp, app_engine, engine):
    statements: list[str] = []
    testapp = make_testapp(add_app_dbsession(app_engine, statements), request_dbsession="dbsession")
    with pytest.raises(RuntimeError, match="the view failed"):
        testapp.get("/note", {"text": "lost", "fail": "1"})
    assert note_texts(app_engine) == [] and session_rows(engine) == []


def test_failing_view_sends_no_cookie_for_a_new_session(make_testapp, app_engine):
    statements: list[str] = []

    def configure(config: Configurator) -> None:
        add_app_dbsession(app_engine, statements)(config)
        config.add_view(lambda exc, request: Response("sorry", status=500), context=RuntimeError)

    testapp = make_testapp(configure, request_dbsession="dbsession")
    response = testapp.get("/note", {"text": "lost", "fail": "1"}, status=500)
    assert "Set-Cookie" not in response.headers


def make_interrupting_view(config: Configurator) -> None:
    def interrupted(request: Request) -> Response:
        request.session.get("a")
        get_store(request.registry).delete(request.cookies["session"])  # another request logs out
        request.session["a"] = "changed"
        return Response("changed")

    config.add_route("interrupted", "/interrupted")
    config.add_view(interrupted, route_name="interrupted")


def test_write_to_a_deleted_row_fails_and_never_resurrects_it(make_testapp, engine):
    testapp = make_testapp(make_interrupting_view)
    testapp.get("/set", {"a": "1"})
    old = testapp.cookies["session"]
    with pytest.raises(SessionConflict):
        testapp.get("/interrupted")
    assert session_rows(engine) == []
    testapp.reset()
    testapp.set_cookie("session", old)
    assert testapp.get("/show").json == {}


def test_new_session_survives_an_id_collision(testapp, engine, monkeypatch):
    testapp.get("/set", {"owner": "first"})
    taken = testapp.cookies["session"]
    ids = iter([taken, "F" * 43])
    monkeypatch.setattr(pyramid_dbsession.db.store, "new_session_id", lambda: next(ids))
    second = webtest.TestApp(testapp.app)
    second.get("/set", {"owner": "second"})
    assert second.cookies["session"] == "F" * 43
    assert testapp.get("/show").json == {"owner": "first"}


def with_retry(catch_all: bool) -> Any:
    def configure(config: Configurator) -> None:
        config.add_settings({"retry.attempts": 3})
        config.include("pyramid_retry")
        if catch_all:
            config.add_view(lambda exc, request: Response("error", status=500), context=Exception)

    return configure


def increment_concurrently(app: Any, cookie: str, threads: int, rounds: int) -> int:
    """Run ``threads`` clients incrementing one session's counter; return their successes."""
    successes = [0] * threads
    start = threading.Barrier(threads)

    def client(index: int) -> None:
        browser = webtest.TestApp(app)
        browser.set_cookie("session", cookie)
        start.wait()
        for _ in range(rounds):
            try:
                response = browser.get("/incr", expect_errors=True)
            except SessionConflict:  # retries ran out, and no exception view rendered it
                continue
            successes[index] += response.status_int == 200

    workers = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(successes)


@pytest.mark.parametrize("catch_all", [False, True], ids=["plain", "catch-all-view"])
def test_concurrent_increments_never_lose_an_update(make_testapp, catch_all):
    testapp = make_testapp(with_retry(catch_all))
    testapp.get("/incr")
    cookie = testapp.cookies["session"]
    successes = increment_concurrently(testapp.app, cookie, threads=4, rounds=25)
    assert testapp.get("/show").json["counter"] == successes + 1
    print(f"{successes} of 100 concurrent increments succeeded")
    assert successes >= 90


def test_factory_set_without_the_include_still_saves_in_the_transaction(engine, clock):
    factory = DBSessionFactory(engine, SECRET, clock=clock)
    with Configurator() as config:
        config.include("pyramid_tm")
        config.set_session_factory(factory)
        for name in ROUTES:
            config.add_route(name, f"/{name}")
        config.scan("tests.sessionapp")
    testapp = webtest.TestApp(config.make_wsgi_app())
    testapp.get("/set", {"a": "1"})
    assert testapp.get("/show").json == {"a": "1"}
    with pytest.raises(Exception, match="the view failed"):
        testapp.get("/fail")
    assert testapp.get("/show").json == {"a": "1"}


def test_exception_view_renders_an_oversized_session(make_testapp, engine):
    def configure(config: Configurator) -> None:
        config.add_view(lambda exc, request: Response("too large", status=413), context=SessionTooLarge)

    testapp = make_testapp(configure, max_size=100)
    response = testapp.get("/set", {"a": "x" * 500}, status=413)
    assert "Set-Cookie" not in response.headers and session_rows(engine) == []


def interrupted_once(attempts: list[int], **elsewhere: str) -> Any:
    """``/interrupted_once``: reads and writes ``a``; on its first attempt ``elsewhere`` is committed in between."""

    def configure(config: Configurator) -> None:
        with_retry(catch_all=True)(config)

        def interrupted(request: Request) -> Response:
            request.session.get("a")
            attempts.append(len(attempts) + 1)
            if len(attempts) == 1:
                commit_elsewhere(request, **elsewhere)
            request.session["a"] = "changed"
            return Response("changed")

        config.add_route("interrupted_once", "/interrupted_once")
        config.add_view(interrupted, route_name="interrupted_once")

    return configure


def test_conflict_rendered_by_a_catch_all_view_is_still_replayed(make_testapp):
    attempts: list[int] = []
    # The concurrent request writes the key this one reads and writes: a real conflict, never merged.
    testapp = make_testapp(interrupted_once(attempts, a="elsewhere"))
    testapp.get("/set", {"a": "1"})
    response = testapp.get("/interrupted_once")
    assert (response.text, attempts) == ("changed", [1, 2])
    assert testapp.get("/show").json == {"a": "changed"}


def test_concurrent_write_of_another_key_is_merged_without_a_replay(make_testapp):
    attempts: list[int] = []
    testapp = make_testapp(interrupted_once(attempts, b="elsewhere"))
    testapp.get("/set", {"a": "1"})
    response = testapp.get("/interrupted_once")
    assert (response.text, attempts) == ("changed", [1])
    assert testapp.get("/show").json == {"a": "changed", "b": "elsewhere"}


def test_concurrent_write_of_another_key_is_replayed_with_merging_off(make_testapp):
    attempts: list[int] = []
    testapp = make_testapp(interrupted_once(attempts, b="elsewhere"), merge_conflicts="false")
    testapp.get("/set", {"a": "1"})
    testapp.get("/interrupted_once")
    assert (attempts, testapp.get("/show").json) == ([1, 2], {"a": "changed", "b": "elsewhere"})
