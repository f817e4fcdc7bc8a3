"""The session cookie is Secure on https under ``auto``, and never cached for other visitors."""

from __future__ import annotations

import logging
from typing import Any

import webtest
from pyramid.config import Configurator
from pyramid.request import Request

from pyramid_dbsession.wsgi import ENVIRON_KEY, SessionMiddleware

from .conftest import SECRET


def test_cookie_is_secure_on_https_by_default(testapp):
    response = testapp.get("/set", {"a": "1"}, extra_environ={"wsgi.url_scheme": "https"})
    assert "; secure" in response.headers["Set-Cookie"].lower()


def test_cookie_is_not_secure_on_http_by_default(testapp):
    assert "secure" not in testapp.get("/set", {"a": "1"}).headers["Set-Cookie"].lower()


def test_cookie_is_secure_on_http_when_set_true(make_testapp):
    response = make_testapp(cookie_secure="true").get("/set", {"a": "1"})
    assert "; secure" in response.headers["Set-Cookie"].lower()


def test_response_setting_the_cookie_is_private(testapp):
    assert testapp.get("/set", {"a": "1"}).headers["Cache-Control"] == "private"


def test_response_deleting_the_cookie_is_private(testapp):
    testapp.get("/set", {"a": "1"})
    assert testapp.get("/clear").headers["Cache-Control"] == "private"


def test_public_response_setting_the_cookie_loses_shared_caching_with_a_warning(make_testapp, caplog):
    def cached(request: Request) -> str:
        request.session["a"] = "1"
        request.response.cache_control = "public, max-age=60, s-maxage=3600"
        return "ok"

    def configure(config: Configurator) -> None:
        config.add_route("cached", "/cached")
        config.add_view(cached, route_name="cached", renderer="json")

    with caplog.at_level(logging.WARNING, logger="pyramid_dbsession"):
        response = make_testapp(configure).get("/cached")
    assert response.headers["Cache-Control"] == "private, max-age=60"
    assert any("'cached'" in record.getMessage() for record in caplog.records)


def test_response_not_touching_the_cookie_keeps_its_caching(make_testapp):
    def cached(request: Request) -> str:
        request.response.cache_control = "public, max-age=60"
        return "ok"

    def configure(config: Configurator) -> None:
        config.add_route("cached", "/cached")
        config.add_view(cached, route_name="cached", renderer="json")

    assert make_testapp(configure).get("/cached").headers["Cache-Control"] == "public, max-age=60"


def test_middleware_cookie_is_secure_on_https_and_private(engine, clock):
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        environ[ENVIRON_KEY]["a"] = "1"
        start_response("200 OK", [("Cache-Control", "public")])
        return [b""]

    client = webtest.TestApp(SessionMiddleware(app, engine, SECRET, clock=clock))
    response = client.get("/", extra_environ={"wsgi.url_scheme": "https"})
    assert "; secure" in response.headers["Set-Cookie"].lower() and response.headers["Cache-Control"] == "private"
