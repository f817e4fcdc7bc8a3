"""Every page and flow of the demo app, through WebTest, on every backend."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import webtest
from pyramid.paster import get_app
from pyramid.scripting import prepare
from sqlalchemy import event

from pyramid_dbsession import SessionRecord, get_store
from pyramid_dbsession.demo import main
from pyramid_dbsession.demo.auth import COOKIES_NEEDED, REMEMBER_SECONDS
from pyramid_dbsession.demo.models import DEMO_PASSWORD, DEMO_USERNAME
from pyramid_dbsession.demo.passwords import check_password, hash_password

from ..conftest import session_rows
from .conftest import table_rows

ROOT = Path(__file__).resolve().parents[2]


def log_in(testapp: webtest.TestApp, password: str = DEMO_PASSWORD, remember: bool = False) -> webtest.TestResponse:
    """Fill and send the login form the way a browser would."""
    form = testapp.get("/login").forms["login-form"]
    form["username"] = DEMO_USERNAME
    form["password"] = password
    form["remember"] = remember
    return form.submit()


def post_comment(testapp: webtest.TestApp, text: str) -> webtest.TestResponse:
    form = testapp.get("/comments").forms["comment-form"]
    form["comment"] = text
    return form.submit()


def csrf_token(testapp: webtest.TestApp) -> str:
    return testapp.get("/counter").forms[0]["csrf_token"].value


# -- home and counter -------------------------------------------------------------


def test_home_page_links_every_page(testapp):
    links = {link["href"] for link in testapp.get("/").html.select("main a")}
    assert {f"http://localhost{path}" for path in ("/counter", "/comments", "/login", "/account", "/session")} <= links


def test_home_page_of_a_new_visitor_sets_no_cookie(testapp, engine):
    response = testapp.get("/")
    assert "Set-Cookie" not in response.headers and session_rows(engine) == []


def test_counter_counts_the_visits_of_this_session(testapp):
    testapp.get("/counter")
    response = testapp.get("/counter")
    assert "visited this page 2 times" in response.text


def test_counter_counts_each_session_apart(app):
    webtest.TestApp(app).get("/counter")
    response = webtest.TestApp(app).get("/counter")
    assert "visited this page 1 time in" in response.text


def test_counter_reset_starts_again_with_a_flash(testapp):
    testapp.get("/counter")
    response = testapp.get("/counter").forms[0].submit().follow()
    assert "The counter starts again." in response.text and "visited this page 1 time in" in response.text


# -- comments ----------------------------------------------------------------------


def test_comment_is_stored_in_the_comments_table(testapp, engine):
    post_comment(testapp, "Sessions in SQL, nice.")
    assert [row.body for row in table_rows(engine, "comments")] == ["Sessions in SQL, nice."]


def test_comment_thanks_the_visitor_with_a_flash(testapp):
    response = post_comment(testapp, "Hello").follow()
    assert "Thanks for your comment!" in response.text


def test_comment_form_is_gone_once_this_session_has_commented(testapp):
    post_comment(testapp, "Hello")
    assert "comment-form" not in testapp.get("/comments").forms


def test_second_comment_in_one_session_is_refused(testapp, engine):
    post_comment(testapp, "First")
    response = testapp.post("/comments", {"comment": "Second", "csrf_token": csrf_token(testapp)}).follow()
    assert "You&#39;ve already commented." in response.text
    assert [row.body for row in table_rows(engine, "comments")] == ["First"]


def test_another_session_may_comment_too(app, engine):
    post_comment(webtest.TestApp(app), "From one")
    post_comment(webtest.TestApp(app), "From another")
    assert len(table_rows(engine, "comments")) == 2


def test_empty_comment_is_refused(testapp, engine):
    response = post_comment(testapp, "   ").follow()
    assert "A comment has 1 to 500 characters." in response.text and table_rows(engine, "comments") == []


def test_comment_and_session_commit_in_one_transaction(testapp, app):
    form = testapp.get("/comments").forms["comment-form"]
    form["comment"] = "Together"
    commits = []
    engine = get_store(app.registry).engine
    event.listen(engine, "commit", commits.append)
    form.submit()
    assert len(commits) == 1


def test_comment_of_a_logged_in_user_names_them(testapp, engine):
    log_in(testapp)
    post_comment(testapp, "Signed")
    assert [row.author for row in table_rows(engine, "comments")] == [DEMO_USERNAME]


# -- login and logout --------------------------------------------------------------


def test_login_page_names_the_demo_user(testapp):
    page = testapp.get("/login").html
    assert page.select_one("#demo-username").text == DEMO_USERNAME
    assert page.select_one("#demo-password").text == DEMO_PASSWORD


def test_login_page_sets_the_test_cookie_in_a_stored_session(testapp, engine):
    response = testapp.get("/login")
    assert "Set-Cookie" in response.headers and len(session_rows(engine)) == 1


def test_login_from_a_browser_without_cookies_asks_to_enable_them(testapp):
    form = testapp.get("/login").forms["login-form"]
    testapp.reset()  # the browser dropped the session cookie
    form["username"], form["password"] = DEMO_USERNAME, DEMO_PASSWORD
    response = form.submit()
    assert response.html.select_one("#login-error").text == COOKIES_NEEDED


def test_login_with_the_right_password_puts_user_id_in_the_session(testapp):
    response = log_in(testapp).follow()
    assert "You&#39;re logged in as demo." in response.text and "Account of demo" in response.text


def test_login_gives_the_session_a_new_id_and_deletes_the_old_row(testapp, engine):
    testapp.get("/login")
    before = testapp.cookies["session"]
    log_in(testapp)
    assert testapp.cookies["session"] != before
    assert get_store_for(testapp).get(before) is None


def test_login_gives_the_session_a_new_csrf_token(testapp):
    before = testapp.get("/login").forms["login-form"]["csrf_token"].value
    log_in(testapp)
    assert csrf_token(testapp) != before


def test_login_deletes_the_test_cookie(testapp):
    log_in(testapp)
    record = get_store_for(testapp).get(testapp.cookies["session"])
    assert "_testcookie" not in record.get_decoded()


def test_login_with_a_wrong_password_is_refused(testapp):
    response = log_in(testapp, password="not-the-password")
    assert response.status_int == 200
    assert response.html.select_one("#login-error").text == "Your username and password didn't match."


def test_login_with_an_unknown_user_is_refused(testapp):
    form = testapp.get("/login").forms["login-form"]
    form["username"], form["password"] = "nobody", DEMO_PASSWORD
    assert "didn&#39;t match" in form.submit().text


def test_login_without_remember_me_lasts_until_the_browser_closes(testapp):
    header = log_in(testapp).headers["Set-Cookie"]
    assert "Max-Age" not in header and "expires" not in header.lower()


def test_login_with_remember_me_keeps_the_cookie_30_days(testapp):
    header = log_in(testapp, remember=True).headers["Set-Cookie"]
    assert f"Max-Age={REMEMBER_SECONDS}" in header


def test_login_with_remember_me_keeps_the_row_30_days(testapp, engine, clock):
    log_in(testapp, remember=True)
    (row,) = session_rows(engine)
    assert row.expire_date.replace(tzinfo=clock.now.tzinfo) == clock.now + timedelta(seconds=REMEMBER_SECONDS)


def test_account_page_sends_anonymous_visitors_to_login(testapp):
    response = testapp.get("/account")
    assert response.location == "http://localhost/login"
    assert "Log in to see your account." in response.follow().text


def test_logout_ends_access_to_the_account_page(testapp):
    log_in(testapp)
    testapp.get("/account").forms[0].submit()
    assert testapp.get("/account").location == "http://localhost/login"


def test_logout_keeps_the_rest_of_the_session(testapp):
    testapp.get("/counter")
    log_in(testapp)
    testapp.get("/").forms[0].submit()
    assert "visited this page 2 times" in testapp.get("/counter").text


def test_logout_says_so_with_a_flash(testapp):
    log_in(testapp)
    response = testapp.get("/").forms[0].submit().follow()
    assert "You&#39;re logged out." in response.text


def test_passwords_are_stored_as_salted_hashes(testapp, engine):
    (user,) = table_rows(engine, "users")
    assert user.password_hash.startswith("scrypt$") and DEMO_PASSWORD not in user.password_hash


def test_demo_user_is_created_once_however_often_the_app_starts(app, settings, engine):
    get_store(main({}, **settings).registry).dispose()
    assert len(table_rows(engine, "users")) == 1


# -- CSRF --------------------------------------------------------------------------


def test_form_without_csrf_token_is_refused(testapp):
    testapp.get("/counter")
    response = testapp.post("/counter/reset", expect_errors=True)
    assert response.status_int == 400 and "csrf-error" in response.text


def test_login_without_csrf_token_is_refused(testapp):
    testapp.get("/login")
    response = testapp.post("/login", {"username": DEMO_USERNAME, "password": DEMO_PASSWORD}, expect_errors=True)
    assert response.status_int == 400


def test_csrf_token_of_another_session_is_refused(app):
    token = csrf_token(webtest.TestApp(app))
    other = webtest.TestApp(app)
    other.get("/counter")
    response = other.post("/counter/reset", {"csrf_token": token}, expect_errors=True)
    assert response.status_int == 400


def test_refused_comment_stores_nothing(testapp, engine):
    testapp.get("/comments")
    testapp.post("/comments", {"comment": "forged"}, expect_errors=True)
    assert table_rows(engine, "comments") == []


# -- this session's page -------------------------------------------------------------


def test_session_page_shows_this_sessions_data(testapp):
    testapp.get("/counter")
    cells = [[td.text for td in tr.select("td")] for tr in testapp.get("/session").html.select("#session-data tr")]
    assert ["visits", "1"] in cells


def test_session_page_shows_the_expiry(testapp, clock):
    testapp.get("/counter")
    expires = testapp.get("/session").html.select_one("#session-expires").text
    assert expires.startswith(f"{clock.now + timedelta(weeks=2):%Y-%m-%d %H:%M:%S} UTC")


def test_invalidate_deletes_the_row_and_starts_a_new_session(testapp, engine):
    testapp.get("/counter")
    old = testapp.cookies["session"]
    response = testapp.get("/session").forms[0].submit().follow()
    assert "Your session was invalidated" in response.text
    assert testapp.cookies["session"] != old
    assert [row.session_key for row in session_rows(engine)] != [] and get_store_for(testapp).get(old) is None


def test_invalidate_forgets_the_data(testapp):
    testapp.get("/counter")
    testapp.get("/session").forms[0].submit()
    assert "visited this page 1 time in" in testapp.get("/counter").text


# -- pshell ------------------------------------------------------------------------


def get_store_for(testapp: webtest.TestApp):
    return get_store(testapp.app.registry)


def test_pshell_setup_offers_the_store_and_session_record(app):
    from pyramid_dbsession.demo.pshell import setup

    env = prepare(registry=app.registry)
    setup(env)
    env["closer"]()
    assert env["store"] is get_store(app.registry) and env["SessionRecord"] is SessionRecord


def test_passwords_check_the_right_password_only():
    stored = hash_password("correct horse")
    assert check_password("correct horse", stored) and not check_password("Correct horse", stored)


def test_passwords_of_the_same_text_hash_differently():
    assert hash_password("same") != hash_password("same")


def test_pshell_of_development_ini_decodes_a_stored_session(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    ini = tmp_path / "development.ini"
    ini.write_text((ROOT / "development.ini").read_text().replace("sqlite:///%(here)s/demo.sqlite", url))
    app = get_app(str(ini))
    client = webtest.TestApp(app)
    client.get("/counter")
    get_store(app.registry).dispose()
    script = f"print('visits=', store.get({client.cookies['session']!r}).get_decoded()['visits'])\n"
    pshell = [sys.executable, "-c", "from pyramid.scripts.pshell import main; main()", str(ini)]
    result = subprocess.run(pshell, input=script, capture_output=True, text=True, timeout=60)
    assert "visits= 1" in result.stdout, result.stderr
