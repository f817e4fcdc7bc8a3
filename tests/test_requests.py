"""The session as views see it, through WebTest, on every backend."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import event

from pyramid_dbsession import get_store
from pyramid_dbsession.models import sessions_table

from .conftest import session_rows


def session_cookie(testapp) -> str:
    return testapp.cookies["session"]


def replay(testapp, cookie: str) -> None:
    """Make the client send only ``cookie`` as its session cookie from now on."""
    testapp.reset()
    testapp.set_cookie("session", cookie)


def test_untouched_session_sets_no_cookie(testapp):
    response = testapp.get("/untouched")
    assert "Set-Cookie" not in response.headers
    assert "Vary" not in response.headers


def test_reading_an_empty_session_sets_no_cookie_and_writes_no_row(testapp, engine):
    response = testapp.get("/show")
    assert "Set-Cookie" not in response.headers
    assert session_rows(engine) == []


def test_reading_the_session_varies_by_cookie(testapp):
    response = testapp.get("/show")
    assert response.headers["Vary"] == "Cookie"


def test_setting_a_key_stores_a_row_and_sends_a_cookie(testapp, engine):
    response = testapp.get("/set", {"fav_color": "blue"})
    assert "Set-Cookie" in response.headers
    assert len(session_rows(engine)) == 1


def test_returning_client_reads_its_data(testapp):
    testapp.get("/set", {"fav_color": "blue"})
    assert testapp.get("/show").json == {"fav_color": "blue"}


def test_cookie_holds_a_random_id_of_256_bits(testapp):
    testapp.get("/set", {"secret": "data-not-in-cookie"})
    value = session_cookie(testapp)
    assert len(value) == 43 and "data-not-in-cookie" not in value


def test_table_stores_the_digest_of_the_id_not_the_id(testapp, engine):
    testapp.get("/set", {"a": "1"})
    (row,) = session_rows(engine)
    assert row.session_key == hashlib.sha256(session_cookie(testapp).encode()).hexdigest()


def test_cookie_is_httponly_and_samesite_lax_by_default(testapp):
    header = testapp.get("/set", {"a": "1"}).headers["Set-Cookie"]
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Path=/" in header


def test_new_session_left_empty_writes_nothing(testapp, engine):
    testapp.get("/set")
    assert session_rows(engine) == []


def test_clearing_a_session_deletes_row_and_expires_cookie(testapp, engine):
    testapp.get("/set", {"a": "1"})
    response = testapp.get("/clear")
    assert session_rows(engine) == []
    assert "Max-Age=0" in response.headers["Set-Cookie"]


def test_deleting_the_last_key_deletes_the_row(testapp, engine):
    testapp.get("/set", {"a": "1"})
    testapp.get("/delete", {"key": "a"})
    assert session_rows(engine) == []


def test_invalidate_deletes_row_and_expires_cookie(testapp, engine):
    testapp.get("/set", {"a": "1"})
    response = testapp.get("/invalidate")
    assert session_rows(engine) == []
    assert "Max-Age=0" in response.headers["Set-Cookie"]


def test_old_cookie_is_worthless_after_invalidate(testapp):
    testapp.get("/set", {"a": "1"})
    old = session_cookie(testapp)
    testapp.get("/invalidate")
    replay(testapp, old)
    assert testapp.get("/show").json == {}


def test_data_set_after_invalidate_goes_to_a_new_id(testapp, engine):
    testapp.get("/set", {"a": "1"})
    old = session_cookie(testapp)
    testapp.get("/invalidate", {"b": "2"})
    assert session_cookie(testapp) != old
    assert testapp.get("/show").json == {"b": "2"}
    assert len(session_rows(engine)) == 1


def test_regenerate_id_keeps_data_under_a_new_id(testapp, engine):
    testapp.get("/set", {"user_id": "42"})
    old = session_cookie(testapp)
    testapp.get("/regenerate")
    assert session_cookie(testapp) != old
    assert testapp.get("/show").json == {"user_id": "42"}
    assert len(session_rows(engine)) == 1


def test_old_id_is_worthless_after_regenerate(testapp):
    testapp.get("/set", {"user_id": "42"})
    old = session_cookie(testapp)
    testapp.get("/regenerate")
    replay(testapp, old)
    assert testapp.get("/show").json == {}


def test_unchanged_session_is_not_written(testapp, engine):
    testapp.get("/set", {"a": "1"})
    (before,) = session_rows(engine)
    response = testapp.get("/show")
    (after,) = session_rows(engine)
    assert "Set-Cookie" not in response.headers
    assert after.version == before.version and after.expire_date == before.expire_date


def test_in_place_change_is_saved_without_changed(testapp):
    testapp.get("/append", {"item": "apple"})
    testapp.get("/append", {"item": "pear"})
    assert testapp.get("/show").json == {"cart": ["apple", "pear"]}


def test_in_place_change_is_lost_when_detection_is_off(make_testapp):
    testapp = make_testapp(detect_changes="false")
    testapp.get("/append", {"item": "apple"})
    testapp.get("/append", {"item": "pear"})
    assert testapp.get("/show").json == {"cart": ["apple"]}


@pytest.mark.parametrize(
    "cookie",
    ["no-such-id", "x" * 43, "A" * 42, "é" * 43, "../../etc/passwd", "a" * 4000, ""],
)
def test_malformed_or_unknown_cookie_gets_fresh_session(testapp, cookie):
    testapp.set_cookie("session", cookie)
    assert testapp.get("/show").json == {}


def test_malformed_cookie_is_rejected_without_a_query(testapp, engine):
    testapp.set_cookie("session", "not-a-session-id")
    statements = []
    store_engine = get_store(testapp.app.registry).engine
    event.listen(store_engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    testapp.get("/show")
    assert statements == []


def test_unknown_id_is_never_adopted(testapp, engine):
    planted = "P" * 43
    testapp.set_cookie("session", planted)
    testapp.get("/set", {"a": "1"})
    assert session_cookie(testapp) != planted
    (row,) = session_rows(engine)
    assert row.session_key != hashlib.sha256(planted.encode()).hexdigest()


def test_unknown_id_with_empty_session_expires_the_cookie(testapp, engine):
    testapp.set_cookie("session", "Q" * 43)
    response = testapp.get("/show")
    assert "Max-Age=0" in response.headers["Set-Cookie"]
    assert session_rows(engine) == []


def test_stored_digest_presented_as_cookie_is_useless(testapp, engine):
    testapp.get("/set", {"a": "1"})
    (row,) = session_rows(engine)
    replay(testapp, row.session_key)
    assert testapp.get("/show").json == {}


def test_tampered_data_gives_empty_session_and_a_warning(testapp, engine, caplog):
    testapp.get("/set", {"role": "user"})
    (row,) = session_rows(engine)
    payload, _, mac = row.session_data.partition(".")
    with engine.begin() as connection:
        connection.execute(sessions_table.update().values(session_data=payload[:-4] + "AAA=" + "." + mac))
    response = testapp.get("/show")
    assert response.json == {}
    assert any(r.levelname == "WARNING" and row.session_key[:12] in r.getMessage() for r in caplog.records)


def test_raising_view_stores_nothing_and_sends_no_cookie(testapp, engine):
    with pytest.raises(Exception, match="the view failed"):
        testapp.get("/fail")
    assert session_rows(engine) == []


def test_raised_redirect_aborts_session_changes(testapp, engine):
    response = testapp.get("/raise_redirect", status=302)
    assert "Set-Cookie" not in response.headers
    assert session_rows(engine) == []


def test_returned_redirect_commits_session_changes(testapp):
    testapp.get("/return_redirect", status=302)
    assert testapp.get("/show").json == {"redirected": "returned"}


def test_session_meta_reports_new_and_created(testapp, clock):
    first = testapp.get("/meta").json
    testapp.get("/set", {"a": "1"})
    second = testapp.get("/meta").json
    assert first["new"] is True and second["new"] is False
    assert second["created"] == int(clock.now.timestamp())


def test_raised_redirect_commits_under_a_commit_veto(make_testapp):
    testapp = make_testapp(lambda config: config.add_settings({"tm.commit_veto": "pyramid_tm.default_commit_veto"}))
    response = testapp.get("/raise_redirect", status=302)
    assert "Set-Cookie" in response.headers
    assert testapp.get("/show").json == {"redirected": "raised"}
