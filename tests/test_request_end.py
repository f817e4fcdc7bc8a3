"""How a request ends: nothing of an uncommitted transaction reaches the browser, and the plan holds.

One test per defect the core's second pass fixed, through WebTest, on every backend.
"""

from __future__ import annotations

import collections.abc
import contextlib
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
import transaction
import webtest
from pyramid.config import Configurator
from pyramid.request import Request
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as ORMSession

from pyramid_dbsession import BadSignature, SessionConflict, SessionRecord, TransientDatabaseError, get_store
from pyramid_dbsession.settings import DEFAULT_TIMEOUT
from pyramid_dbsession.wsgi import ENVIRON_KEY, SessionMiddleware

from .conftest import SECRET, Clock, session_rows
from .test_wsgi import outer_transaction


class Refused(Exception):
    """Raised by views after changing the session, so that the transaction aborts."""


def add_views(**views: Callable[[Request], Any]) -> Callable[[Configurator], None]:
    """A ``configure`` hook adding each view under ``/<name>``, rendered as JSON."""

    def configure(config: Configurator) -> None:
        for name, view in views.items():
            config.add_route(name, f"/{name}")
            config.add_view(view, route_name=name, renderer="json")

    return configure


def clear_and_raise(request: Request) -> None:
    request.session.clear()
    raise Refused


def invalidate_and_raise(request: Request) -> None:
    request.session.invalidate()
    raise Refused


def invalidate_and_doom(request: Request) -> dict[str, str]:
    request.session.invalidate()
    request.tm.doom()
    return {}


@pytest.fixture
def logged_in(make_testapp: Callable[..., webtest.TestApp]) -> webtest.TestApp:
    """A client whose stored session holds ``user_id``, with the aborting views."""
    testapp = make_testapp(
        add_views(
            clear_and_raise=clear_and_raise,
            invalidate_and_raise=invalidate_and_raise,
            invalidate_and_doom=invalidate_and_doom,
        )
    )
    testapp.get("/set", {"user_id": "42"})
    return testapp


@pytest.mark.parametrize("path", ["/clear_and_raise", "/invalidate_and_raise"])
def test_rolled_back_logout_keeps_the_browsers_cookie(logged_in, engine, path):
    with pytest.raises(Refused):
        logged_in.get(path)
    assert len(session_rows(engine)) == 1 and logged_in.get("/show").json == {"user_id": "42"}


def test_rolled_back_logout_sends_no_set_cookie(logged_in):
    app = logged_in.app

    def catch(environ: dict[str, Any], start_response: Any) -> Any:
        try:
            return app(environ, start_response)
        except Refused:
            start_response("500 Internal Server Error", [])
            return [b""]

    browser = webtest.TestApp(catch, cookiejar=logged_in.cookiejar)
    assert "Set-Cookie" not in browser.get("/invalidate_and_raise", status=500).headers


def test_doomed_logout_sends_no_set_cookie_and_keeps_the_row(logged_in, engine):
    response = logged_in.get("/invalidate_and_doom")
    assert "Set-Cookie" not in response.headers and len(session_rows(engine)) == 1


def test_middleware_error_after_clear_sends_no_set_cookie(engine, clock):
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        session = environ[ENVIRON_KEY]
        if environ["PATH_INFO"] == "/login":
            session["user_id"] = 42
            start_response("200 OK", [])
        else:
            session.clear()
            start_response("500 Internal Server Error", [])
        return [b""]

    client = webtest.TestApp(SessionMiddleware(app, engine, SECRET, clock=clock))
    client.get("/login")
    response = client.get("/logout", status=500)
    assert "Set-Cookie" not in response.headers and len(session_rows(engine)) == 1


def test_regenerate_after_a_delete_elsewhere_is_a_conflict_and_resurrects_nothing(make_testapp, engine):
    def read_then_regenerate(request: Request) -> dict[str, Any]:
        cart = request.session["cart"]
        get_store(request.registry).delete(request.cookies["session"])  # the inspector, the cleanup, a logout
        request.session.regenerate_id()
        return {"cart": cart}

    testapp = make_testapp(add_views(read_then_regenerate=read_then_regenerate))
    testapp.get("/append", {"item": "book"})
    with pytest.raises(SessionConflict):
        testapp.get("/read_then_regenerate")
    assert session_rows(engine) == []


def test_regenerate_conflict_replays_into_a_session_that_is_gone(make_testapp, engine):
    def configure(config: Configurator) -> None:
        config.add_settings({"retry.attempts": 3})
        config.include("pyramid_retry")
        deleted: list[bool] = []

        def read_then_regenerate(request: Request) -> dict[str, Any]:
            cart = request.session.get("cart")
            if not deleted:
                deleted.append(get_store(request.registry).delete(request.cookies["session"]))
            request.session.regenerate_id()
            return {"cart": cart}

        add_views(read_then_regenerate=read_then_regenerate)(config)

    testapp = make_testapp(configure)
    testapp.get("/append", {"item": "book"})
    assert testapp.get("/read_then_regenerate").json == {"cart": None}
    assert session_rows(engine) == []


def test_deleting_a_missing_key_changes_nothing(make_testapp, engine):
    def logout(request: Request) -> str:
        with contextlib.suppress(KeyError):  # the seed's logout view
            del request.session["user_id"]
        return "ok"

    testapp = make_testapp(add_views(logout=logout))
    testapp.get("/set", {"cart": "book"})
    response = testapp.get("/logout")
    assert "Set-Cookie" not in response.headers and [row.version for row in session_rows(engine)] == [1]


def test_expire_date_is_the_stored_one_until_the_reissue_time(testapp, clock: Clock):
    testapp.get("/set", {"a": "1"})
    stored = clock.now + timedelta(seconds=DEFAULT_TIMEOUT)
    clock.advance(3600)
    assert testapp.get("/meta").json["expire_date"] == stored.isoformat()


def set_color(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """A WSGI app that stores one key in the middleware's session."""
    environ[ENVIRON_KEY]["color"] = "blue"
    start_response("200 OK", [])
    return [b""]


def test_middleware_under_an_aborting_outer_transaction_sends_no_cookie(engine, clock):
    manager = transaction.TransactionManager(explicit=True)

    inner = SessionMiddleware(set_color, engine, SECRET, transaction_manager=manager, clock=clock)
    response = webtest.TestApp(outer_transaction(inner, manager, commit=False)).get("/")
    assert "Set-Cookie" not in response.headers and session_rows(engine) == []


def test_middleware_under_a_committing_outer_transaction_sends_the_cookie(engine, clock):
    manager = transaction.TransactionManager(explicit=True)

    inner = SessionMiddleware(set_color, engine, SECRET, transaction_manager=manager, clock=clock)
    response = webtest.TestApp(outer_transaction(inner, manager, commit=True)).get("/")
    assert "Set-Cookie" in response.headers and len(session_rows(engine)) == 1


def orm_record(engine: Engine) -> SessionRecord:
    """The one stored row, loaded through the ORM as pshell or an admin script would."""
    with ORMSession(engine) as dbsession:
        return dbsession.execute(sa.select(SessionRecord)).scalar_one()


def test_orm_loaded_row_decodes_with_its_own_apps_secret(make_testapp, engine):
    first = make_testapp()
    first.get("/set", {"app": "first"})
    make_testapp(secret="another-secret-that-is-long-enough-to-be-real")  # a second app, opened later
    assert orm_record(engine).get_decoded() == {"app": "first"}


def test_orm_loaded_row_decodes_beside_a_store_with_its_secret_but_another_serializer(make_testapp, engine):
    first = make_testapp()
    first.get("/set", {"app": "first"})
    make_testapp(serializer="json")  # the same secret, reading JSON only
    assert orm_record(engine).get_decoded() == {"app": "first"}


def test_orm_loaded_row_signed_by_no_open_store_names_store_decode(make_testapp, engine):
    testapp = make_testapp()
    testapp.get("/set", {"a": "1"})
    record = orm_record(engine)
    record.session_data = get_store(testapp.app.registry).codec.encode(record.session_key, {})[:-4] + "AAA="
    with pytest.raises(BadSignature, match=r"store\.decode"):
        record.get_decoded()


def lock_error_options(engine: Engine) -> dict[str, Any]:
    """Engine options that make a write give up quickly on a lock another connection holds."""
    if engine.dialect.name == "sqlite":
        return {"connect_args": {"timeout": 0.1}}
    if engine.dialect.name == "postgresql":
        return {"connect_args": {"options": "-c lock_timeout=200"}}
    return {"connect_args": {"init_command": "SET SESSION innodb_lock_wait_timeout = 1"}}


def test_lock_error_keeps_the_pooled_connections(make_testapp, engine):
    testapp = make_testapp(**{"engine." + key: value for key, value in lock_error_options(engine).items()})
    testapp.get("/set", {"a": "1"})
    store = get_store(testapp.app.registry)
    pool = store.engine.pool
    with engine.connect() as blocker:
        if engine.dialect.name == "sqlite":
            blocker.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            blocker.begin()
            blocker.execute(sa.text("SELECT version FROM core_sessions FOR UPDATE")).all()
        with pytest.raises((sa.exc.OperationalError, TransientDatabaseError)):  # SQLite has no lock wait code
            testapp.get("/set", {"a": "2"})
        blocker.rollback()
    assert store.engine.pool is pool and testapp.get("/show").json == {"a": "1"}


def test_session_reads_are_logged_when_sql_logging_is_on(testapp, caplog):
    testapp.get("/set", {"a": "1"})
    with caplog.at_level(logging.INFO, logger="sqlalchemy.engine"):
        testapp.get("/show")
    assert any("core_sessions" in record.getMessage() for record in caplog.records)


def test_session_reads_are_logged_with_engine_echo(make_testapp, caplog):
    testapp = make_testapp(**{"engine.echo": "true"})
    testapp.get("/set", {"a": "1"})
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="sqlalchemy.engine"):
        testapp.get("/show")
    assert any(record.getMessage().startswith("SELECT") for record in caplog.records)


def test_session_is_a_mutable_mapping_that_compares_to_dicts(make_testapp):
    def dict_like(request: Request) -> dict[str, Any]:
        session = request.session
        merged = session | {"b": "2"}
        session |= {"c": "3"}
        copied = session.copy()
        return {
            "mapping": isinstance(session, collections.abc.MutableMapping),
            "equal": session == {"a": "1", "c": "3"},
            "merged": merged,
            "copy_is_dict": type(copied) is dict,
        }

    testapp = make_testapp(add_views(dict_like=dict_like))
    testapp.get("/set", {"a": "1"})
    assert testapp.get("/dict_like").json == {
        "mapping": True,
        "equal": True,
        "merged": {"a": "1", "b": "2"},
        "copy_is_dict": True,
    }
    assert testapp.get("/show").json == {"a": "1", "c": "3"}
