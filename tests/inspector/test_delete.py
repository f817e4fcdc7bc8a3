"""Deleting from the inspector: confirm, marks, purge, read-only, on SQLite."""

from __future__ import annotations

import threading

import pytest
import webtest
from textual.notifications import Notify
from textual.widgets import Label

from inspector.screens.confirm_delete import ConfirmDeleteScreen
from pyramid_dbsession.ids import session_key_for

from ..conftest import session_rows
from .conftest import press_without_table, settle

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)


def stored_keys(engine) -> set[str]:
    return {row.session_key for row in session_rows(engine)}


def question_of(app) -> str:
    return str(app.screen.query_one("#confirm-question", Label).render())


async def test_d_asks_before_deleting_the_highlighted_session(inspector, visit):
    cookie = visit(user="alice")
    async with inspector.run_test() as pilot:
        await settle(pilot)
        await pilot.press("d")
        assert isinstance(inspector.screen, ConfirmDeleteScreen)
        assert question_of(inspector) == f"Delete session {session_key_for(cookie)[:12]}…?"


async def test_d_then_y_deletes_the_session_for_its_user(inspector, visit, testapp, engine):
    cookie = visit(user="alice")
    async with inspector.run_test() as pilot:
        await settle(pilot)
        await pilot.press("d", "y")
        await settle(pilot)
        assert inspector.screen.table.row_count == 0
    browser = webtest.TestApp(testapp.app)
    browser.set_cookie("session", cookie)
    assert (stored_keys(engine), browser.get("/show").json) == (set(), {})


@pytest.mark.parametrize("answer", ["n", "escape"])
async def test_d_then_no_keeps_the_session(inspector, visit, engine, answer):
    cookie = visit(user="alice")
    async with inspector.run_test() as pilot:
        await settle(pilot)
        await pilot.press("d", answer)
        await settle(pilot)
    assert stored_keys(engine) == {session_key_for(cookie)}


async def test_d_with_marks_asks_for_their_count(inspector, visit):
    for name in ("alice", "bob", "carol"):
        visit(user=name)
    async with inspector.run_test() as pilot:
        await settle(pilot)
        await pilot.press("space", "down", "space", "d")
        assert question_of(inspector) == "Delete 2 sessions?"


async def test_deleting_marked_sessions_keeps_the_unmarked_one(inspector, visit, engine):
    for name in ("alice", "bob", "carol"):
        visit(user=name)
    async with inspector.run_test() as pilot:
        await settle(pilot)
        await pilot.press("space", "down", "space", "down")
        kept = inspector.screen.table.highlighted_key
        await pilot.press("d", "y")
        await settle(pilot)
        assert inspector.screen.marked == set()
    assert stored_keys(engine) == {kept}


async def test_x_purges_expired_sessions_and_keeps_live_ones(make_inspector, visit, clock, engine):
    for n in range(5):
        visit(expire_in=60 + n, n=str(n))
    live = visit(user="live")
    clock.advance(120)
    app = make_inspector(purge_batch=2)
    async with app.run_test(message_hook=(hooked := []).append) as pilot:
        await settle(pilot)
        await pilot.press("x")
        assert question_of(app) == "Purge 5 expired sessions?"
        await pilot.press("y")
        await settle(pilot)
        assert app.screen.table.row_count == 1
    progressed = [m.deleted for m in {id(m): m for m in hooked if type(m).__name__ == "PurgeProgressed"}.values()]
    assert (progressed, stored_keys(engine)) == ([2, 4, 5], {session_key_for(live)})


async def test_x_with_nothing_expired_deletes_nothing(inspector, visit, engine):
    cookie = visit(user="alice")
    async with inspector.run_test() as pilot:
        await settle(pilot)
        await pilot.press("x")
        assert not isinstance(inspector.screen, ConfirmDeleteScreen)
    assert stored_keys(engine) == {session_key_for(cookie)}


async def test_escape_stops_a_running_purge(make_inspector, visit, clock, engine, monkeypatch):
    for n in range(6):
        visit(expire_in=60 + n, n=str(n))
    clock.advance(120)
    app = make_inspector(purge_batch=2)
    purge, release = app.source.purge_expired, threading.Event()

    def held_purge(batch_size):
        for count in purge(batch_size):
            yield count
            release.wait(5)

    monkeypatch.setattr(app.source, "purge_expired", held_purge)
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("x", "y")
        await pilot.pause()
        await pilot.press("escape")
        release.set()
        await settle(pilot)
    assert len(stored_keys(engine)) == 2  # the batch under way when escape came finished, the third never ran


@pytest.mark.parametrize("key", ["d", "x"])
async def test_read_only_inspector_deletes_nothing(make_inspector, visit, clock, engine, key):
    cookie = visit(expire_in=60, user="alice")
    clock.advance(120)
    app = make_inspector(read_only=True)
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press(key, "y")
        await settle(pilot)
    assert stored_keys(engine) == {session_key_for(cookie)}


async def test_after_a_delete_the_cursor_moves_to_the_next_session(inspector, visit):
    for n in range(3):
        visit(expire_in=600 + n, n=str(n))
    async with inspector.run_test() as pilot:
        await settle(pilot)
        keys = [row.session_key for row in inspector.screen.table.page.rows]
        await pilot.press("down", "d", "y")
        await settle(pilot)
        assert inspector.screen.table.highlighted_key == keys[2]


async def test_clicking_the_delete_button_confirms(inspector, visit, engine):
    visit(user="alice")
    async with inspector.run_test() as pilot:
        await settle(pilot)
        await pilot.press("d")
        await pilot.click("#confirm-yes")
        await settle(pilot)
    assert stored_keys(engine) == set()


async def test_failed_delete_is_notified_and_the_app_keeps_running(inspector, visit, engine):
    visit(user="alice")
    async with inspector.run_test(message_hook=(hooked := []).append) as pilot:
        await settle(pilot)
        await press_without_table(pilot, engine, "d", "y")
        errors = [m.notification.message for m in hooked if isinstance(m, Notify)]
        assert inspector.is_running and errors[0].startswith("Could not delete the sessions: no such table")
