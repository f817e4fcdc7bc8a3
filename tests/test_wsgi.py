"""SessionMiddleware gives any WSGI app the same sessions, with or without an outer transaction."""

from __future__ import annotations

import json
from typing import Any

import pytest
import transaction
import webtest

from pyramid_dbsession.wsgi import ENVIRON_KEY, SessionMiddleware, filter_factory

from .conftest import SECRET, session_rows


def plain_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Set the query's keys in the session, or fail, as the path says."""
    path = environ["PATH_INFO"]
    if path == "/untouched":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]
    session = environ[ENVIRON_KEY]
    query = dict(pair.split("=", 1) for pair in environ.get("QUERY_STRING", "").split("&") if pair)
    session.update(query)
    if path == "/raise":
        raise RuntimeError("the app failed")
    status = "500 Internal Server Error" if path == "/error" else "200 OK"
    start_response(status, [("Content-Type", "application/json")])
    return [json.dumps(dict(session)).encode()]


@pytest.fixture
def middleware(engine, clock):
    return SessionMiddleware(plain_app, engine, SECRET, clock=clock)


@pytest.fixture
def client(middleware):
    return webtest.TestApp(middleware)


def test_untouched_request_sets_no_cookie(client, engine):
    response = client.get("/untouched")
    assert "Set-Cookie" not in response.headers and "Vary" not in response.headers


def test_session_data_is_stored_and_read_back(client):
    client.get("/set?color=blue")
    assert client.get("/show").json == {"color": "blue"}


def test_accessed_session_varies_by_cookie(client):
    assert client.get("/show").headers["Vary"] == "Cookie"


def test_server_error_stores_nothing(client, engine):
    response = client.get("/error?color=blue", status=500)
    assert "Set-Cookie" not in response.headers and session_rows(engine) == []


def test_raising_app_stores_nothing(client, engine):
    with pytest.raises(RuntimeError, match="the app failed"):
        client.get("/raise?color=blue")
    assert session_rows(engine) == []


def test_forged_cookie_gets_a_fresh_session(client):
    client.set_cookie("session", "F" * 43)
    assert client.get("/show").json == {}


def outer_transaction(app: Any, manager: transaction.TransactionManager, commit: bool) -> Any:
    """A transaction middleware wrapping ``app``, as repoze.tm2 would."""

    def wrapped(environ: dict[str, Any], start_response: Any) -> Any:
        manager.begin()
        try:
            return list(app(environ, start_response))
        finally:
            manager.commit() if commit else manager.abort()

    return wrapped


def test_middleware_joins_an_active_transaction_that_commits(engine, clock):
    manager = transaction.TransactionManager(explicit=True)
    inner = SessionMiddleware(plain_app, engine, SECRET, transaction_manager=manager, clock=clock)
    webtest.TestApp(outer_transaction(inner, manager, commit=True)).get("/set?color=blue")
    assert len(session_rows(engine)) == 1


def test_middleware_joins_an_active_transaction_that_aborts(engine, clock):
    manager = transaction.TransactionManager(explicit=True)
    inner = SessionMiddleware(plain_app, engine, SECRET, transaction_manager=manager, clock=clock)
    webtest.TestApp(outer_transaction(inner, manager, commit=False)).get("/set?color=blue")
    assert session_rows(engine) == []


def test_paste_filter_builds_the_middleware(engine):
    url = engine.url.render_as_string(hide_password=False)
    wrapped = filter_factory({}, url=url, secret=SECRET, timeout="600")(plain_app)
    try:
        response = webtest.TestApp(wrapped).get("/set?color=blue")
        assert "Max-Age=600" in response.headers["Set-Cookie"]
    finally:
        wrapped.store.engine.dispose()
