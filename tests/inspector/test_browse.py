"""The main screen, driven with Pilot on SQLite sessions made by the real app."""

from __future__ import annotations

import threading

import pytest
from textual.notifications import Notify
from textual.widgets import Input, Static

from inspector.messages import SearchFinished
from inspector.screens.browse import BrowseScreen
from inspector.widgets.session_table import MARK, SessionTable
from pyramid_dbsession.ids import session_key_for

from .conftest import press_without_table, settle

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)


def table_of(app) -> SessionTable:
    return app.screen.query_one(SessionTable)


def shown_keys(app) -> list[str]:
    table = table_of(app)
    return [row.session_key for row in table.page.rows] if table.page else []


def text_of(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def test_main_screen_lists_sessions_made_by_the_app(inspector, visit):
    cookies = {visit(user="alice"), visit(user="bob")}
    async with inspector.run_test() as pilot:
        await settle(pilot)
        assert sorted(shown_keys(inspector)) == sorted(map(session_key_for, cookies))


async def test_header_shows_totals_and_database(inspector, visit, clock):
    visit(expire_in=60, who="gone")
    visit(who="here")
    clock.advance(120)
    async with inspector.run_test() as pilot:
        await settle(pilot)
        assert text_of(inspector, "#totals") == "2 sessions · 1 live · 1 expired"
        assert inspector.sub_title == inspector.source.database


async def test_row_shows_short_key_times_size_keys_and_preview(inspector, visit, clock):
    cookie = visit(user="alice", cart="3")
    clock.advance(7200)
    async with inspector.run_test(size=(140, 24)) as pilot:
        await settle(pilot)
        cells = [str(cell) for cell in table_of(inspector).get_row_at(0)]
    key = session_key_for(cookie)
    size = inspector.source.detail(key).data_size
    assert cells == ["", key[:12], "", "2 h ago", "in 13 d", f"{size:,}", "2", "cart, user"]


async def test_expired_session_reads_expired_ago(inspector, visit, clock):
    visit(expire_in=60, who="gone")
    clock.advance(3 * 86400)
    async with inspector.run_test() as pilot:
        await settle(pilot)
        assert str(table_of(inspector).get_row_at(0)[4]) == "expired 2 d ago"


async def test_pagedown_at_the_end_of_a_page_loads_the_next_page(make_inspector, visit):
    for n in range(5):
        visit(expire_in=60 + n, n=str(n))
    app = make_inspector(page_size=3)
    async with app.run_test() as pilot:
        await settle(pilot)
        first = shown_keys(app)
        await pilot.press("pagedown", "pagedown")
        await settle(pilot)
        assert len(shown_keys(app)) == 2 and not set(shown_keys(app)) & set(first)


async def test_up_at_the_top_of_a_page_loads_the_previous_page(make_inspector, visit):
    for n in range(5):
        visit(expire_in=60 + n, n=str(n))
    app = make_inspector(page_size=3)
    async with app.run_test() as pilot:
        await settle(pilot)
        first = shown_keys(app)
        await pilot.press("down", "down", "down")
        await settle(pilot)
        await pilot.press("up")
        await settle(pilot)
        assert shown_keys(app) == first and table_of(app).highlighted_key == first[-1]


async def test_s_sorts_by_creation_newest_first(inspector, visit, clock):
    old = visit(expire_in=60, a="old")
    clock.advance(10)
    new = visit(a="new")
    async with inspector.run_test() as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        assert shown_keys(inspector) == [session_key_for(new), session_key_for(old)]


async def test_s_twice_sorts_by_size_largest_first(inspector, visit):
    small = visit(a="x")
    large = visit(a="x" * 300)
    async with inspector.run_test() as pilot:
        await settle(pilot)
        await pilot.press("s", "s")
        await settle(pilot)
        assert shown_keys(inspector) == [session_key_for(large), session_key_for(small)]


async def test_f_shows_only_live_sessions(inspector, visit, clock):
    visit(expire_in=60, who="gone")
    live = visit(who="here")
    clock.advance(120)
    async with inspector.run_test() as pilot:
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        assert shown_keys(inspector) == [session_key_for(live)]


async def test_f_twice_shows_only_expired_sessions(inspector, visit, clock):
    gone = visit(expire_in=60, who="gone")
    visit(who="here")
    clock.advance(120)
    async with inspector.run_test() as pilot:
        await settle(pilot)
        await pilot.press("f", "f")
        await settle(pilot)
        assert shown_keys(inspector) == [session_key_for(gone)]


async def test_slash_and_a_key_prefix_filter_the_table(inspector, visit):
    cookies = [visit(n=str(n)) for n in range(6)]
    prefix = session_key_for(cookies[0])[:2]
    async with inspector.run_test() as pilot:
        await settle(pilot)
        await pilot.press("slash", *prefix)
        await settle(pilot)
        keys = shown_keys(inspector)
    assert session_key_for(cookies[0]) in keys and all(key.startswith(prefix) for key in keys)


async def test_pasting_a_cookie_value_finds_its_session(inspector, visit):
    cookie = visit(user="alice")
    visit(user="bob")
    async with inspector.run_test() as pilot:
        await settle(pilot)
        await pilot.press("slash")
        inspector.screen.query_one("#search", Input).value = cookie
        await settle(pilot)
        assert shown_keys(inspector) == [session_key_for(cookie)]


async def test_enter_in_the_search_box_searches_inside_the_data(inspector, visit):
    alice = visit(user="alice")
    visit(user="bob")
    async with inspector.run_test() as pilot:
        await settle(pilot)
        await pilot.press("slash", *"ALICE", "enter")
        await settle(pilot)
        assert shown_keys(inspector) == [session_key_for(alice)]


async def test_escape_clears_a_data_search(inspector, visit):
    cookies = {visit(user="alice"), visit(user="bob")}
    async with inspector.run_test() as pilot:
        await settle(pilot)
        await pilot.press("slash", *"alice", "enter")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert sorted(shown_keys(inspector)) == sorted(map(session_key_for, cookies))


async def test_escape_stops_a_running_data_search(inspector, visit, monkeypatch):
    for n in range(3):
        visit(user=f"alice {n}")
    source = inspector.source
    scan, release = source.search, threading.Event()

    def held_search(query, needle):
        for progress in scan(query, needle):
            yield progress
            release.wait(5)

    monkeypatch.setattr(source, "search", held_search)
    monkeypatch.setattr("inspector.source.SEARCH_CHUNK", 1)
    async with inspector.run_test(message_hook=(hooked := []).append) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"alice", "enter")
        await pilot.pause()
        await pilot.press("escape")
        release.set()
        await settle(pilot)
    finished = {id(m): m for m in hooked if isinstance(m, SearchFinished)}.values()
    assert [(m.cancelled, m.progress.scanned) for m in finished] == [(True, 2)]


async def test_r_shows_a_new_session_and_counts_it(inspector, visit, clock):
    visit(user="alice")
    async with inspector.run_test(size=(120, 24)) as pilot:
        await settle(pilot)
        clock.advance(1)
        new = visit(user="bob")
        await pilot.press("r")
        await settle(pilot)
        assert session_key_for(new) in shown_keys(inspector)
        assert "1 appeared, 0 ended" in text_of(inspector, "#status")


async def test_r_keeps_the_cursor_on_the_same_session(inspector, visit, clock):
    for n in range(3):
        visit(expire_in=600 + n, n=str(n))
    async with inspector.run_test() as pilot:
        await settle(pilot)
        await pilot.press("down")
        chosen = table_of(inspector).highlighted_key
        visit(expire_in=60, n="first now")
        await pilot.press("r")
        await settle(pilot)
        assert table_of(inspector).highlighted_key == chosen and shown_keys(inspector).index(chosen) == 2


async def test_refresh_counts_sessions_that_ended(inspector, visit, clock):
    visit(expire_in=60, who="short")
    visit(who="long")
    async with inspector.run_test(size=(120, 24)) as pilot:
        await settle(pilot)
        clock.advance(120)
        await pilot.press("r")
        await settle(pilot)
        assert "0 appeared, 1 ended" in text_of(inspector, "#status")


async def test_timer_refreshes_the_table(make_inspector, visit):
    app = make_inspector(refresh_seconds=0.05)
    async with app.run_test() as pilot:
        await settle(pilot)
        new = visit(user="late")
        for _ in range(100):
            await pilot.pause(0.05)
            if session_key_for(new) in shown_keys(app):
                break
        assert session_key_for(new) in shown_keys(app)


async def test_space_marks_the_highlighted_session(inspector, visit):
    visit(user="alice")
    async with inspector.run_test() as pilot:
        await settle(pilot)
        await pilot.press("space")
        assert str(table_of(inspector).get_row_at(0)[0]) == MARK
        assert inspector.screen.marked == {table_of(inspector).highlighted_key}


async def test_space_twice_unmarks_the_session(inspector, visit):
    visit(user="alice")
    async with inspector.run_test() as pilot:
        await settle(pilot)
        await pilot.press("space", "space")
        assert inspector.screen.marked == set()


async def test_database_error_is_notified_and_the_app_recovers(inspector, visit, engine):
    cookie = visit(user="alice")
    async with inspector.run_test(message_hook=(hooked := []).append) as pilot:
        await settle(pilot)
        await press_without_table(pilot, engine, "r")
        visit(user="back")
        await pilot.press("r")
        await settle(pilot)
        errors = [m.notification.message for m in hooked if isinstance(m, Notify)]
        assert isinstance(inspector.screen, BrowseScreen)
        assert errors and errors[0].startswith("Could not read the sessions: no such table")
        assert session_key_for(cookie) not in shown_keys(inspector) and len(shown_keys(inspector)) == 1


async def test_data_search_says_when_it_stopped_at_the_match_limit(inspector, visit, monkeypatch):
    for n in range(3):
        visit(user=f"alice {n}")
    monkeypatch.setattr("inspector.source.MAX_MATCHES", 2)
    monkeypatch.setattr("inspector.screens.browse.MAX_MATCHES", 2)
    async with inspector.run_test(message_hook=(hooked := []).append) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"alice", "enter")
        await settle(pilot)
        assert len(shown_keys(inspector)) == 2
    notes = [m.notification.message for m in hooked if isinstance(m, Notify)]
    assert notes == ["Search done: 2 sessions contain 'alice' (the first 2: refine the search for more)."]


async def test_escape_in_the_search_box_returns_to_the_table(inspector, visit):
    visit(user="alice")
    async with inspector.run_test() as pilot:
        await settle(pilot)
        await pilot.press("slash", "escape")
        assert table_of(inspector).has_focus
