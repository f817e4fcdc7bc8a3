"""HelpScreen: the key bindings, listed from the same BINDINGS the footer shows."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


def key_table(bindings: Iterable[Binding]) -> Table:
    """A two-column table of keys and what they do."""
    table = Table(box=None, show_header=False, padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    for binding in bindings:
        if binding.description:
            table.add_row(binding.key_display or binding.key, binding.description)
    return table


class HelpScreen(ModalScreen[None]):
    """The keys of the inspector; any of ``escape``, ``q`` or ``?`` closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("q", "close", "Close", show=False),
        Binding("question_mark", "close", "Close", show=False),
    ]

    def __init__(self, bindings: Iterable[Binding]) -> None:
        super().__init__()
        self.bindings = list(bindings)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-dialog"):
            yield Static("[b]dbsession inspector: keys[/b]", id="help-title")
            yield Static(key_table(self.bindings), id="help-keys")
            yield Static("Every action is also in the command palette (ctrl+p).", id="help-footnote")

    def action_close(self) -> None:
        self.dismiss(None)
