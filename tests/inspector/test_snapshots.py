"""Snapshots of the main screen, the detail view and the confirmation dialogs.

Fixed rows under fixed keys, a fixed clock and a relative SQLite URL make the
screens the same on every run; update them with ``pytest --snapshot-update``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta

import pytest

from inspector import InspectorApp, SessionSource
from pyramid_dbsession import DBSessionFactory
from pyramid_dbsession.models import create_table

from ..conftest import SECRET, Clock
from .conftest import settle

SIZE = (110, 24)
ROWS = [
    ({"user_id": 42, "cart": [{"sku": "A-1", "qty": 2}, {"sku": "B-7", "qty": 1}], "locale": "en"}, -3, 14 * 24),
    ({"user_id": 7, "_csrft_": "c0ffee", "theme": "dark"}, -30, 20),
    ({"flash": ["Saved."], "user_id": 19}, -1, 2),
    ({"visits": 3}, -400, -26),
    ({}, -50, -1),
]


@pytest.fixture
def fixed_inspector(tmp_path, monkeypatch: pytest.MonkeyPatch, clock: Clock) -> Iterator[InspectorApp]:
    """An inspector over five known sessions, those with a ``user_id`` logged in as that user, and one forged row."""
    monkeypatch.chdir(tmp_path)
    store = DBSessionFactory("sqlite:///inspector.sqlite", SECRET, clock=clock).store
    create_table(store.engine)
    now = clock()
    with store.engine.begin() as connection:
        for n, (data, created_hours, expires_hours) in enumerate(ROWS):
            key = hashlib.sha256(f"session-{n}".encode()).hexdigest()
            text = store.codec.encode(key, data)
            created, expires = now + timedelta(hours=created_hours), now + timedelta(hours=expires_hours)
            principal = str(data["user_id"]) if "user_id" in data else None
            store.insert(connection, key, text, created, expires, principal=principal)
        forged = hashlib.sha256(b"forged").hexdigest()
        text = store.codec.encode("0" * 64, {"user_id": 1, "is_admin": True})
        store.insert(connection, forged, text, now - timedelta(minutes=5), now + timedelta(hours=5))
    yield InspectorApp(SessionSource(store), refresh_seconds=0)
    store.engine.dispose()


def test_main_screen(snap_compare, fixed_inspector):
    assert snap_compare(fixed_inspector, terminal_size=SIZE, run_before=settle)


def test_detail_view(snap_compare, fixed_inspector):
    async def open_detail(pilot):
        await settle(pilot)
        await pilot.press("f", "s", "s")  # live sessions, largest first: the cart
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(fixed_inspector, terminal_size=SIZE, run_before=open_detail)


def test_confirm_dialog(snap_compare, fixed_inspector):
    async def mark_two_and_delete(pilot):
        await settle(pilot)
        await pilot.press("space", "down", "space", "d")
        await pilot.pause()

    assert snap_compare(fixed_inspector, terminal_size=SIZE, run_before=mark_two_and_delete)


def test_log_out_dialog(snap_compare, fixed_inspector):
    async def log_out_the_cart_owner(pilot):
        await settle(pilot)
        await pilot.press(*["down"] * 5, "u")  # the last row by expiry: user 42 and the cart
        await settle(pilot)

    assert snap_compare(fixed_inspector, terminal_size=SIZE, run_before=log_out_the_cart_owner)
