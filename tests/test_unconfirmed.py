"""A new session's first row lives an hour until its cookie comes back: bots leave no two-week rows."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pyramid_dbsession.settings import DEFAULT_TIMEOUT

from .conftest import session_rows

HOUR = 3600


@pytest.fixture
def bot_aware(make_testapp):
    """The test views with ``dbsession.unconfirmed_timeout`` at its default."""
    return make_testapp(unconfirmed_timeout="3600")


def test_first_cookie_and_row_live_the_unconfirmed_timeout(bot_aware, engine, clock):
    response = bot_aware.get("/set", {"a": "1"})
    [row] = session_rows(engine)
    assert f"Max-Age={HOUR};" in response.headers["Set-Cookie"]
    assert (row.expire_date, row.version) == (clock.now + timedelta(seconds=HOUR), 0)


def test_returning_cookie_confirms_the_session_for_the_full_timeout(bot_aware, engine, clock):
    bot_aware.get("/set", {"a": "1"})
    clock.advance(60)
    response = bot_aware.get("/show")
    [row] = session_rows(engine)
    assert f"Max-Age={DEFAULT_TIMEOUT};" in response.headers["Set-Cookie"]
    assert (row.expire_date, row.version) == (clock.now + timedelta(seconds=DEFAULT_TIMEOUT), 1)


def test_confirmed_session_is_read_without_a_write(bot_aware, engine):
    bot_aware.get("/set", {"a": "1"})
    bot_aware.get("/show")
    response = bot_aware.get("/show")
    assert "Set-Cookie" not in response.headers and [row.version for row in session_rows(engine)] == [1]


def test_session_whose_cookie_never_came_back_ends_after_the_unconfirmed_timeout(bot_aware, clock):
    bot_aware.get("/set", {"a": "1"})
    clock.advance(HOUR + 1)
    assert bot_aware.get("/show").json == {}


def test_regenerating_an_unconfirmed_session_stores_a_confirmed_one(bot_aware, engine):
    bot_aware.get("/set", {"a": "1"})
    bot_aware.get("/regenerate")
    assert [row.version for row in session_rows(engine)] == [1]


def test_unconfirmed_timeout_none_gives_the_first_row_the_full_timeout(make_testapp):
    response = make_testapp(unconfirmed_timeout="none").get("/set", {"a": "1"})
    assert f"Max-Age={DEFAULT_TIMEOUT};" in response.headers["Set-Cookie"]
