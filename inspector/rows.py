"""What the source hands the screens: queries, rows, pages and totals; plain values, no SQL."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum
from typing import Any, Self

PREVIEW_KEYS = 6
#: Typed first in the search box, it makes the rest a principal rather than a key prefix: ``@42``.
PRINCIPAL_MARK = "@"


class _Cycle(Enum):
    """An enum whose members follow one another in a cycle, as a key cycles them."""

    def next(self) -> Self:
        """Return the member that follows this one in the cycle."""
        members = list(type(self))
        return members[(members.index(self) + 1) % len(members)]


class Sort(_Cycle):
    """The orders the table can be read in, each on an indexed column."""

    EXPIRY = ("expires", "expire_date", False)
    CREATED = ("created", "created", True)
    SIZE = ("size", "data_size", True)

    def __init__(self, label: str, column: str, descending: bool) -> None:
        self.label = label
        self.column = column
        self.descending = descending


class Filter(_Cycle):
    """Which sessions to show, by expiry."""

    ALL = "all"
    LIVE = "live"
    EXPIRED = "expired"


class Status(Enum):
    """What the core's codec makes of a row's stored text."""

    VALID = "valid"
    TAMPERED = "tampered"
    UNDECODABLE = "undecodable"


@dataclass(frozen=True)
class Query:
    """What the table shows: order, expiry filter, key prefix or principal and, after a data search, the matches."""

    sort: Sort = Sort.EXPIRY
    filter: Filter = Filter.ALL
    prefix: str = ""
    keys: tuple[str, ...] | None = None
    #: Only the sessions of this principal (the ``principal`` column), or None for anyone's.
    principal: str | None = None

    def with_changes(self, **changes: Any) -> Query:
        """Return a copy with ``changes`` applied."""
        return replace(self, **changes)

    def searching(self, typed: str) -> Query:
        """This query filtered by what the search box holds: ``@`` and a principal, or a key prefix.

        A lone ``@`` filters nothing yet; a data search's matches are dropped.
        """
        text = typed.strip()
        if text.startswith(PRINCIPAL_MARK):
            principal = text.removeprefix(PRINCIPAL_MARK).strip()
            return self.with_changes(prefix="", principal=principal or None, keys=None)
        return self.with_changes(prefix=text, principal=None, keys=None)


#: Where a page starts or ends: the sort column's value and the session key.
Position = tuple[Any, str]


@dataclass(frozen=True)
class Decoded:
    """The outcome of decoding one row with the core's codec."""

    status: Status
    data: dict[str, Any] | None = None
    reason: str = ""


@dataclass(frozen=True)
class SessionRow:
    """One line of the table: the row's columns and a summary of its data.

    Only the summary is kept, not the decoded data: a page stays small
    even when each session holds a megabyte.
    """

    session_key: str
    created: datetime
    expire_date: datetime
    data_size: int
    #: The user the session belongs to (the ``principal`` column), or None.
    principal: str | None
    status: Status
    #: How many top-level keys the data has, or None if it does not decode.
    key_count: int | None
    #: The first top-level keys, sorted, or why the data does not decode.
    preview: str
    position: Position


def summarize(decoded: Decoded) -> tuple[int | None, str]:
    """The key count and preview of decoded data, for :class:`SessionRow`."""
    data = decoded.data
    if data is None:
        return None, f"{decoded.status.value}: {decoded.reason}"
    names = sorted(map(str, data))
    more = f", +{len(names) - PREVIEW_KEYS}" if len(names) > PREVIEW_KEYS else ""
    return len(names), ", ".join(names[:PREVIEW_KEYS]) + more


@dataclass(frozen=True)
class Page:
    """One page of rows in the query's order, and whether more lie beyond it."""

    rows: tuple[SessionRow, ...]
    has_next: bool
    has_previous: bool

    @property
    def start(self) -> Position | None:
        """The position of the first row, from which the page can be read again."""
        return self.rows[0].position if self.rows else None


@dataclass(frozen=True)
class Totals:
    """Counts over the whole table, and how many sessions the query selects."""

    all: int
    expired: int
    matching: int
    created_since: int = 0

    @property
    def live(self) -> int:
        return self.all - self.expired


@dataclass(frozen=True)
class SessionDetail:
    """Everything the detail view shows of one row."""

    session_key: str
    created: datetime
    expire_date: datetime
    data_size: int
    version: int
    session_data: str
    decoded: Decoded = field(default_factory=lambda: Decoded(Status.UNDECODABLE))


@dataclass(frozen=True)
class SearchProgress:
    """How far a data search has got, and the keys it matched so far."""

    scanned: int
    total: int
    matches: tuple[str, ...]
