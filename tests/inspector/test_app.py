"""App-wide keys: help, command palette and quit."""

from __future__ import annotations

import pytest
from textual.command import CommandPalette
from textual.widgets import Static

from inspector.screens.help import HelpScreen

from .conftest import settle

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)

PINNED = {"q", "r", "/", "enter", "escape", "space", "d", "u", "x", "s", "f", "?"}


def titles(app) -> set[str]:
    return {command.title for command in app.get_system_commands(app.screen)}


async def test_question_mark_opens_help_listing_every_pinned_key(inspector, visit):
    async with inspector.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(inspector.screen, HelpScreen)
        shown = {binding.key_display or binding.key for binding in inspector.screen.bindings}
    assert shown == PINNED


async def test_escape_closes_the_help(inspector):
    async with inspector.run_test() as pilot:
        await settle(pilot)
        await pilot.press("question_mark", "escape")
        assert not isinstance(inspector.screen, HelpScreen)


async def test_command_palette_offers_every_action(inspector):
    async with inspector.run_test() as pilot:
        await settle(pilot)
        offered = titles(inspector)
    assert {
        "Quit",
        "Help",
        "Refresh",
        "Search",
        "Detail",
        "Back",
        "Mark",
        "Delete",
        "Log out user",
        "Purge expired",
        "Sort",
        "Filter",
    } <= offered


async def test_read_only_palette_offers_no_deletion(make_inspector):
    app = make_inspector(read_only=True)
    async with app.run_test() as pilot:
        await settle(pilot)
        offered = titles(app)
    assert not {"Delete", "Log out user", "Purge expired"} & offered


async def test_palette_command_runs_its_action(inspector, visit):
    visit(user="alice")
    async with inspector.run_test() as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        assert isinstance(inspector.screen, CommandPalette)
        await pilot.press(*"Sort", "enter")
        await settle(pilot)
        assert inspector.screen.query_state.sort.label == "created"


async def test_q_quits(inspector):
    async with inspector.run_test() as pilot:
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
        assert not inspector.is_running


async def test_help_footnote_names_the_palette(inspector):
    async with inspector.run_test() as pilot:
        await pilot.press("question_mark")
        assert "command palette" in str(inspector.screen.query_one("#help-footnote", Static).render())
