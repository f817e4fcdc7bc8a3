"""Hostile keys, values and searches: shown escaped and literally, never as terminal codes or markup."""

from __future__ import annotations

import html
import re
import unicodedata

import pytest
from textual.notifications import Notify
from textual.widgets import Label, Static, TabbedContent, TextArea

from inspector.messages import LoadFailed
from inspector.widgets.session_table import SessionTable
from inspector.widgets.session_tree import SessionTree
from pyramid_dbsession.ids import session_key_for
from pyramid_dbsession.models import sessions_table

from .conftest import settle

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)

#: What any visitor can store through a view that keeps what it is sent: terminal codes and markup.
HOSTILE = {
    "\x1b]0;pwned\x07": "\x1b]52;c;ZXZpbA==\x07",  # retitle the terminal; write its clipboard
    "\x1b[2Jgone": "\x9b31mred",  # clear the screen; a C1 CSI
    "\u202eevil\r\x08": "[bold red]x",  # reorder the line, return, backspace; markup
    "[bold red]x": "[/]",
}
#: The keys as the table's preview shows them, sorted.
PREVIEW = "\\x1b[2Jgone, \\x1b]0;pwned\\x07, [bold red]x, \\u202eevil\\r\\x08"


class Note:
    """A value an app might store whose ``repr`` passes its text on unescaped."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"Note({self.text})"


def screen_text(app) -> str:
    """Every character on screen, as the compositor renders it for the terminal, one line per screen line.

    Read from a screenshot, whose SVG writes each space as a no-break space.
    """
    svg = app.export_screenshot()
    text = html.unescape("".join(re.findall(r"<text[^>]*>(.*?)</text>", svg, flags=re.DOTALL)))
    return text.replace("\xa0", " ")


def unprintable(text: str) -> set[str]:
    """The control, format and separator characters in ``text``, but for the newlines between its lines."""
    return {char for char in text if unicodedata.category(char) in {"Cc", "Cf", "Zl", "Zp"}} - {"\n"}


def rename_session(store, session_key: str) -> None:
    """Give the only row a key the app never writes, as a hand-edited or forged row would have."""
    with store.engine.begin() as connection:
        connection.execute(sessions_table.update().values(session_key=session_key))


def status_of(app) -> str:
    return str(app.screen.query_one("#status", Static).render())


async def test_hostile_keys_show_escaped_in_the_preview(inspector, visit):
    visit(**HOSTILE)
    async with inspector.run_test() as pilot:
        await settle(pilot)
        preview = inspector.screen.query_one(SessionTable).get_row_at(0)[-1]
    assert (preview.plain, preview.spans) == (PREVIEW, [])


async def test_hostile_data_puts_no_control_character_on_the_main_screen(inspector, visit):
    visit(**HOSTILE)
    async with inspector.run_test(size=(140, 24)) as pilot:
        await settle(pilot)
        text = screen_text(inspector)
    assert (unprintable(text), "\\x1b]0;pwned" in text) == (set(), True)


@pytest.mark.parametrize("tab", ["tab-tree", "tab-json"])
async def test_hostile_data_puts_no_control_character_in_the_detail_view(inspector, visit, store, tab):
    key = session_key_for(visit(user="alice"))
    data = {**HOSTILE, "note": Note("\x1b]2;pwned\x1b\\\x9b2J")}
    with store.engine.begin() as connection:
        connection.execute(sessions_table.update().values(session_data=store.codec.encode(key, data)))
    async with inspector.run_test(size=(140, 30)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        inspector.screen.query_one(TabbedContent).active = tab
        await pilot.pause()
        text = screen_text(inspector)
    assert (unprintable(text), "signature valid" in text) == (set(), True)


async def test_raw_view_shows_hostile_stored_text_escaped(inspector, visit, store):
    visit(user="alice")
    with store.engine.begin() as connection:
        connection.execute(sessions_table.update().values(session_data="\x1b]0;pwned\x07.[/]"))
    async with inspector.run_test() as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        raw = inspector.screen.query_one(TextArea).text
    assert raw == "\\x1b]0;pwned\\x07.[/]"


async def test_markup_in_stored_data_shows_literally_in_the_tree(inspector, visit):
    visit(**{"[bold red]x": "[/]"})
    async with inspector.run_test() as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        labels = [node.label.plain for node in inspector.screen.query_one(SessionTree).root.children]
    assert labels == ["'[bold red]x' = '[/]'"]


async def test_hostile_session_key_shows_escaped_and_literally(inspector, visit, store):
    visit(user="alice")
    rename_session(store, "[/]\x1b]0;pwned\x07")
    async with inspector.run_test() as pilot:
        await settle(pilot)
        shown = inspector.screen.query_one(SessionTable).get_row_at(0)[1].plain
    assert shown == "[/]\\x1b]0;pwned"


async def test_detail_summary_shows_a_hostile_session_key_literally(inspector, visit, store):
    visit(user="alice")
    rename_session(store, "[b]x[/]\x1b[2J")
    async with inspector.run_test() as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        summary = str(inspector.screen.query_one("#detail-summary", Static).render())
    assert summary.splitlines()[0] == "[b]x[/]\\x1b[2J"


async def test_confirm_dialog_shows_a_hostile_session_key_escaped(inspector, visit, store):
    visit(user="alice")
    rename_session(store, "\x1b]0;pwned\x07")
    async with inspector.run_test() as pilot:
        await settle(pilot)
        await pilot.press("d")
        question = str(inspector.screen.query_one("#confirm-question", Label).render())
    assert question == "Delete session \\x1b]0;pwned\\x07…?"


@pytest.mark.parametrize("prefix", ["[/]", "[bold]"])
async def test_markup_typed_as_a_key_prefix_shows_literally(inspector, visit, prefix):
    visit(user="alice")
    async with inspector.run_test() as pilot:
        await settle(pilot)
        await pilot.press("slash", *prefix)
        await settle(pilot)
        assert f"key: {prefix}…" in status_of(inspector)


@pytest.mark.parametrize("needle", ["[/]", "[bold]"])
async def test_searching_the_data_for_markup_finds_it(inspector, visit, needle):
    cookie = visit(note=f"a {needle} b")
    visit(note="plain")
    async with inspector.run_test() as pilot:
        await settle(pilot)
        await pilot.press("slash", *needle, "enter")
        await settle(pilot)
        shown = [row.session_key for row in inspector.screen.query_one(SessionTable).page.rows]
        status = status_of(inspector)
    assert (shown, f"data contains {needle!r}" in status) == ([session_key_for(cookie)], True)


async def test_search_notification_shows_markup_literally(inspector, visit):
    visit(note="[bold]")
    async with inspector.run_test(message_hook=(hooked := []).append) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"[bold]", "enter")
        await settle(pilot)
    notes = [m.notification for m in hooked if isinstance(m, Notify) and m.notification.title == "Search"]
    assert [(n.message, n.markup) for n in notes] == [("Search done: 1 sessions contain '[bold]'.", False)]


async def test_database_error_is_notified_escaped_and_literally(inspector):
    async with inspector.run_test(message_hook=(hooked := []).append) as pilot:
        await settle(pilot)
        inspector.screen.post_message(LoadFailed("read the sessions", "bad value '[/]\x1b]0;pwned\x07'"))
        await pilot.pause()
    notes = [m.notification for m in hooked if isinstance(m, Notify)]
    expected = "Could not read the sessions: bad value '[/]\\x1b]0;pwned\\x07'"
    assert [(n.message, n.markup) for n in notes] == [(expected, False)]


#: A principal is ``str()`` of whatever the app stored under its principal key: visitor text, on some sites.
HOSTILE_USER = "[b]x[/]\x1b]0;pwned\x07"
SHOWN_USER = "[b]x[/]\\x1b]0;pwned\\x07"


async def test_hostile_user_shows_escaped_and_literally_in_the_table(inspector, visit):
    key = session_key_for(visit(**{"auth.userid": HOSTILE_USER}))
    async with inspector.run_test() as pilot:
        await settle(pilot)
        shown = inspector.screen.query_one(SessionTable).get_cell(key, "user")
    assert (shown.plain, shown.spans) == (SHOWN_USER, [])


@pytest.mark.parametrize("user", ["[/]", "[bold]"])
async def test_markup_typed_as_a_user_shows_literally(inspector, visit, user):
    visit(**{"auth.userid": user})
    async with inspector.run_test(size=(120, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", "@", *user)
        await settle(pilot)
        assert f"user: {user} · 1 of 1 shown" in status_of(inspector)


async def test_log_out_dialog_and_notification_show_a_hostile_user_escaped(inspector, visit):
    visit(**{"auth.userid": HOSTILE_USER})
    async with inspector.run_test(message_hook=(hooked := []).append) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        question = str(inspector.screen.query_one("#confirm-question", Label).render())
        await pilot.press("y")
        await settle(pilot)
    notes = [(m.notification.message, m.notification.markup) for m in hooked if isinstance(m, Notify)]
    assert (question, notes) == (
        f"End the only session of user {SHOWN_USER}?",
        [(f"Ended 1 session of user {SHOWN_USER}.", False)],
    )
