"""BrowseScreen: the table of sessions, its totals, search, marks and deletions, a user's sessions among them.

Every database call runs in a thread worker and comes back as a message from
:mod:`inspector.messages`; the screen only ever holds the page on display.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, ClassVar, cast

from sqlalchemy.exc import SQLAlchemyError
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.reactive import var
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, ProgressBar, Static
from textual.worker import get_current_worker

from pyramid_dbsession.errors import DBSessionError

from .. import formatting
from ..messages import (
    LoadFailed,
    PageLoaded,
    SearchFinished,
    SearchProgressed,
    SessionsDeleted,
    UserSessionsCounted,
    UserSessionsEnded,
)
from ..rows import PRINCIPAL_MARK, Query, Totals
from ..source import MAX_MATCHES, SessionSource, describe_error
from ..widgets.session_table import SessionTable
from .confirm_delete import ConfirmDeleteScreen
from .detail import DetailScreen
from .purge import PurgeScreen

if TYPE_CHECKING:
    from ..context import InspectorContext
    from ..rows import Position


class BrowseScreen(Screen[None]):
    """The main screen: one page of ``core_sessions`` and the actions on it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "reload", "Refresh"),
        Binding("slash", "search", "Search", key_display="/"),
        Binding("enter", "open_detail", "Detail"),
        Binding("escape", "back", "Back"),
        Binding("space", "mark", "Mark"),
        Binding("d", "delete", "Delete"),
        Binding("u", "end_user_sessions", "Log out user"),
        Binding("x", "purge", "Purge expired"),
        Binding("s", "cycle_sort", "Sort"),
        Binding("f", "cycle_filter", "Filter"),
    ]

    query_state: var[Query] = var(Query, init=False)

    def __init__(self) -> None:
        super().__init__()
        self.marked: set[str] = set()
        self.totals: Totals | None = None
        self.data_search: str = ""
        self._anchor: Position | None = None
        self._refreshed_at: datetime | None = None

    @property
    def inspector(self) -> InspectorContext:
        return cast("InspectorContext", self.app)

    @property
    def source(self) -> SessionSource:
        return self.inspector.source

    @property
    def table(self) -> SessionTable:
        return self.query_one(SessionTable)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="totals")
        yield Input(
            placeholder="/ key prefix or cookie value · @ and a user · enter searches inside the data", id="search"
        )
        yield SessionTable(id="session-table")
        yield ProgressBar(id="progress", show_eta=False)
        yield Static(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.table.focus()
        self._load()
        if self.inspector.refresh_seconds > 0:
            self.set_interval(self.inspector.refresh_seconds, self.action_reload)

    # -- loading pages ---------------------------------------------------------

    def _load(
        self,
        start: Position | None = None,
        *,
        inclusive: bool = False,
        backward: bool = False,
        cursor_key: str | None = None,
        refreshed: bool = False,
        count: bool = True,
    ) -> None:
        # On the status line, not the screen: restyling the whole screen costs more than the query.
        self.query_one("#status").set_class(True, "-loading")
        self._fetch_page(self.query_state, start, inclusive, backward, cursor_key, refreshed, count)

    @work(thread=True, exclusive=True, group="page", exit_on_error=False)
    def _fetch_page(
        self,
        query: Query,
        start: Position | None,
        inclusive: bool,
        backward: bool,
        cursor_key: str | None,
        refreshed: bool,
        count: bool,
    ) -> None:
        since = self._refreshed_at if refreshed else None
        try:
            if backward and start is not None:
                page = self.source.page_before(query, start)
                cursor_key = page.rows[-1].session_key if page.rows else None
            else:
                page = self.source.page(query, start, inclusive=inclusive)
            totals = self.source.totals(query, since) if count else None
        except SQLAlchemyError as exc:
            self.post_message(LoadFailed("read the sessions", describe_error(exc)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(PageLoaded(page, totals, cursor_key, refreshed))

    def on_page_loaded(self, message: PageLoaded) -> None:
        self.query_one("#status").set_class(False, "-loading")
        self._anchor = message.page.start if message.page.has_previous else None
        self.table.show_page(message.page, self.source.now(), self.marked, message.cursor_key)
        totals = message.totals
        if totals is None:
            self.notify_status()
            return
        news = ""
        if message.refreshed and self.totals is not None:
            ended = max(self.totals.live + totals.created_since - totals.live, 0)
            news = f"refreshed: {totals.created_since:,} appeared, {ended:,} ended"
        self.totals = totals
        self._refreshed_at = self.source.now()
        self._show_totals(news)

    def on_load_failed(self, message: LoadFailed) -> None:
        self.query_one("#status").set_class(False, "-loading")
        self.set_class(False, "-busy")
        self.inspector.report_failure(message)

    @on(SessionTable.PageRequested)
    def _turn_page(self, message: SessionTable.PageRequested) -> None:
        page = self.table.page
        if page is None or not page.rows:
            return
        # Turning a page keeps the totals: counting a million rows would cost more than the page.
        if message.forward:
            self._load(page.rows[-1].position, count=False)
        else:
            self._load(page.rows[0].position, backward=True, count=False)

    def watch_query_state(self) -> None:
        self._anchor = None
        self._load()

    # -- header and status line ----------------------------------------------------

    def _show_totals(self, news: str = "") -> None:
        totals = self.totals
        if totals is None:
            return
        self.query_one("#totals", Static).update(
            f"[b]{totals.all:,}[/b] sessions · [b]{totals.live:,}[/b] live · [b]{totals.expired:,}[/b] expired"
        )
        self.notify_status(news)

    def notify_status(self, news: str = "") -> None:
        """Redraw the status line: query, rows on screen, marks, and ``news`` if any."""
        query = self.query_state
        parts = [f"sort: {query.sort.label}", f"filter: {query.filter.value}"]
        if query.prefix:
            parts.append(f"key: {query.prefix}…")
        if query.principal is not None:
            parts.append(f"user: {query.principal}")
        if query.keys is not None:
            parts.append(f"data contains {self.data_search!r}")
        if self.totals is not None:
            shown = self.table.row_count
            parts.append(f"{shown:,} of {self.totals.matching:,} shown")
        if self.marked:
            parts.append(f"{len(self.marked):,} marked")
        if news:
            parts.append(news)
        # The prefix, the principal and the search are typed (or pasted) text: shown literally, never as markup.
        self.query_one("#status", Static).update(formatting.safe_text(" · ".join(parts)))

    # -- actions ------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action in {"delete", "end_user_sessions", "purge"} and self.inspector.read_only)

    def action_reload(self) -> None:
        """Re-read the page on display, keeping the cursor on the same session."""
        self._load(self._anchor, inclusive=True, cursor_key=self.table.highlighted_key, refreshed=True)

    def action_search(self) -> None:
        """Focus the search box."""
        self.query_one("#search", Input).focus()

    def action_open_detail(self) -> None:
        """Show the highlighted session in the detail view."""
        key = self.table.highlighted_key
        if key is not None:
            self.app.push_screen(DetailScreen(key))

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_detail()

    def action_back(self) -> None:
        """Leave the search box, stop a running search, or clear the search (a user's sessions too)."""
        search = self.query_one("#search", Input)
        if search.has_focus:
            self.table.focus()
            return
        running = [w for w in self.workers if w.group == "search" and w.is_running]
        if running:
            for worker in running:
                worker.cancel()
            return
        query = self.query_state
        if query.prefix or query.keys is not None or query.principal is not None:
            with search.prevent(Input.Changed):
                search.value = ""
            self.data_search = ""
            self.query_state = query.searching("")

    def action_mark(self) -> None:
        """Mark or unmark the highlighted session for deletion."""
        key = self.table.highlighted_key
        if key is None:
            return
        self.marked.symmetric_difference_update({key})
        self.table.show_marks(self.marked)
        self.notify_status()

    def action_cycle_sort(self) -> None:
        """Order by expiry, then creation, then size."""
        self.query_state = self.query_state.with_changes(sort=self.query_state.sort.next())

    def action_cycle_filter(self) -> None:
        """Show all, then live, then expired sessions."""
        self.query_state = self.query_state.with_changes(filter=self.query_state.filter.next())

    # -- search -------------------------------------------------------------------------

    @on(Input.Changed, "#search")
    def _prefix_changed(self, event: Input.Changed) -> None:
        self.data_search = ""
        self.query_state = self.query_state.searching(event.value)

    @on(Input.Submitted, "#search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        needle = event.value.strip()
        self.table.focus()
        # "@42" already lists the user's sessions: enter only returns to them.
        if needle and not needle.startswith(PRINCIPAL_MARK):
            self.data_search = needle
            self.set_class(True, "-busy")
            self.query_one("#progress", ProgressBar).update(total=None, progress=0)
            self._search(self.query_state.with_changes(prefix="", keys=None), needle)

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def _search(self, query: Query, needle: str) -> None:
        worker = get_current_worker()
        progress = None
        try:
            for progress in self.source.search(query, needle):
                if worker.is_cancelled:
                    break
                self.post_message(SearchProgressed(progress))
        except SQLAlchemyError as exc:
            self.post_message(LoadFailed("search the sessions", describe_error(exc)))
            return
        if progress is not None:
            self.post_message(SearchFinished(needle, progress, worker.is_cancelled))

    def on_search_progressed(self, message: SearchProgressed) -> None:
        progress = message.progress
        self.query_one("#progress", ProgressBar).update(total=max(progress.total, 1), progress=progress.scanned)
        self.notify_status(f"searching: {progress.scanned:,} scanned, {len(progress.matches):,} found")

    def on_search_finished(self, message: SearchFinished) -> None:
        self.set_class(False, "-busy")
        found = len(message.progress.matches)
        word = "stopped" if message.cancelled else "done"
        limit = f" (the first {MAX_MATCHES}: refine the search for more)" if found >= MAX_MATCHES else ""
        sentence = f"Search {word}: {found:,} sessions contain {message.needle!r}{limit}."
        self.app.notify(formatting.printable(sentence), title="Search", markup=False)
        self.data_search = message.needle
        self.query_state = self.query_state.with_changes(prefix="", keys=message.progress.matches)

    # -- deleting -----------------------------------------------------------------------

    def action_delete(self) -> None:
        """Delete the marked sessions, or the highlighted one, after confirmation."""
        keys = sorted(self.marked) if self.marked else [k for k in [self.table.highlighted_key] if k]
        if not keys:
            return
        if len(keys) == 1:
            question = f"Delete session {formatting.short_key(keys[0])}…?"
        else:
            question = f"Delete {len(keys):,} sessions?"

        def confirmed(answer: bool | None) -> None:
            if answer:
                self._delete(keys)

        self.app.push_screen(ConfirmDeleteScreen(question), confirmed)

    @work(thread=True, group="delete", exit_on_error=False)
    def _delete(self, keys: list[str]) -> None:
        try:
            count = self.source.delete(keys)
        except SQLAlchemyError as exc:
            self.post_message(LoadFailed("delete the sessions", describe_error(exc)))
            return
        self.post_message(SessionsDeleted(count, tuple(keys)))

    def on_sessions_deleted(self, message: SessionsDeleted) -> None:
        self._show_deletion(set(message.session_keys), f"Deleted {formatting.sessions(message.count)}.", "Deleted")

    def _show_deletion(self, session_keys: set[str], sentence: str, title: str) -> None:
        """Unmark the rows that went, say ``sentence``, and reload with the cursor on the nearest survivor."""
        self.marked.difference_update(session_keys)
        self.app.notify(formatting.printable(sentence), title=title, markup=False)
        survivor = self.table.nearest_key(session_keys)
        self._load(self._anchor, inclusive=True, cursor_key=survivor, refreshed=True)

    def action_end_user_sessions(self) -> None:
        """End every session of the highlighted session's user, after a confirmation saying how many."""
        row = self.table.highlighted_row
        if row is None:
            return
        if row.principal is None:
            self.app.notify("This session has no user: nothing to log out.", title="Log out user")
            return
        self._count_user_sessions(row.principal)

    @work(thread=True, exclusive=True, group="user", exit_on_error=False)
    def _count_user_sessions(self, principal: str) -> None:
        try:
            count = self.source.count_of(principal)
        except SQLAlchemyError as exc:
            self.post_message(LoadFailed("count the user's sessions", describe_error(exc)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(UserSessionsCounted(principal, count))

    def on_user_sessions_counted(self, message: UserSessionsCounted) -> None:
        principal, count = message.principal, message.count
        if not count:  # ended by the app, or by another inspector, since the page was read
            self.app.notify(
                formatting.printable(f"User {principal} has no sessions left."), title="Log out user", markup=False
            )
            return
        sessions = "the only session" if count == 1 else f"all {count:,} sessions"

        def confirmed(answer: bool | None) -> None:
            if answer:
                self._end_user_sessions(principal)

        self.app.push_screen(ConfirmDeleteScreen(f"End {sessions} of user {principal}?"), confirmed)

    @work(thread=True, group="delete", exit_on_error=False)
    def _end_user_sessions(self, principal: str) -> None:
        try:
            count = self.source.end_sessions_of(principal)
        except (SQLAlchemyError, DBSessionError) as exc:  # DBSessionError: a deadlock or lock wait, via the store
            self.post_message(LoadFailed("end the user's sessions", describe_error(exc)))
            return
        self.post_message(UserSessionsEnded(principal, count))

    def on_user_sessions_ended(self, message: UserSessionsEnded) -> None:
        rows = self.table.page.rows if self.table.page else ()
        ended = {row.session_key for row in rows if row.principal == message.principal}
        sentence = f"Ended {formatting.sessions(message.count)} of user {message.principal}."
        self._show_deletion(ended, sentence, "Logged out")

    def action_purge(self) -> None:
        """Delete every expired session in batches, after confirmation."""
        expired = self.totals.expired if self.totals else 0
        if not expired:
            self.app.notify("No expired sessions to purge.", title="Purge")
            return

        def confirmed(answer: bool | None) -> None:
            if answer:
                self.app.push_screen(PurgeScreen(expired), lambda deleted: self.action_reload())

        self.app.push_screen(ConfirmDeleteScreen(f"Purge {expired:,} expired sessions?"), confirmed)
