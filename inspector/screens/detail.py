"""DetailScreen: one session's decoded data as a tree, as pretty text and as stored."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from rich.pretty import Pretty
from sqlalchemy.exc import SQLAlchemyError
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static, TabbedContent, TabPane, TextArea

from .. import formatting
from ..messages import DetailLoaded, LoadFailed
from ..rows import SessionDetail, Status
from ..source import describe_error
from ..widgets.session_tree import MAX_CHILDREN, SessionTree

if TYPE_CHECKING:
    from ..context import InspectorContext

#: Characters of stored text and of one string value shown: a session may hold a megabyte.
RAW_LIMIT = 65_536
STRING_LIMIT = 2_000

_STATUS_TEXT = {
    Status.VALID: "[b green]signature valid[/]",
    Status.TAMPERED: "[b red]tampered[/]",
    Status.UNDECODABLE: "[b red]undecodable[/]",
}


def describe(detail: SessionDetail, now_text: tuple[str, str]) -> str:
    """The summary lines above the tabs: key, times, size and signature status."""
    created, expires = now_text
    status = _STATUS_TEXT[detail.decoded.status]
    if detail.decoded.reason:
        status += f": {detail.decoded.reason}"
    return (
        f"[b]{detail.session_key}[/b]\n"
        f"created {created} · expires {expires} · {detail.data_size:,} bytes · version {detail.version}\n"
        f"{status}"
    )


def clip(text: str) -> str:
    """``text``, cut at :data:`RAW_LIMIT` characters with a note of how much was left out."""
    if len(text) <= RAW_LIMIT:
        return text
    return f"{text[:RAW_LIMIT]}\n… {len(text) - RAW_LIMIT:,} more characters"


class DetailScreen(Screen[None]):
    """The detail view of one session; ``escape`` goes back to the table."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", "Back")]

    def __init__(self, session_key: str) -> None:
        super().__init__()
        self.session_key = session_key
        self.detail: SessionDetail | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"[b]{self.session_key}[/b]\nloading…", id="detail-summary")
        with TabbedContent(id="detail-tabs"):
            with TabPane("Tree", id="tab-tree"):
                yield SessionTree(id="detail-tree")
            with TabPane("JSON", id="tab-json"), VerticalScroll():
                yield Static(id="detail-pretty")
            with TabPane("Raw", id="tab-raw"):
                yield TextArea("", read_only=True, soft_wrap=True, show_cursor=False, id="detail-raw")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(SessionTree).focus()
        self._fetch(self.session_key)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _fetch(self, session_key: str) -> None:
        app = cast("InspectorContext", self.app)
        try:
            detail = app.source.detail(session_key)
        except SQLAlchemyError as exc:
            self.post_message(LoadFailed("read the session", describe_error(exc)))
            return
        self.post_message(DetailLoaded(session_key, detail))

    def on_detail_loaded(self, message: DetailLoaded) -> None:
        detail = self.detail = message.detail
        summary = self.query_one("#detail-summary", Static)
        if detail is None:
            summary.update(f"[b]{message.session_key}[/b]\n[b red]this session no longer exists[/]")
            return
        app = cast("InspectorContext", self.app)
        now = app.source.now()
        times = (formatting.ago(detail.created, now), formatting.expires(detail.expire_date, now))
        summary.update(describe(detail, times))
        self.query_one(SessionTree).show(detail.decoded.data)
        shown = detail.decoded.data if detail.decoded.data is not None else detail.decoded.reason
        pretty = Pretty(shown, max_length=MAX_CHILDREN, max_string=STRING_LIMIT)
        self.query_one("#detail-pretty", Static).update(pretty)
        self.query_one(TextArea).load_text(clip(detail.session_data))

    def on_load_failed(self, message: LoadFailed) -> None:
        self.app.notify(
            f"Could not {message.action}: {message.error}", title="Database error", severity="error", timeout=8
        )

    def action_back(self) -> None:
        """Return to the table."""
        self.dismiss(None)
