"""The detail view: tree, pretty view, raw text and signature status."""

from __future__ import annotations

import io
import pickle

import pytest
from rich.console import Console
from textual.notifications import Notify
from textual.widgets import Static, TabbedContent, TextArea

from inspector.screens.browse import BrowseScreen
from inspector.screens.detail import RAW_LIMIT, DetailScreen
from inspector.widgets.session_tree import MAX_CHILDREN, SessionTree
from pyramid_dbsession.ids import session_key_for
from pyramid_dbsession.models import sessions_table

from .conftest import press_without_table, settle

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)


def summary_of(app) -> str:
    return str(app.screen.query_one("#detail-summary", Static).render())


async def open_detail(app, pilot) -> None:
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)


def rewrite_data(store, text: str) -> None:
    with store.engine.begin() as connection:
        connection.execute(sessions_table.update().values(session_data=text))


async def test_enter_opens_the_detail_of_the_highlighted_session(inspector, visit):
    cookie = visit(user="alice")
    async with inspector.run_test() as pilot:
        await open_detail(inspector, pilot)
        assert isinstance(inspector.screen, DetailScreen)
        assert inspector.screen.session_key == session_key_for(cookie)


async def test_detail_says_the_signature_is_valid(inspector, visit):
    visit(user="alice")
    async with inspector.run_test() as pilot:
        await open_detail(inspector, pilot)
        assert summary_of(inspector).endswith("signature valid")


async def test_detail_tree_shows_nested_data_when_expanded(inspector, visit, store, testapp):
    cookie = visit(user="alice")
    key = session_key_for(cookie)
    rewrite_data(store, store.codec.encode(key, {"cart": [{"sku": "A-1", "qty": 2}]}))
    async with inspector.run_test() as pilot:
        await open_detail(inspector, pilot)
        tree = inspector.screen.query_one(SessionTree)
        cart = tree.root.children[0]
        cart.expand()
        await pilot.pause()
        cart.children[0].expand()
        await pilot.pause()
        labels = [str(node.label) for node in cart.children[0].children]
    assert labels == ["'sku' = 'A-1'", "'qty' = 2"]


async def test_detail_tree_caps_long_lists(inspector, visit, store):
    key = session_key_for(visit(user="alice"))
    rewrite_data(store, store.codec.encode(key, {"items": list(range(MAX_CHILDREN + 5))}))
    async with inspector.run_test() as pilot:
        await open_detail(inspector, pilot)
        items = inspector.screen.query_one(SessionTree).root.children[0]
        items.expand()
        await pilot.pause()
        assert str(items.children[-1].label) == "… 5 more"


async def test_detail_pretty_view_shows_the_data(inspector, visit):
    visit(user="alice")
    async with inspector.run_test() as pilot:
        await open_detail(inspector, pilot)
        inspector.screen.query_one(TabbedContent).active = "tab-json"
        await pilot.pause()
        console = Console(file=io.StringIO(), width=80)
        console.print(inspector.screen.query_one("#detail-pretty", Static).content)
        assert console.file.getvalue() == "{'user': 'alice'}\n"


async def test_detail_raw_view_shows_the_stored_text(inspector, visit, store):
    key = session_key_for(visit(user="alice"))
    async with inspector.run_test() as pilot:
        await open_detail(inspector, pilot)
        assert inspector.screen.query_one(TextArea).text == inspector.source.detail(key).session_data


async def test_tampered_data_is_shown_as_tampered_with_the_reason(inspector, visit, store):
    visit(user="alice")
    rewrite_data(store, store.codec.encode("0" * 64, {"user": "mallory"}))
    async with inspector.run_test() as pilot:
        await open_detail(inspector, pilot)
        assert summary_of(inspector).endswith("tampered: signature does not match any configured secret")


async def test_undecodable_data_is_shown_with_the_reason(inspector, visit, store):
    key = session_key_for(visit(user="alice"))
    rewrite_data(store, store.codec.sign(key, pickle.dumps(["a", "list"])))
    async with inspector.run_test() as pilot:
        await open_detail(inspector, pilot)
        assert summary_of(inspector).endswith("undecodable: data is a list, not a dict")
        assert str(inspector.screen.query_one(SessionTree).root.label) == "data does not decode"


async def test_detail_of_a_session_deleted_meanwhile_says_so(inspector, visit, source):
    cookie = visit(user="alice")
    async with inspector.run_test() as pilot:
        await settle(pilot)
        source.delete([session_key_for(cookie)])
        await pilot.press("enter")
        await settle(pilot)
        assert summary_of(inspector).endswith("this session no longer exists")


async def test_escape_leaves_the_detail_view(inspector, visit):
    visit(user="alice")
    async with inspector.run_test() as pilot:
        await open_detail(inspector, pilot)
        await pilot.press("escape")
        assert isinstance(inspector.screen, BrowseScreen)


async def test_raw_view_of_a_huge_session_is_clipped(inspector, visit, store):
    key = session_key_for(visit(user="alice"))
    rewrite_data(store, store.codec.encode(key, {"blob": "x" * 200_000}))
    async with inspector.run_test() as pilot:
        await open_detail(inspector, pilot)
        text = inspector.screen.query_one(TextArea).text
    hidden = len(inspector.source.detail(key).session_data) - RAW_LIMIT
    assert text.endswith(f"… {hidden:,} more characters")


async def test_failed_detail_read_is_notified(inspector, visit, engine):
    visit(user="alice")
    async with inspector.run_test(message_hook=(hooked := []).append) as pilot:
        await settle(pilot)
        await press_without_table(pilot, engine, "enter")
        errors = [m.notification.message for m in hooked if isinstance(m, Notify)]
        assert errors[0].startswith("Could not read the session: no such table")
