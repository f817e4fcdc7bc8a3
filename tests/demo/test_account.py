"""The account page through WebTest on every backend: the user's sessions, "log out everywhere else", the password."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
import webtest
from pyramid.router import Router
from sqlalchemy.orm import Session as ORMSession

from pyramid_dbsession import get_store
from pyramid_dbsession.demo.models import DEMO_PASSWORD

from ..conftest import Clock, listening
from .conftest import add_user, csrf_token, log_in, table_rows

NEW_PASSWORD = "a-new-password"


class CommitFailed(Exception):
    """Raised when the request's SQLAlchemy session is about to commit, in the test that makes it fail."""


@pytest.fixture
def laptop(app: Router) -> webtest.TestApp:
    """A browser logged in as the demo user."""
    browser = webtest.TestApp(app, extra_environ={"HTTP_USER_AGENT": "Laptop/1.0"})
    log_in(browser)
    return browser


@pytest.fixture
def phone(app: Router, laptop: webtest.TestApp, clock: Clock) -> webtest.TestApp:
    """A second browser of the demo user, logged in a minute after the laptop."""
    clock.advance(60)
    browser = webtest.TestApp(app, extra_environ={"HTTP_USER_AGENT": "Phone/2.0"})
    log_in(browser)
    return browser


def is_logged_in(browser: webtest.TestApp) -> bool:
    return browser.get("/account").status_int == 200


def session_cells(browser: webtest.TestApp, column: str) -> list[str]:
    """One column of the account page's sessions table, newest session first."""
    return [cell.text for cell in browser.get("/account").html.select(f"#sessions td.{column}")]


def this_one(browser: webtest.TestApp) -> str:
    """The creation time of the row the account page marks as this session."""
    (cell,) = browser.get("/account").html.select("#sessions tr.this-one td.created")
    return str(cell.text)


def password_form(browser: webtest.TestApp, current: str, new: str = NEW_PASSWORD) -> webtest.Form:
    """The account page's password form, filled in."""
    form = browser.get("/account").forms["password-form"]
    form["current_password"], form["new_password"] = current, new
    return form


def change_password(browser: webtest.TestApp, current: str, new: str = NEW_PASSWORD) -> webtest.TestResponse:
    return password_form(browser, current, new).submit()


def stored_password_hash(engine: sa.Engine) -> str:
    (user,) = table_rows(engine, "users")
    return str(user.password_hash)


# -- the list of sessions ----------------------------------------------------------


def test_account_page_lists_each_session_of_the_user(laptop, phone):
    assert len(session_cells(laptop, "created")) == 2


def test_account_page_lists_the_newest_session_first(laptop, phone, clock):
    assert session_cells(laptop, "created") == [
        f"{clock.now:%Y-%m-%d %H:%M}",
        f"{clock.now - timedelta(minutes=1):%Y-%m-%d %H:%M}",
    ]


def test_account_page_marks_this_session(laptop, phone, clock):
    assert this_one(phone) == f"{clock.now:%Y-%m-%d %H:%M}"


def test_account_page_marks_each_browsers_own_session(laptop, phone):
    assert this_one(laptop) != this_one(phone)


def test_account_page_leaves_out_other_users_sessions(app, laptop, engine):
    add_user(engine, "other", "other-password")
    log_in(webtest.TestApp(app), username="other", password="other-password")
    assert len(session_cells(laptop, "created")) == 1


def test_account_page_shows_when_a_session_was_last_active(laptop, clock):
    clock.advance(3600)
    laptop.get("/counter")  # a write: the row's last_seen moves
    assert session_cells(laptop, "last-seen") == [f"{clock.now:%Y-%m-%d %H:%M}"]


def test_account_page_without_client_info_does_not_record_the_browser(laptop, phone):
    assert session_cells(laptop, "user-agent") == ["not recorded", "not recorded"]


def test_account_page_with_client_info_shows_each_browser(settings: dict[str, Any], request):
    settings["dbsession.client_info"] = "true"  # read when the fixtures below build the app
    request.getfixturevalue("phone")
    laptop = request.getfixturevalue("laptop")
    assert session_cells(laptop, "user-agent") == ["Phone/2.0", "Laptop/1.0"]


def test_account_page_of_a_single_session_has_no_log_out_everywhere_button(laptop):
    assert "end-other-sessions-form" not in laptop.get("/account").forms


# -- log out everywhere else -------------------------------------------------------


def test_log_out_everywhere_else_ends_the_other_sessions(laptop, phone):
    laptop.get("/account").forms["end-other-sessions-form"].submit()
    assert not is_logged_in(phone)


def test_log_out_everywhere_else_keeps_this_session(laptop, phone):
    response = laptop.get("/account").forms["end-other-sessions-form"].submit().follow()
    assert "Your other sessions are logged out." in response.text
    assert len(session_cells(laptop, "created")) == 1


def test_log_out_everywhere_else_leaves_other_users_alone(app, laptop, phone, engine):
    add_user(engine, "other", "other-password")
    other = webtest.TestApp(app)
    log_in(other, username="other", password="other-password")
    laptop.get("/account").forms["end-other-sessions-form"].submit()
    assert is_logged_in(other)


def test_log_out_everywhere_else_without_csrf_token_ends_nothing(laptop, phone):
    response = laptop.post("/account/end-other-sessions", expect_errors=True)
    assert response.status_int == 400 and is_logged_in(phone)


def test_log_out_everywhere_else_of_an_anonymous_visitor_asks_to_log_in(testapp):
    response = testapp.post("/account/end-other-sessions", {"csrf_token": csrf_token(testapp)})
    assert response.location == "http://localhost/login"


# -- changing the password ---------------------------------------------------------


def test_password_change_lets_the_new_password_log_in(app, laptop):
    change_password(laptop, DEMO_PASSWORD)
    assert log_in(webtest.TestApp(app), password=NEW_PASSWORD).location == "http://localhost/account"


def test_password_change_refuses_the_old_password_afterwards(app, laptop):
    change_password(laptop, DEMO_PASSWORD)
    assert log_in(webtest.TestApp(app)).status_int == 200  # the form again, with its error


def test_password_change_ends_the_other_sessions(laptop, phone):
    response = change_password(laptop, DEMO_PASSWORD).follow()
    assert "Your password is changed, and your other sessions are logged out." in response.text
    assert not is_logged_in(phone)


def test_password_change_keeps_this_session_under_a_new_id(laptop, phone):
    before = laptop.cookies["session"]
    change_password(laptop, DEMO_PASSWORD)
    assert laptop.cookies["session"] != before and get_store(laptop.app.registry).get(before) is None
    assert is_logged_in(laptop)


def test_password_change_commits_the_password_and_the_sessions_together(laptop, phone, app):
    form = password_form(laptop, DEMO_PASSWORD)
    commits: list[Any] = []
    with listening(get_store(app.registry).engine, "commit", commits.append):
        form.submit()
    assert len(commits) == 1


def test_password_change_with_a_wrong_current_password_ends_nothing(laptop, phone, engine):
    before = stored_password_hash(engine)
    response = change_password(laptop, "not-the-password").follow()
    assert "Your current password didn&#39;t match." in response.text
    assert is_logged_in(phone) and stored_password_hash(engine) == before


def test_password_change_to_a_short_password_ends_nothing(laptop, phone, engine):
    before = stored_password_hash(engine)
    response = change_password(laptop, DEMO_PASSWORD, new="short").follow()
    assert "A new password has at least 8 characters." in response.text
    assert is_logged_in(phone) and stored_password_hash(engine) == before


def refuse_commit(dbsession: ORMSession) -> None:
    raise CommitFailed("the commit was refused")


def test_password_change_whose_commit_fails_ends_nothing(laptop, phone, engine):
    before = stored_password_hash(engine)
    form = password_form(laptop, DEMO_PASSWORD)
    # The request's statements have run (the other sessions' rows deleted) when its commit fails.
    with listening(ORMSession, "before_commit", refuse_commit), pytest.raises(CommitFailed):
        form.submit()
    assert is_logged_in(phone) and is_logged_in(laptop) and stored_password_hash(engine) == before


def test_password_change_without_csrf_token_is_refused(laptop, engine):
    before = stored_password_hash(engine)
    response = laptop.post(
        "/account/password", {"current_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD}, expect_errors=True
    )
    assert response.status_int == 400 and stored_password_hash(engine) == before


def test_password_change_of_an_anonymous_visitor_asks_to_log_in(testapp):
    response = testapp.post("/account/password", {"csrf_token": csrf_token(testapp)})
    assert response.location == "http://localhost/login"
