"""Expiry follows timeout, reissue_time, absolute_timeout and set_expiry; cookie and row agree."""

from __future__ import annotations

import re
from datetime import timedelta

from .conftest import session_rows


def max_age(response) -> int | None:
    match = re.search(r"Max-Age=(\d+)", response.headers["Set-Cookie"])
    return int(match.group(1)) if match else None


def test_idle_session_ends_after_the_timeout(make_testapp, clock):
    testapp = make_testapp(timeout=600)
    testapp.get("/set", {"a": "1"})
    clock.advance(601)
    assert testapp.get("/show").json == {}


def test_session_used_within_the_timeout_lives_on(make_testapp, clock):
    testapp = make_testapp(timeout=600)
    testapp.get("/set", {"a": "1"})
    clock.advance(599)
    assert testapp.get("/show").json == {"a": "1"}


def test_cookie_max_age_agrees_with_the_row(make_testapp, engine, clock):
    testapp = make_testapp(timeout=600)
    response = testapp.get("/set", {"a": "1"})
    (row,) = session_rows(engine)
    assert max_age(response) == 600 == (row.expire_date - clock.now).total_seconds()


def test_read_before_the_reissue_time_writes_nothing(make_testapp, engine, clock):
    testapp = make_testapp(timeout=1000, reissue_time=100)
    testapp.get("/set", {"a": "1"})
    (before,) = session_rows(engine)
    clock.advance(99)
    response = testapp.get("/show")
    assert "Set-Cookie" not in response.headers
    assert session_rows(engine)[0].expire_date == before.expire_date


def test_read_after_the_reissue_time_pushes_the_expiry(make_testapp, engine, clock):
    testapp = make_testapp(timeout=1000, reissue_time=100)
    testapp.get("/set", {"a": "1"})
    clock.advance(150)
    response = testapp.get("/show")
    (row,) = session_rows(engine)
    assert max_age(response) == 1000
    assert row.expire_date == clock.now + timedelta(seconds=1000)


def test_expiry_push_keeps_the_data_and_version(make_testapp, engine, clock):
    testapp = make_testapp(timeout=1000, reissue_time=100)
    testapp.get("/set", {"a": "1"})
    (before,) = session_rows(engine)
    clock.advance(150)
    testapp.get("/show")
    (after,) = session_rows(engine)
    assert (after.session_data, after.version) == (before.session_data, before.version)


def test_reissue_time_zero_pushes_the_expiry_on_every_read(make_testapp, clock):
    testapp = make_testapp(timeout=1000, reissue_time=0)
    testapp.get("/set", {"a": "1"})
    clock.advance(1)
    assert max_age(testapp.get("/show")) == 1000


def test_absolute_timeout_ends_an_active_session(make_testapp, clock):
    testapp = make_testapp(timeout=1000, reissue_time=0, absolute_timeout=1500)
    testapp.get("/set", {"a": "1"})
    for _ in range(3):
        clock.advance(500)
        testapp.get("/show")
    assert testapp.get("/show").json == {}


def test_absolute_timeout_caps_the_cookie(make_testapp, clock):
    testapp = make_testapp(timeout=1000, reissue_time=0, absolute_timeout=1500)
    testapp.get("/set", {"a": "1"})
    clock.advance(900)
    assert max_age(testapp.get("/show")) == 600


def test_set_expiry_gives_the_session_its_own_lifetime(make_testapp, engine, clock):
    testapp = make_testapp(timeout=600)
    response = testapp.get("/expiry", {"seconds": "2592000"})
    (row,) = session_rows(engine)
    assert max_age(response) == 2592000
    assert (row.expire_date - clock.now).total_seconds() == 2592000


def test_remembered_session_outlives_the_default_timeout(make_testapp, clock):
    testapp = make_testapp(timeout=600)
    testapp.get("/expiry", {"seconds": "86400"})
    testapp.get("/set", {"user_id": "42"})
    clock.advance(3600)
    assert testapp.get("/show").json["user_id"] == "42"


def test_set_expiry_zero_sends_a_browser_session_cookie(make_testapp):
    testapp = make_testapp(timeout=600)
    response = testapp.get("/expiry", {"seconds": "0"})
    assert "Set-Cookie" in response.headers and max_age(response) is None


def test_set_expiry_none_returns_to_the_default(make_testapp):
    testapp = make_testapp(timeout=600)
    testapp.get("/expiry", {"seconds": "86400"})
    testapp.get("/set", {"a": "1"})
    assert max_age(testapp.get("/expiry", {"seconds": "none"})) == 600


def test_configured_cookie_max_age_none_sends_browser_session_cookies(make_testapp):
    testapp = make_testapp(cookie_max_age="none")
    assert max_age(testapp.get("/set", {"a": "1"})) is None


def test_expire_date_is_aware_utc(make_testapp, clock):
    testapp = make_testapp(timeout=600)
    testapp.get("/set", {"a": "1"})
    assert testapp.get("/expiry", {"seconds": "60"}).json == (clock.now + timedelta(seconds=60)).isoformat()


def test_change_within_the_reissue_time_keeps_expiry_and_cookie(make_testapp, engine, clock):
    testapp = make_testapp(timeout=1000, reissue_time=100)
    testapp.get("/incr")
    (before,) = session_rows(engine)
    clock.advance(50)
    response = testapp.get("/incr")
    (after,) = session_rows(engine)
    assert "Set-Cookie" not in response.headers
    assert (after.expire_date, after.version) == (before.expire_date, before.version + 1)


def test_change_after_the_reissue_time_pushes_the_expiry(make_testapp, engine, clock):
    testapp = make_testapp(timeout=1000, reissue_time=100)
    testapp.get("/incr")
    clock.advance(150)
    response = testapp.get("/incr")
    (row,) = session_rows(engine)
    assert max_age(response) == 1000 and row.expire_date == clock.now + timedelta(seconds=1000)


def test_set_expiry_zero_on_a_stored_session_resends_a_browser_session_cookie(make_testapp, clock):
    testapp = make_testapp(timeout=1000, reissue_time=100)
    testapp.get("/set", {"a": "1"})
    clock.advance(10)
    response = testapp.get("/expiry", {"seconds": "0"})
    assert "Set-Cookie" in response.headers and max_age(response) is None
