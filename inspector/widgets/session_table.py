"""SessionTable: one page of sessions at a time, with marks and page-edge requests."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable

from .. import formatting

if TYPE_CHECKING:
    from ..rows import Page, SessionRow

MARK = "●"
_COLUMNS = (
    ("", "mark", 1),
    ("key", "key", formatting.SHORT_KEY),
    ("user", "user", 12),
    ("created", "created", 10),
    ("expires", "expires", 18),
    ("size", "size", 9),
    ("keys", "keys", 4),
    # Fixed widths: a long principal or preview would otherwise widen the table past the screen.
    ("preview", "preview", 26),
)


class SessionTable(DataTable[str | Text]):
    """A DataTable holding one page of rows, keyed by session key.

    Moving past the last row (or before the first) asks the screen for the
    next (or previous) page instead of stopping.
    """

    # DataTable binds enter without a description, which hides the screen's
    # "Detail" from the footer while the table has focus.
    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "select_cursor", "Detail")]

    @dataclass
    class PageRequested(Message):
        """The cursor ran off the page: ``forward`` is True for the next page."""

        forward: bool

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.page: Page | None = None

    def on_mount(self) -> None:
        for label, key, width in _COLUMNS:
            self.add_column(label, key=key, width=width)

    @property
    def highlighted_key(self) -> str | None:
        """The session key under the cursor, or None on an empty page."""
        if not self.row_count:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value

    @property
    def highlighted_row(self) -> SessionRow | None:
        """The row under the cursor, or None on an empty page."""
        key = self.highlighted_key
        rows = self.page.rows if self.page else ()
        return next((row for row in rows if row.session_key == key), None)

    def show_page(self, page: Page, now: datetime, marked: set[str], cursor_key: str | None = None) -> None:
        """Replace the rows with ``page``; keep the cursor on ``cursor_key`` if it is on it."""
        self.page = page
        with self.app.batch_update():
            self.clear()
            for row in page.rows:
                self.add_row(*self._cells(row, now, row.session_key in marked), key=row.session_key)
            keys = [row.session_key for row in page.rows]
            self.move_cursor(row=keys.index(cursor_key) if cursor_key in keys else 0, animate=False)

    def nearest_key(self, leaving: set[str]) -> str | None:
        """The key the cursor should land on once ``leaving`` rows are gone: the next one, else the previous."""
        keys = [row.session_key for row in self.page.rows] if self.page else []
        here = self.cursor_row
        for key in [*keys[here:], *reversed(keys[:here])]:
            if key not in leaving:
                return key
        return None

    def show_marks(self, marked: Iterable[str]) -> None:
        """Redraw the mark column for the rows on this page."""
        chosen = set(marked)
        for row in self.page.rows if self.page else ():
            self.update_cell(row.session_key, "mark", MARK if row.session_key in chosen else "")

    @staticmethod
    def _cells(row: SessionRow, now: datetime, marked: bool) -> tuple[str | Text, ...]:
        expired = row.expire_date <= now
        keys = row.key_count
        return (
            MARK if marked else "",
            formatting.safe_text(formatting.short_key(row.session_key)),
            # A principal is whatever the app stored under its principal key: shown escaped, never as markup.
            formatting.safe_text(row.principal or ""),
            formatting.ago(row.created, now),
            Text(formatting.expires(row.expire_date, now), style="dim" if expired else ""),
            Text(formatting.count(row.data_size), justify="right"),
            Text("-" if keys is None else str(keys), justify="right"),
            formatting.safe_text(row.preview, style="bold red" if keys is None else ""),
        )

    def action_cursor_down(self) -> None:
        if self._at_last_row() and self.page is not None and self.page.has_next:
            self.post_message(self.PageRequested(forward=True))
            return
        super().action_cursor_down()

    def action_page_down(self) -> None:
        if self._at_last_row() and self.page is not None and self.page.has_next:
            self.post_message(self.PageRequested(forward=True))
            return
        super().action_page_down()

    def action_cursor_up(self) -> None:
        if self.cursor_row == 0 and self.page is not None and self.page.has_previous:
            self.post_message(self.PageRequested(forward=False))
            return
        super().action_cursor_up()

    def action_page_up(self) -> None:
        if self.cursor_row == 0 and self.page is not None and self.page.has_previous:
            self.post_message(self.PageRequested(forward=False))
            return
        super().action_page_up()

    def _at_last_row(self) -> bool:
        return self.cursor_row >= self.row_count - 1
