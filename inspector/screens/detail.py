"""DetailScreen: one session's decoded data as a tree, as pretty text and as stored."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from rich.console import Console, ConsoleOptions, RenderResult
from rich.highlighter import ReprHighlighter
from rich.pretty import pretty_repr
from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
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
    Status.VALID: ("signature valid", "b green"),
    Status.TAMPERED: ("tampered", "b red"),
    Status.UNDECODABLE: ("undecodable", "b red"),
}
_highlight = ReprHighlighter()


def _key_line(session_key: str) -> tuple[str, str]:
    """The session key in bold, escaped: a row's key is whatever the table holds."""
    return formatting.printable(session_key), "b"


def describe(detail: SessionDetail, now_text: tuple[str, str]) -> Content:
    """The summary lines above the tabs: key, times, size and signature status."""
    created, expires = now_text
    reason = f": {detail.decoded.reason}" if detail.decoded.reason else ""
    return Content.assemble(
        _key_line(detail.session_key),
        f"\ncreated {created} · expires {expires} · {detail.data_size:,} bytes · version {detail.version}\n",
        _STATUS_TEXT[detail.decoded.status],
        formatting.printable(reason),
    )


def clip(text: str) -> str:
    """``text`` escaped by :func:`~inspector.formatting.printable`, cut at :data:`RAW_LIMIT` characters.

    A note at the end says how many characters were left out.
    """
    if len(text) <= RAW_LIMIT:
        return formatting.printable(text)
    return f"{formatting.printable(text[:RAW_LIMIT])}\n… {len(text) - RAW_LIMIT:,} more characters"


class PrettyData:
    """``data`` pretty-printed to the width on hand, as :class:`rich.pretty.Pretty` does, but escaped.

    ``Pretty`` turns the escape sequences of a custom ``__repr__`` into styles
    and passes C1 controls and bidi overrides through; here every line goes
    through :func:`~inspector.formatting.printable` instead.
    """

    def __init__(self, data: object) -> None:
        self.data = data

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        text = pretty_repr(self.data, max_width=options.max_width, max_length=MAX_CHILDREN, max_string=STRING_LIMIT)
        yield _highlight(Text("\n").join(formatting.safe_text(line) for line in text.split("\n")))


class DetailScreen(Screen[None]):
    """The detail view of one session; ``escape`` goes back to the table."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", "Back")]

    def __init__(self, session_key: str) -> None:
        super().__init__()
        self.session_key = session_key
        self.detail: SessionDetail | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Content.assemble(_key_line(self.session_key), "\nloading…"), id="detail-summary")
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
            gone = ("this session no longer exists", "b red")
            summary.update(Content.assemble(_key_line(message.session_key), "\n", gone))
            return
        app = cast("InspectorContext", self.app)
        now = app.source.now()
        times = (formatting.ago(detail.created, now), formatting.expires(detail.expire_date, now))
        summary.update(describe(detail, times))
        self.query_one(SessionTree).show(detail.decoded.data)
        shown = detail.decoded.data if detail.decoded.data is not None else detail.decoded.reason
        self.query_one("#detail-pretty", Static).update(PrettyData(shown))
        self.query_one(TextArea).load_text(clip(detail.session_data))

    def on_load_failed(self, message: LoadFailed) -> None:
        app = cast("InspectorContext", self.app)
        app.report_failure(message)

    def action_back(self) -> None:
        """Return to the table."""
        self.dismiss(None)
