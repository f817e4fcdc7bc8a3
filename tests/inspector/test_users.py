"""Sessions that know their user, in the inspector: the user column, ``@42``, and logging a user out; on SQLite."""

from __future__ import annotations

import pytest
import webtest
from textual.notifications import Notify
from textual.widgets import Input, Label, Static
from textual.widgets._footer import FooterKey

from inspector.screens.confirm_delete import ConfirmDeleteScreen
from inspector.widgets.session_table import SessionTable
from pyramid_dbsession import TransientDatabaseError
from pyramid_dbsession.ids import session_key_for
from pyramid_dbsession.models import sessions_table

from ..conftest import session_rows
from .conftest import press_without_table, settle

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)

#: The session key Pyramid's SessionAuthenticationHelper writes, the default ``dbsession.principal_key``.
USER_KEY = "auth.userid"


def shown_keys(app) -> list[str]:
    table = app.screen.query_one(SessionTable)
    return [row.session_key for row in table.page.rows] if table.page else []


def stored_keys(engine) -> set[str]:
    return {row.session_key for row in session_rows(engine)}


def question_of(app) -> str:
    return str(app.screen.query_one("#confirm-question", Label).render())


def notes_of(hooked: list[object]) -> list[str]:
    return [m.notification.message for m in hooked if isinstance(m, Notify)]


async def log_out(pilot, answer: str = "y") -> None:
    """Press u, wait for its question, answer it and wait for what follows."""
    await pilot.press("u")
    await settle(pilot)
    await pilot.press(answer)
    await settle(pilot)


@pytest.fixture
def log_in(visit):
    """Start a session of ``user``, as a login through SessionAuthenticationHelper would; return its cookie."""

    def start(user: str, **options: int) -> str:
        return visit(**{USER_KEY: user}, **options)

    return start


async def test_user_column_shows_the_principal_or_nothing(inspector, log_in, visit):
    user = log_in("42", expire_in=60)
    visit(expire_in=120, cart="3")
    async with inspector.run_test(size=(140, 24)) as pilot:
        await settle(pilot)
        table = inspector.screen.query_one(SessionTable)
        shown = shown_keys(inspector)
        users = [str(table.get_cell(key, "user")) for key in shown]
    assert (shown[0], users) == (session_key_for(user), ["42", ""])


async def test_slash_at_and_a_user_lists_only_that_users_sessions(inspector, log_in, visit):
    mine = {log_in("42"), log_in("42")}
    log_in("421")
    visit(cart="3")
    async with inspector.run_test() as pilot:
        await settle(pilot)
        await pilot.press("slash", *"@42")
        await settle(pilot)
        assert sorted(shown_keys(inspector)) == sorted(map(session_key_for, mine))


async def test_a_users_sessions_page_by_page(make_inspector, log_in):
    mine = [log_in("42", expire_in=60 + n) for n in range(3)]
    for n in range(3):
        log_in("7", expire_in=61 + n)
    app = make_inspector(page_size=2)
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("slash", *"@42", "enter")
        await settle(pilot)
        first = shown_keys(app)
        await pilot.press("pagedown", "pagedown")
        await settle(pilot)
        assert first + shown_keys(app) == [session_key_for(cookie) for cookie in mine]


async def test_status_line_names_the_user_and_counts_their_sessions(inspector, log_in):
    log_in("42")
    log_in("7")
    async with inspector.run_test(size=(120, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"@42")
        await settle(pilot)
        status = str(inspector.screen.query_one("#status", Static).render())
    assert "user: 42 · 1 of 1 shown" in status


async def test_enter_after_a_user_searches_no_data(inspector, log_in, visit):
    mine = log_in("42")
    visit(note="@42")
    async with inspector.run_test() as pilot:
        await settle(pilot)
        await pilot.press("slash", *"@42", "enter")
        await settle(pilot)
        assert (shown_keys(inspector), inspector.screen.query_one(SessionTable).has_focus) == (
            [session_key_for(mine)],
            True,
        )


async def test_escape_clears_the_user_filter(inspector, log_in):
    cookies = {log_in("42"), log_in("7")}
    async with inspector.run_test() as pilot:
        await settle(pilot)
        await pilot.press("slash", *"@42", "escape", "escape")
        await settle(pilot)
        shown, typed = sorted(shown_keys(inspector)), inspector.screen.query_one("#search", Input).value
    assert (shown, typed) == (sorted(map(session_key_for, cookies)), "")


async def test_footer_shows_the_log_out_key(inspector):
    async with inspector.run_test(size=(160, 24)) as pilot:
        await settle(pilot)
        keys = {key.key: key.description for key in inspector.screen.query(FooterKey)}
    assert keys["u"] == "Log out user"


async def test_u_asks_how_many_sessions_of_the_user_it_ends(inspector, log_in, clock):
    log_in("42", expire_in=60)
    for _ in range(2):
        log_in("42")
    clock.advance(120)  # an expired session is still stored, and ended with the others
    async with inspector.run_test() as pilot:
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert (isinstance(inspector.screen, ConfirmDeleteScreen), question_of(inspector)) == (
            True,
            "End all 3 sessions of user 42?",
        )


async def test_u_for_a_user_of_one_session_asks_about_the_only_one(inspector, log_in):
    log_in("42")
    async with inspector.run_test() as pilot:
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert question_of(inspector) == "End the only session of user 42?"


async def test_u_then_y_logs_the_user_out_everywhere_and_keeps_the_others(inspector, log_in, visit, testapp, engine):
    mine = [log_in("42", expire_in=60 + n) for n in range(3)]
    others = {log_in("7", expire_in=600), visit(expire_in=601, cart="3")}
    async with inspector.run_test(message_hook=(hooked := []).append) as pilot:
        await settle(pilot)
        await log_out(pilot)
        shown = shown_keys(inspector)
    browser = webtest.TestApp(testapp.app)
    browser.set_cookie("session", mine[0])
    assert (stored_keys(engine), browser.get("/show").json) == (set(map(session_key_for, others)), {})
    assert (sorted(shown), notes_of(hooked)) == (sorted(map(session_key_for, others)), ["Ended 3 sessions of user 42."])


@pytest.mark.parametrize("answer", ["n", "escape"])
async def test_u_then_no_keeps_the_users_sessions(inspector, log_in, engine, answer):
    cookies = {log_in("42"), log_in("42")}
    async with inspector.run_test() as pilot:
        await settle(pilot)
        await log_out(pilot, answer)
    assert stored_keys(engine) == set(map(session_key_for, cookies))


async def test_u_on_a_session_without_a_user_says_so_and_ends_nothing(inspector, visit, engine):
    cookie = visit(cart="3")
    async with inspector.run_test(message_hook=(hooked := []).append) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        asked = isinstance(inspector.screen, ConfirmDeleteScreen)
    assert (asked, notes_of(hooked), stored_keys(engine)) == (
        False,
        ["This session has no user: nothing to log out."],
        {session_key_for(cookie)},
    )


async def test_u_after_the_users_sessions_ended_elsewhere_says_none_are_left(inspector, log_in, engine):
    log_in("42")
    async with inspector.run_test(message_hook=(hooked := []).append) as pilot:
        await settle(pilot)
        with engine.begin() as connection:
            connection.execute(sessions_table.delete())
        await pilot.press("u")
        await settle(pilot)
        asked = isinstance(inspector.screen, ConfirmDeleteScreen)
    assert (asked, notes_of(hooked)) == (False, ["User 42 has no sessions left."])


async def test_logging_a_user_out_unmarks_their_sessions(inspector, log_in):
    log_in("42", expire_in=60)
    kept = log_in("7", expire_in=120)
    async with inspector.run_test() as pilot:
        await settle(pilot)
        await pilot.press("space", "down", "space", "up")
        await log_out(pilot)
        assert inspector.screen.marked == {session_key_for(kept)}


async def test_read_only_inspector_logs_no_user_out(make_inspector, log_in, engine):
    cookie = log_in("42")
    app = make_inspector(read_only=True)
    async with app.run_test() as pilot:
        await settle(pilot)
        await log_out(pilot)
    assert stored_keys(engine) == {session_key_for(cookie)}


async def test_failed_count_is_notified_and_asks_nothing(inspector, log_in, engine):
    log_in("42")
    async with inspector.run_test(message_hook=(hooked := []).append) as pilot:
        await settle(pilot)
        await press_without_table(pilot, engine, "u")
        asked = isinstance(inspector.screen, ConfirmDeleteScreen)
    notes = notes_of(hooked)
    assert (asked, notes[0].startswith("Could not count the user's sessions: no such table")) == (False, True)


async def test_failed_log_out_is_notified_and_the_app_keeps_running(inspector, log_in, engine):
    log_in("42")
    async with inspector.run_test(message_hook=(hooked := []).append) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        await press_without_table(pilot, engine, "y")
        running = inspector.is_running
    notes = notes_of(hooked)
    assert (running, notes[0].startswith("Could not end the user's sessions: no such table")) == (True, True)


async def test_lost_race_while_logging_out_is_notified(inspector, log_in, monkeypatch):
    log_in("42")

    def deadlocked(principal: object, keep: str | None = None) -> int:
        raise TransientDatabaseError(1213, "deadlock found when trying to get lock")

    monkeypatch.setattr(inspector.source.store, "end_sessions_of", deadlocked)
    async with inspector.run_test(message_hook=(hooked := []).append) as pilot:
        await settle(pilot)
        await log_out(pilot)
    expected = "Could not end the user's sessions: database error 1213: deadlock found when trying to get lock"
    assert notes_of(hooked)[0].startswith(expected)
