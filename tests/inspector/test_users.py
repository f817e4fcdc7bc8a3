"""Sessions that know their user, in the inspector: the user column and ``@42``; on SQLite."""

from __future__ import annotations

import pytest
from textual.widgets import Input, Static

from inspector.widgets.session_table import SessionTable
from pyramid_dbsession.ids import session_key_for

from .conftest import settle

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)

#: The session key Pyramid's SessionAuthenticationHelper writes, the default ``dbsession.principal_key``.
USER_KEY = "auth.userid"


def shown_keys(app) -> list[str]:
    table = app.screen.query_one(SessionTable)
    return [row.session_key for row in table.page.rows] if table.page else []


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
