"""Sessions that know their user: the principal column, rotation, ending other sessions, the limit."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import sqlalchemy as sa
import webtest
from pyramid.authentication import SessionAuthenticationHelper
from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response

from pyramid_dbsession import get_store
from pyramid_dbsession.errors import SessionConflict
from pyramid_dbsession.models import sessions_table

from .conftest import session_rows
from .test_transactions import with_retry

HELPER = SessionAuthenticationHelper()


class PasswordChangeFailed(Exception):
    """Raised by the password-change view after it ended the other sessions."""


def login(request: Request) -> Response:
    HELPER.remember(request, request.params["user"])
    return Response("in")


def logout(request: Request) -> Response:
    HELPER.forget(request)
    request.session.flash("logged out")
    return Response("out")


def csrf(request: Request) -> Response:
    return Response(request.session.get_csrf_token())


def flashes(request: Request) -> Any:
    return request.session.pop_flash()


def end_others(request: Request) -> Response:
    request.session.end_other_sessions()
    if request.params.get("fail"):
        raise PasswordChangeFailed("the new password was refused")
    return Response("ended")


def add_views(config: Configurator) -> None:
    for name, view, renderer in [
        ("login", login, None),
        ("logout", logout, None),
        ("csrf", csrf, None),
        ("flashes", flashes, "json"),
        ("end_others", end_others, None),
    ]:
        config.add_route(name, f"/{name}")
        config.add_view(view, route_name=name, renderer=renderer)


@pytest.fixture
def users(make_testapp: Any) -> webtest.TestApp:
    return make_testapp(add_views)


def principals(engine: sa.Engine) -> list[str | None]:
    return sorted((row.principal for row in session_rows(engine)), key=str)


def browser_of(testapp: webtest.TestApp, user: str) -> webtest.TestApp:
    browser = webtest.TestApp(testapp.app)
    browser.get("/login", {"user": user})
    return browser


def test_login_keeps_the_data_under_a_new_id_with_a_new_csrf_token(users, engine):
    users.get("/set", {"cart": "book"})
    anonymous_id, token = users.cookies["session"], users.get("/csrf").text
    users.get("/login", {"user": "42"})
    assert users.cookies["session"] != anonymous_id
    data = users.get("/show").json
    assert (data["cart"], data["auth.userid"], principals(engine)) == ("book", "42", ["42"])
    assert data["_csrft_"] != token


def test_the_id_before_login_no_longer_opens_the_session(users):
    users.get("/set", {"cart": "book"})
    anonymous_id = users.cookies["session"]
    users.get("/login", {"user": "42"})
    old = webtest.TestApp(users.app)
    old.set_cookie("session", anonymous_id)
    assert old.get("/show").json == {}


def test_switching_users_keeps_only_what_the_request_wrote(users, engine):
    users.get("/login", {"user": "alice"})
    users.get("/set", {"cart": "alice's"})
    alice_id = users.cookies["session"]
    users.get("/login", {"user": "bob"})
    assert users.cookies["session"] != alice_id
    assert (users.get("/show").json, principals(engine)) == ({"auth.userid": "bob"}, ["bob"])


def test_logout_drops_the_users_data_and_keeps_the_flash(users, engine):
    users.get("/login", {"user": "42"})
    users.get("/set", {"cart": "book"})
    token, user_id = users.get("/csrf").text, users.cookies["session"]
    users.get("/logout")
    assert users.cookies["session"] != user_id
    data = users.get("/show").json
    assert (sorted(data), data["_csrft_"] != token, principals(engine)) == (["_csrft_", "_f_"], True, [None])
    assert users.get("/flashes").json == ["logged out"]


def test_an_unchanged_principal_keeps_the_id(users):
    users.get("/login", {"user": "42"})
    user_id = users.cookies["session"]
    users.get("/set", {"cart": "book"})
    users.get("/login", {"user": "42"})
    assert (users.cookies["session"], users.get("/show").json["cart"]) == (user_id, "book")


def test_rotation_can_be_turned_off(make_testapp, engine):
    testapp = make_testapp(add_views, rotate_on_principal_change="false")
    testapp.get("/set", {"cart": "book"})
    anonymous_id = testapp.cookies["session"]
    testapp.get("/login", {"user": "42"})
    assert (testapp.cookies["session"], principals(engine)) == (anonymous_id, ["42"])


def test_another_principal_key_is_followed(make_testapp, engine):
    testapp = make_testapp(principal_key="user")
    testapp.get("/set", {"user": "ann"})
    assert principals(engine) == ["ann"]


def test_no_principal_key_stores_no_principal(make_testapp, engine):
    testapp = make_testapp(add_views, principal_key="none")
    testapp.get("/set", {"cart": "book"})
    anonymous_id = testapp.cookies["session"]
    testapp.get("/login", {"user": "42"})
    assert (testapp.cookies["session"], principals(engine)) == (anonymous_id, [None])


def test_end_other_sessions_ends_the_users_other_sessions_only(users, engine):
    phone, laptop, other = browser_of(users, "42"), browser_of(users, "42"), browser_of(users, "7")
    for browser in (phone, laptop, other):
        browser.get("/set", {"note": "mine"})
    laptop.get("/end_others")
    assert principals(engine) == ["42", "7"]
    assert (phone.get("/show").json, laptop.get("/show").json["note"]) == ({}, "mine")
    assert other.get("/show").json["note"] == "mine"


def test_a_failing_password_change_ends_nothing(users, engine):
    phone, laptop = browser_of(users, "42"), browser_of(users, "42")
    with pytest.raises(PasswordChangeFailed):
        laptop.get("/end_others", {"fail": "1"})
    assert principals(engine) == ["42", "42"] and phone.get("/show").json["auth.userid"] == "42"


def test_a_session_ended_while_its_request_is_in_flight_never_comes_back(make_testapp, engine):
    loaded, ended = threading.Event(), threading.Event()

    def slow_write(request: Request) -> Response:
        request.session.get("note")
        loaded.set()
        ended.wait(10)
        request.session["note"] = "written after the end"
        return Response("written")

    def configure(config: Configurator) -> None:
        add_views(config)
        config.add_route("slow_write", "/slow_write")
        config.add_view(slow_write, route_name="slow_write")

    users = make_testapp(configure)
    phone, laptop = browser_of(users, "42"), browser_of(users, "42")
    failures: list[BaseException] = []

    def in_flight() -> None:
        try:
            phone.get("/slow_write")
        except SessionConflict as exc:
            failures.append(exc)

    thread = threading.Thread(target=in_flight)
    thread.start()
    loaded.wait(10)
    laptop.get("/end_others")
    ended.set()
    thread.join()
    assert (len(failures), principals(engine)) == (1, ["42"])
    assert phone.get("/show").json == {}


def test_end_other_sessions_needs_a_principal_key(make_testapp):
    testapp = make_testapp(add_views, principal_key="none")
    with pytest.raises(Exception, match="principal_key"):
        testapp.get("/end_others")


def test_sessions_of_lists_the_live_sessions_newest_first(users, clock):
    first = browser_of(users, "42")
    clock.advance(60)
    second = browser_of(users, "42")
    browser_of(users, "7")
    clock.advance(60)
    second.get("/set", {"note": "later"})
    records = get_store(users.app.registry).sessions_of(42)
    assert [record.created for record in records] == sorted((record.created for record in records), reverse=True)
    assert [record.get_decoded()["auth.userid"] for record in records] == ["42", "42"]
    newest = records[0]
    assert (newest.principal, newest.last_seen, newest.user_agent, newest.ip_address) == ("42", clock(), None, None)
    assert records[1].last_seen == clock.now.replace(minute=0)
    assert first.get("/show").json["auth.userid"] == "42"


def test_sessions_of_leaves_out_expired_sessions(make_testapp, clock):
    users = make_testapp(add_views, timeout=60)
    browser_of(users, "42")
    clock.advance(120)
    assert get_store(users.app.registry).sessions_of("42") == []


def test_client_info_is_recorded_when_asked(make_testapp):
    users = make_testapp(add_views, client_info="true")
    agent = "Mozilla/5.0 " + "x" * 300
    browser = webtest.TestApp(users.app, extra_environ={"HTTP_USER_AGENT": agent, "REMOTE_ADDR": "2001:db8::7"})
    browser.get("/login", {"user": "42"})
    (record,) = get_store(users.app.registry).sessions_of("42")
    assert (record.user_agent, record.ip_address) == (agent[:255], "2001:db8::7")


def test_end_sessions_of_ends_all_or_all_but_one(users, engine):
    phone, laptop = browser_of(users, "42"), browser_of(users, "42")
    browser_of(users, "42")
    store = get_store(users.app.registry)
    assert store.end_sessions_of("42", keep=laptop.cookies["session"]) == 2
    assert (phone.get("/show").json, laptop.get("/show").json["auth.userid"]) == ({}, "42")
    assert (store.end_sessions_of(42), session_rows(engine)) == (1, [])


def test_the_limit_ends_the_oldest_sessions(make_testapp, engine, clock):
    users = make_testapp(add_views, max_sessions_per_principal=2)
    browsers = []
    for _ in range(4):
        browsers.append(browser_of(users, "42"))
        clock.advance(1)
    assert [browser.get("/show").json.get("auth.userid") for browser in browsers] == [None, None, "42", "42"]
    assert principals(engine) == ["42", "42"]


def test_the_limit_holds_for_simultaneous_logins(make_testapp, engine):
    limit, logins = 2, 7
    start = threading.Barrier(logins)

    def racing_login(request: Request) -> Response:
        request.session.get("auth.userid")
        if not request.environ.get("retry.attempt"):  # replays come one by one
            start.wait(10)
        return login(request)

    def configure(config: Configurator) -> None:
        with_retry(catch_all=False)(config)
        config.add_route("racing_login", "/racing_login")
        config.add_view(racing_login, route_name="racing_login")

    users = make_testapp(configure, max_sessions_per_principal=limit)
    statuses: list[int] = []

    def client() -> None:
        browser = webtest.TestApp(users.app)
        try:
            statuses.append(browser.get("/racing_login", {"user": "42"}, expect_errors=True).status_int)
        except Exception:  # a lost race that ran out of replays: what counts is what is left
            statuses.append(0)

    threads = [threading.Thread(target=client) for _ in range(logins)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with engine.connect() as connection:
        live = connection.execute(
            sa.select(sa.func.count()).select_from(sessions_table).where(sessions_table.c.principal == "42")
        ).scalar_one()
    print(f"{statuses.count(200)} of {logins} simultaneous logins answered 200; {live} sessions live")
    assert 1 <= live <= limit


@pytest.mark.parametrize("lookalike", ["Alice", "alice ", "alíce"])
def test_a_principal_matches_only_itself_byte_for_byte(users, lookalike):
    alice, other = browser_of(users, "alice"), browser_of(users, lookalike)
    store = get_store(users.app.registry)
    assert [record.principal for record in store.sessions_of("alice")] == ["alice"]
    assert store.end_sessions_of("alice") == 1
    assert (alice.get("/show").json, other.get("/show").json["auth.userid"]) == ({}, lookalike)
