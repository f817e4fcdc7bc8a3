"""The documentation's example applications (docs/examples/, the README's), run as a reader would, on every backend."""

from __future__ import annotations

import re
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

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "docs" / "examples"
README_URL = "sqlite:///sessions.sqlite"


def readme_example(url: str) -> str:
    """The README's example, its first Python code block, storing its sessions at ``url``."""
    code = re.search(r"^```python\n(.*?)^```$", (ROOT / "README.md").read_text(), re.DOTALL | re.MULTILINE)[1]
    if README_URL not in code:
        raise LookupError(f"the README's example no longer uses {README_URL}: update README_URL")
    return code.replace(README_URL, url)


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


def test_readme_example_counts_each_visit(serve, url):
    namespace: dict[str, Any] = {}
    exec(readme_example(url), namespace)
    testapp = serve(namespace["app"], get_store(namespace["app"].registry))
    testapp.get("/")
    assert testapp.get("/").json == {"visits": 2}
