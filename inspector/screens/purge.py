"""PurgeScreen: delete every expired session in batches, with a progress bar."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from sqlalchemy.exc import SQLAlchemyError
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, ProgressBar
from textual.worker import get_current_worker

from ..messages import LoadFailed, PurgeFinished, PurgeProgressed
from ..source import describe_error

if TYPE_CHECKING:
    from ..context import InspectorContext


class PurgeScreen(ModalScreen[int]):
    """Purge expired sessions, one transaction per batch; ``escape`` stops after the batch under way.

    Dismisses with the number of sessions deleted.
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "stop", "Stop")]

    def __init__(self, expected: int) -> None:
        super().__init__()
        self.expected = expected

    def compose(self) -> ComposeResult:
        with Vertical(id="purge-dialog"):
            yield Label(f"Purging {self.expected:,} expired sessions…", id="purge-title")
            yield ProgressBar(total=self.expected, show_eta=False, id="purge-progress")
            yield Label("escape stops after the current batch", id="purge-hint")

    def on_mount(self) -> None:
        app = cast("InspectorContext", self.app)
        self._purge(app.purge_batch)

    @work(thread=True, exclusive=True, group="purge", exit_on_error=False)
    def _purge(self, batch_size: int) -> None:
        app = cast("InspectorContext", self.app)
        worker = get_current_worker()
        deleted = 0
        try:
            for count in app.source.purge_expired(batch_size):
                deleted += count
                self.post_message(PurgeProgressed(deleted, max(self.expected, deleted)))
                if worker.is_cancelled:
                    break
        except SQLAlchemyError as exc:
            self.post_message(LoadFailed("purge expired sessions", describe_error(exc)))
            self.post_message(PurgeFinished(deleted, cancelled=True))
            return
        self.post_message(PurgeFinished(deleted, worker.is_cancelled))

    def on_purge_progressed(self, message: PurgeProgressed) -> None:
        self.query_one(ProgressBar).update(total=message.total, progress=message.deleted)

    def on_purge_finished(self, message: PurgeFinished) -> None:
        word = "stopped after" if message.cancelled else "done:"
        self.app.notify(f"Purge {word} {message.deleted:,} expired sessions deleted.", title="Purge")
        self.dismiss(message.deleted)

    def on_load_failed(self, message: LoadFailed) -> None:
        app = cast("InspectorContext", self.app)
        app.report_failure(message)

    def action_stop(self) -> None:
        """Stop once the batch under way has committed."""
        for worker in self.workers:
            if worker.group == "purge":
                worker.cancel()
