"""InspectorContext: what the screens need of the running app, without importing it."""

from __future__ import annotations

from typing import Protocol

from .messages import LoadFailed
from .source import SessionSource


class InspectorContext(Protocol):
    """The app's options and data source, as the screens see them."""

    source: SessionSource
    read_only: bool
    refresh_seconds: float
    purge_batch: int

    def report_failure(self, failure: LoadFailed) -> None:
        """Tell the operator that a database call failed."""
