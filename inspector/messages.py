"""The messages thread workers post back to the screens: results in the past tense."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.message import Message

from .rows import Page, SearchProgress, SessionDetail, Totals


class _WorkerResult(Message):
    """A result a worker posts to its own screen: handled there, never bubbled to the app."""

    bubble: ClassVar[bool] = False


@dataclass
class PageLoaded(_WorkerResult):
    """A page of rows (and the totals, unless only a page was turned) was read.

    ``cursor_key`` is the row to highlight.
    """

    page: Page
    totals: Totals | None
    cursor_key: str | None = None
    refreshed: bool = False


@dataclass
class DetailLoaded(_WorkerResult):
    """One session was read for the detail view (None: it is gone)."""

    session_key: str
    detail: SessionDetail | None


@dataclass
class SessionsDeleted(_WorkerResult):
    """Sessions were deleted in one transaction: ``count`` of the ``session_keys`` asked for."""

    count: int
    session_keys: tuple[str, ...]


@dataclass
class UserSessionsCounted(_WorkerResult):
    """The sessions of a principal were counted, before asking whether to end them."""

    principal: str
    count: int


@dataclass
class UserSessionsEnded(_WorkerResult):
    """Every session of a principal was deleted in one transaction: ``count`` of them."""

    principal: str
    count: int


@dataclass
class PurgeProgressed(_WorkerResult):
    """Another batch of expired sessions was deleted."""

    deleted: int
    total: int


@dataclass
class PurgeFinished(_WorkerResult):
    """A purge of expired sessions ended, completed or cancelled."""

    deleted: int
    cancelled: bool


@dataclass
class SearchProgressed(_WorkerResult):
    """A search inside the decoded data scanned more rows."""

    progress: SearchProgress


@dataclass
class SearchFinished(_WorkerResult):
    """A search inside the decoded data ended, completed or cancelled."""

    needle: str
    progress: SearchProgress
    cancelled: bool


@dataclass
class LoadFailed(_WorkerResult):
    """A database call failed; ``action`` says what was being done."""

    action: str
    error: str
