"""The inspector's main flow, once, on PostgreSQL."""

from __future__ import annotations

import pytest

from inspector.screens.detail import DetailScreen
from pyramid_dbsession.ids import session_key_for

from ..conftest import session_rows
from .conftest import settle

pytestmark = pytest.mark.parametrize("database", ["postgresql"], indirect=True)


async def test_browse_page_open_and_delete_on_postgresql(make_inspector, visit, engine):
    cookies = [visit(expire_in=60 + n, n=str(n)) for n in range(4)]
    app = make_inspector(page_size=3)
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("pagedown", "pagedown")
        await settle(pilot)
        last = app.screen.table.highlighted_key
        await pilot.press("enter")
        await settle(pilot)
        opened = isinstance(app.screen, DetailScreen) and app.screen.detail.decoded.data["n"] == "3"
        await pilot.press("escape", "d", "y")
        await settle(pilot)
    remaining = {row.session_key for row in session_rows(engine)}
    assert last == session_key_for(cookies[3]) and opened
    assert remaining == {session_key_for(cookie) for cookie in cookies[:3]}
