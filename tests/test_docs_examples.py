"""The documentation's example applications (docs/examples/), run as a reader would run them, on every backend."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import factory_in_code
import pytest
import quickstart
import redirects
import webtest
import wsgi_counter
from paste.deploy import loadapp

from pyramid_dbsession import SessionStore, get_store

from .conftest import SECRET

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"


@pytest.fixture
def serve(open_stores: list[SessionStore]) -> Callable[[Any, SessionStore], webtest.TestApp]:
    """Wrap an example app, whose store is closed after the test, in WebTest."""

    def build(app: Any, store: SessionStore) -> webtest.TestApp:
        open_stores.append(store)
        return webtest.TestApp(app)

    return build


@pytest.fixture
def url(engine: Any) -> str:
    return str(engine.url.render_as_string(hide_password=False))


def test_quickstart_app_counts_each_visit(serve, settings):
    app = quickstart.main({}, **settings)
    testapp = serve(app, get_store(app.registry))
    testapp.get("/")
    assert testapp.get("/").json == {"visits": 2}


def test_factory_built_in_code_keeps_the_colour(serve, url):
    app = factory_in_code.main({}, **{"sqlalchemy.url": url, "session.secret": SECRET})
    testapp = serve(app, get_store(app.registry))
    testapp.get("/?colour=blue")
    assert testapp.get("/").json == {"colour": "blue"}


def test_wsgi_middleware_in_code_counts_each_visit(serve, url):
    app = wsgi_counter.make_app(url, SECRET)
    testapp = serve(app, app.store)
    testapp.get("/")
    assert testapp.get("/").text == "2 visits\n"


def test_wsgi_middleware_from_its_ini_counts_each_visit(serve, url, tmp_path):
    ini = tmp_path / "wsgi_counter.ini"
    ini.write_text((EXAMPLES / "wsgi_counter.ini").read_text().replace("sqlite:///%(here)s/sessions.sqlite", url))
    app = loadapp(f"config:{ini}")
    testapp = serve(app, app.store)
    testapp.get("/")
    assert testapp.get("/").text == "2 visits\n"


def test_returned_redirect_keeps_the_login(serve, settings):
    app = redirects.main({}, **settings)
    testapp = serve(app, get_store(app.registry))
    testapp.get("/login?user=ada")
    assert testapp.get("/").json == {"user": "ada"}


def test_raised_redirect_loses_the_login(serve, settings):
    app = redirects.main({}, **settings)
    testapp = serve(app, get_store(app.registry))
    testapp.get("/login-raising?user=ada")
    assert testapp.get("/").json == {"user": None}
