"""An in-memory SQLite URL (``sqlite://``), the usual choice of an app's own tests, keeps sessions."""

from __future__ import annotations

import threading

import pytest
import webtest

from pyramid_dbsession import get_store

from .conftest import SECRET
from .sessionapp import make_app


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "sqlite:///file:sessions?mode=memory&uri=true"])
def test_an_in_memory_database_keeps_sessions_across_requests_and_threads(url: str) -> None:
    app = make_app({"dbsession.url": url, "dbsession.secret": SECRET, "dbsession.create_table": "true"})
    testapp = webtest.TestApp(app)
    counted = [testapp.get("/incr").json, testapp.get("/incr").json]
    other_thread = threading.Thread(target=lambda: counted.append(testapp.get("/incr").json))
    other_thread.start()
    other_thread.join()
    get_store(app.registry).dispose()
    assert counted == [1, 2, 3]
