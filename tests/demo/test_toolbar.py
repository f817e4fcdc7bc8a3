"""pyramid_debugtoolbar, as development.ini includes it, on a demo page: its Session and SQLAlchemy panels."""

from __future__ import annotations

from typing import Any

import pytest
import webtest
from pyramid.router import Router

#: The toolbar shows itself only to these clients by default.
LOCAL_CLIENT = {"REMOTE_ADDR": "127.0.0.1"}


@pytest.fixture
def settings(settings: dict[str, Any]) -> dict[str, Any]:
    return {**settings, "pyramid.includes": "pyramid_debugtoolbar"}


@pytest.fixture
def testapp(app: Router, debugtoolbar: None) -> webtest.TestApp:
    return webtest.TestApp(app, extra_environ=LOCAL_CLIENT)


def panel_text(testapp: webtest.TestApp, page: webtest.TestResponse, panel: str) -> str:
    """The words of one panel of the toolbar the page links to, the way a browser opens it."""
    toolbar_url = page.html.find(id="pShowToolBarButton")["href"]
    content = testapp.get(toolbar_url).html.find(id=f"pDebugPanel-{panel}-content")
    return " ".join(content.get_text(" ").split())


def test_session_panel_shows_what_the_page_read_and_wrote(testapp):
    testapp.get("/counter")
    page = testapp.get("/counter")
    assert "visits 1 2" in panel_text(testapp, page, "session")


def test_sqlalchemy_panel_shows_the_session_statements(testapp):
    testapp.get("/counter")
    page = testapp.get("/counter")
    text = panel_text(testapp, page, "sqlalchemy")
    assert "FROM core_sessions WHERE" in text and "UPDATE core_sessions SET" in text
