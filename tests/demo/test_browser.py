"""The demo app in Debian's Chromium, driven by Playwright, served by waitress on loopback.

Run on SQLite only: the browser adds nothing backend-specific to the WebTest
tests. Screenshots of the pages go to ``screenshots/`` (git ignores it).
"""

from __future__ import annotations

import http.client
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import waitress

from pyramid_dbsession import get_store
from pyramid_dbsession.demo import main
from pyramid_dbsession.demo.auth import COOKIES_NEEDED, REMEMBER_SECONDS
from pyramid_dbsession.demo.models import DEMO_PASSWORD, DEMO_USERNAME

from ..conftest import SECRET

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        raise RuntimeError(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium package")
    pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium to run the browser tests", allow_module_level=True)

from playwright.sync_api import Browser, BrowserContext, Page, Route, sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo app on a free loopback port, with its own SQLite file; yields its base URL."""
    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'demo.sqlite'}"
    settings = {
        "dbsession.url": url,
        "dbsession.secret": SECRET,
        "dbsession.create_table": "true",
        "dbsession.client_info": "true",
    }
    app = main({}, **settings)
    wsgi_server = waitress.create_server(app, host="127.0.0.1", port=0, threads=2)
    thread = threading.Thread(target=wsgi_server.run, name="demo-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{wsgi_server.effective_port}"
    wsgi_server.close()
    wsgi_server.task_dispatcher.shutdown()
    thread.join(timeout=5)
    get_store(app.registry).dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless; never a browser downloaded by Playwright."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def context(browser: Browser, server: str) -> Iterator[BrowserContext]:
    """A fresh browser profile: no cookies, pages sized for screenshots."""
    context = browser.new_context(base_url=server, viewport={"width": 960, "height": 640})
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png")


def log_in(page: Page, remember: bool = False) -> None:
    """Fill and send the login form as a visitor would."""
    page.goto("/login")
    page.fill("#username", DEMO_USERNAME)
    page.fill("#password", DEMO_PASSWORD)
    if remember:
        page.check("#remember")
    page.click("#login-form button[type=submit]")
    page.wait_for_load_state()


def session_cookie(context: BrowserContext) -> dict[str, Any]:
    (cookie,) = [cookie for cookie in context.cookies() if cookie["name"] == "session"]
    return dict(cookie)


def refuse_cookies(route: Route) -> None:
    """Send a request to the server, and hand the browser its response without any Set-Cookie.

    The request goes through ``http.client``, not ``route.fetch()``: Playwright's
    fetch shares the browser context's cookie jar and would keep the cookie.
    """
    request = route.request
    url = urlsplit(request.url)
    connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=10)
    try:
        path = f"{url.path}?{url.query}" if url.query else url.path
        connection.request(request.method, path, body=request.post_data_buffer, headers=request.headers)
        response = connection.getresponse()
        headers = {name: value for name, value in response.getheaders() if name.lower() != "set-cookie"}
        route.fulfill(status=response.status, headers=headers, body=response.read())
    finally:
        connection.close()


def test_login_with_the_test_cookie_reaches_the_account_page(page):
    page.goto("/login")
    screenshot(page, "login")
    log_in(page)
    assert page.url.endswith("/account")
    assert page.inner_text(".flash") == f"You're logged in as {DEMO_USERNAME}."
    screenshot(page, "account")


def test_login_with_cookies_refused_asks_to_enable_them(context, page):
    context.route("**/*", refuse_cookies)
    log_in(page)
    assert page.inner_text("#login-error") == COOKIES_NEEDED
    assert context.cookies() == []
    screenshot(page, "login-cookies-refused")


def test_session_cookie_is_hidden_from_scripts(context, page):
    page.goto("/login")
    assert "session=" not in page.evaluate("document.cookie")
    assert session_cookie(context)["httpOnly"] is True


def test_session_cookie_is_samesite_lax(context, page):
    page.goto("/login")
    assert session_cookie(context)["sameSite"] == "Lax"


def test_login_without_remember_me_keeps_a_browser_session_cookie(context, page):
    log_in(page)
    assert session_cookie(context)["expires"] == -1


def test_login_with_remember_me_keeps_the_cookie_30_days(context, page):
    before = page.evaluate("Date.now() / 1000")
    log_in(page, remember=True)
    assert session_cookie(context)["expires"] - before == pytest.approx(REMEMBER_SECONDS, abs=60)


def test_comment_once_holds_across_page_loads(page):
    page.goto("/comments")
    page.fill("#comment", "Written from Chromium")
    page.click("#comment-form button[type=submit]")
    page.wait_for_load_state()
    page.reload()
    page.goto("/")
    page.goto("/comments")
    assert page.locator("#comment-form").count() == 0
    assert page.locator("#already-commented").is_visible()
    screenshot(page, "comments")


def test_logout_ends_access_to_the_account_page(page):
    log_in(page)
    page.click("#logout")
    page.wait_for_load_state()
    page.goto("/account")
    assert page.url.endswith("/login")
    assert page.inner_text(".flash.error") == "Log in to see your account."


def test_account_page_lists_this_browsers_session_with_its_user_agent(page):
    log_in(page)
    user_agent = page.evaluate("navigator.userAgent")
    assert page.inner_text("#sessions tr.this-one td.user-agent") == user_agent


def test_log_out_everywhere_else_ends_the_other_browsers_login(browser, server, page):
    other = browser.new_context(base_url=server)
    try:
        other_page = other.new_page()
        log_in(other_page)
        log_in(page)
        assert page.locator("#sessions tbody tr").count() >= 2
        screenshot(page, "account-sessions")
        page.click("#end-other-sessions")
        page.wait_for_load_state()
        assert page.inner_text(".flash") == "Your other sessions are logged out."
        other_page.goto("/account")
        assert other_page.url.endswith("/login")
    finally:
        other.close()


def test_invalidate_button_gives_a_new_session(context, page):
    page.goto("/counter")
    before = session_cookie(context)["value"]
    page.goto("/session")
    page.click("#invalidate")
    page.wait_for_load_state()
    assert session_cookie(context)["value"] != before
    screenshot(page, "session")
