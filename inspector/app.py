"""InspectorApp: the bindings, the screens and the command palette, nothing else."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from . import formatting
from .messages import LoadFailed
from .screens.browse import BrowseScreen
from .screens.help import HelpScreen
from .source import SessionSource


class InspectorApp(App[None]):
    """Browse, decode and delete the sessions stored in ``core_sessions``.

    ``source`` reads the table (its store's clock decides what is expired);
    ``read_only`` disables every deletion; ``refresh_seconds`` (0: never) sets
    the live refresh; ``purge_batch`` is the number of rows each purge
    transaction deletes.
    """

    TITLE = "dbsession inspector"
    CSS_PATH = "app.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help", key_display="?"),
    ]

    def __init__(
        self,
        source: SessionSource,
        *,
        read_only: bool = False,
        refresh_seconds: float = 5.0,
        purge_batch: int = 5000,
    ) -> None:
        super().__init__()
        self.source = source
        self.read_only = read_only
        self.refresh_seconds = refresh_seconds
        self.purge_batch = purge_batch
        self.sub_title = source.database + (" (read-only)" if read_only else "")

    def get_default_screen(self) -> Screen[None]:
        return BrowseScreen()

    def _bindings_of(self, screen: Screen[object]) -> list[Binding]:
        """The app's and the screen's bindings that are enabled and described."""
        found = []
        for node, bindings in ((self, self.BINDINGS), (screen, screen.BINDINGS)):
            for binding in bindings:
                if isinstance(binding, Binding) and binding.description and node.check_action(binding.action, ()):
                    found.append(binding)
        return found

    def report_failure(self, failure: LoadFailed) -> None:
        """Notify that a database call failed; the error may quote stored data, so it is shown literally."""
        self.notify(
            formatting.printable(f"Could not {failure.action}: {failure.error}"),
            title="Database error",
            severity="error",
            timeout=8,
            markup=False,
        )

    def action_help(self) -> None:
        """List the keys of the current screen."""
        self.push_screen(HelpScreen(self._bindings_of(self.screen)))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for binding in self._bindings_of(screen):
            node = self if binding in self.BINDINGS else screen
            key = binding.key_display or binding.key
            yield SystemCommand(
                binding.description, f"{binding.action.replace('_', ' ')} (key: {key})",
                partial(node.run_action, binding.action),
            )  # fmt: skip
