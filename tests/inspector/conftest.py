"""Sessions made through the real app, a SessionSource on them, and the inspector app."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import webtest
from sqlalchemy.engine import Engine
from textual.pilot import Pilot
from textual.widgets import Input
from textual.worker import WorkerCancelled, WorkerFailed

from inspector import InspectorApp, SessionSource
from pyramid_dbsession import get_store
from pyramid_dbsession.db.store import SessionStore
from pyramid_dbsession.models import create_table, drop_table


@pytest.fixture(autouse=True)
def steady_cursor(monkeypatch: pytest.MonkeyPatch) -> None:
    """A blinking cursor makes screens differ from one moment to the next."""
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)


@pytest.fixture
def store(testapp: webtest.TestApp) -> SessionStore:
    """The store of the test app, on the backend's engine, with the test clock."""
    return get_store(testapp.app.registry)


@pytest.fixture
def visit(testapp: webtest.TestApp) -> Callable[..., str]:
    """Start a session as a new browser would; return its cookie value.

    Keyword arguments are stored in the session; ``expire_in`` (seconds) sets
    its own expiry through ``session.set_expiry``.
    """

    def start(expire_in: int | None = None, **data: str) -> str:
        browser = webtest.TestApp(testapp.app)
        browser.get("/set", data)
        if expire_in is not None:
            browser.get("/expiry", {"seconds": str(expire_in)})
        return str(browser.cookies["session"])

    return start


@pytest.fixture
def source(store: SessionStore) -> SessionSource:
    return SessionSource(store)


@pytest.fixture
def make_inspector(store: SessionStore) -> Callable[..., InspectorApp]:
    """Build an inspector on the test store; ``page_size`` and app options are keywords."""

    def build(page_size: int = 100, **options: Any) -> InspectorApp:
        options.setdefault("refresh_seconds", 0)
        return InspectorApp(SessionSource(store, page_size=page_size), **options)

    return build


@pytest.fixture
def inspector(make_inspector: Callable[..., InspectorApp]) -> InspectorApp:
    return make_inspector()


async def settle(pilot: Pilot[Any]) -> None:
    """Wait until no worker runs and the messages they posted are handled."""
    app = pilot.app
    for _ in range(20):
        try:
            await app.workers.wait_for_complete()
        except (WorkerCancelled, WorkerFailed):
            continue  # an exclusive worker replaced it, or it failed and said so
        await pilot.pause()
        if not any(worker.is_running for worker in app.workers):
            return


async def press_without_table(pilot: Pilot[Any], engine: Engine, *keys: str) -> None:
    """Press ``keys`` while ``core_sessions`` is gone, then put the table back."""
    drop_table(engine)
    try:
        await pilot.press(*keys)
        await settle(pilot)
    finally:
        create_table(engine)
