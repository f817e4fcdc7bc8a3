"""SessionSource: pages, totals, search, decode and delete on ``core_sessions``; no Textual here.

Every method opens its own connection from the store's engine, so the TUI can
call them from thread workers. Rows are read in keyset pages on the indexed
``(column, session_key)`` pairs: the cost of a page does not grow with the table.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pyramid_dbsession.db.store import SessionStore
from pyramid_dbsession.errors import BadPayload, BadSignature
from pyramid_dbsession.ids import looks_like_session_id, session_key_for
from pyramid_dbsession.models import sessions_table

from .rows import (
    Decoded,
    Filter,
    Page,
    Position,
    Query,
    SearchProgress,
    SessionDetail,
    SessionRow,
    Status,
    Totals,
    summarize,
)

__all__ = ["MAX_MATCHES", "PAGE_SIZE", "SessionSource", "describe_error"]

PAGE_SIZE = 100
#: Rows decoded per statement when searching inside the data.
SEARCH_CHUNK = 500
#: A data search stops after this many matches: they must fit on one page.
MAX_MATCHES = PAGE_SIZE

_t = sessions_table


def describe_error(exc: Exception) -> str:
    """The first line of a database error, without SQLAlchemy's wrapping."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def _key_range(prefix: str) -> Any:
    """The index range of keys starting with ``prefix`` (a hex digest prefix, or a whole cookie value)."""
    if looks_like_session_id(prefix):
        return _t.c.session_key == session_key_for(prefix)
    lowered = prefix.lower()
    try:
        number = int(lowered, 16)
    except ValueError:
        return sa.false()
    # A range rather than LIKE: LIKE is case-insensitive in SQLite and skips the index.
    condition = _t.c.session_key >= lowered
    upper = number + 1
    if upper < 16 ** len(lowered):
        condition = sa.and_(condition, _t.c.session_key < f"{upper:0{len(lowered)}x}")
    return condition


def _after(column: Any, position: Position, *, descending: bool, inclusive: bool) -> Any:
    """Rows past ``position`` in (column, session_key) order, written to use the index's range."""
    value, key = position
    if descending:
        key_test = _t.c.session_key <= key if inclusive else _t.c.session_key < key
        return sa.and_(column <= value, sa.or_(column < value, key_test))
    key_test = _t.c.session_key >= key if inclusive else _t.c.session_key > key
    return sa.and_(column >= value, sa.or_(column > value, key_test))


class SessionSource:
    """Read and delete rows of ``core_sessions`` through a :class:`SessionStore`."""

    def __init__(self, store: SessionStore, *, page_size: int = PAGE_SIZE) -> None:
        self.store = store
        self.page_size = page_size

    @property
    def engine(self) -> Engine:
        return self.store.engine

    @property
    def database(self) -> str:
        """The database URL with its password hidden."""
        return self.engine.url.render_as_string(hide_password=True)

    def now(self) -> datetime:
        """The store's clock: the inspector judges expiry as the app does."""
        return self.store.now()

    def check(self) -> None:
        """Raise the database's error unless ``core_sessions`` can be read."""
        with self.engine.connect() as connection:
            connection.execute(sa.select(_t.c.session_key).limit(1)).all()

    # -- reading ---------------------------------------------------------------

    def _where(self, query: Query, now: datetime) -> list[Any]:
        conditions: list[Any] = []
        if query.filter is Filter.LIVE:
            conditions.append(_t.c.expire_date > now)
        elif query.filter is Filter.EXPIRED:
            conditions.append(_t.c.expire_date <= now)
        if query.prefix:
            conditions.append(_key_range(query.prefix))
        if query.principal is not None:
            # Equality first in ix_core_sessions_principal: the index serves the filter and, by expiry, the order.
            conditions.append(_t.c.principal == query.principal)
        if query.keys is not None:
            conditions.append(_t.c.session_key.in_(query.keys) if query.keys else sa.false())
        return conditions

    def page(self, query: Query, start: Position | None = None, *, inclusive: bool = False) -> Page:
        """Return the page after ``start`` (from it if ``inclusive``), or the first page."""
        column = _t.c[query.sort.column]
        conditions = self._where(query, self.now())
        if start is not None:
            conditions.append(_after(column, start, descending=query.sort.descending, inclusive=inclusive))
        rows = self._select(query, conditions, reverse=False)
        has_previous = start is not None and (not inclusive or self._exists_before(query, start))
        return Page(tuple(rows[: self.page_size]), len(rows) > self.page_size, has_previous)

    def _exists_before(self, query: Query, position: Position) -> bool:
        column = _t.c[query.sort.column]
        conditions = self._where(query, self.now())
        conditions.append(_after(column, position, descending=not query.sort.descending, inclusive=False))
        with self.engine.connect() as connection:
            return connection.execute(sa.select(_t.c.session_key).where(*conditions).limit(1)).first() is not None

    def page_before(self, query: Query, end: Position) -> Page:
        """Return the page that ends just before ``end``; the first page if fewer rows precede it."""
        column = _t.c[query.sort.column]
        conditions = self._where(query, self.now())
        conditions.append(_after(column, end, descending=not query.sort.descending, inclusive=False))
        rows = self._select(query, conditions, reverse=True)
        if len(rows) <= self.page_size:
            return self.page(query)
        return Page(tuple(reversed(rows[: self.page_size])), True, True)

    def _select(self, query: Query, conditions: list[Any], *, reverse: bool) -> list[SessionRow]:
        column = _t.c[query.sort.column]
        descending = query.sort.descending != reverse
        order = [column.desc(), _t.c.session_key.desc()] if descending else [column, _t.c.session_key]
        statement = (
            sa.select(
                _t.c.session_key, _t.c.created, _t.c.expire_date, _t.c.data_size, _t.c.principal, _t.c.session_data,
                column,
            )
            .where(*conditions)
            .order_by(*order)
            .limit(self.page_size + 1)
        )  # fmt: skip
        with self.engine.connect() as connection:
            result = connection.execute(statement).all()
        rows = []
        for key, created, expire, size, principal, text, sort_value in result:
            decoded = self.decode(key, text)
            summary = summarize(decoded)
            rows.append(SessionRow(key, created, expire, size, principal, decoded.status, *summary, (sort_value, key)))
        return rows

    def totals(self, query: Query, since: datetime | None = None) -> Totals:
        """Count all, expired and matching sessions, and those created after ``since``."""
        now = self.now()
        count = sa.select(sa.func.count()).select_from(_t)
        with self.engine.connect() as connection:
            everything = connection.execute(count).scalar_one()
            expired = connection.execute(count.where(_t.c.expire_date <= now)).scalar_one()
            conditions = self._where(query, now)
            matching = connection.execute(count.where(*conditions)).scalar_one() if conditions else everything
            created = 0
            if since is not None:
                created = connection.execute(count.where(_t.c.created > since)).scalar_one()
        return Totals(everything, expired, matching, created)

    def detail(self, session_key: str) -> SessionDetail | None:
        """Return one row with its decoded data, or None if it is gone."""
        statement = sa.select(
            _t.c.session_key, _t.c.created, _t.c.expire_date, _t.c.data_size, _t.c.version, _t.c.session_data
        ).where(_t.c.session_key == session_key)
        with self.engine.connect() as connection:
            row = connection.execute(statement).first()
        if row is None:
            return None
        return SessionDetail(*row, decoded=self.decode(row.session_key, row.session_data))

    def decode(self, session_key: str, text: str) -> Decoded:
        """Verify and deserialize stored text with the core's codec, never raising."""
        try:
            return Decoded(Status.VALID, self.store.codec.decode(session_key, text))
        except BadSignature as exc:
            return Decoded(Status.TAMPERED, reason=exc.reason)
        except BadPayload as exc:
            return Decoded(Status.UNDECODABLE, reason=exc.reason)

    def search(self, query: Query, needle: str) -> Iterator[SearchProgress]:
        """Scan the query's rows in key order for ``needle`` in their decoded data, yielding progress.

        The match is case-insensitive on the data rendered as JSON (``repr`` for
        values JSON cannot show); it stops after :data:`MAX_MATCHES` matches.
        """
        base = query.with_changes(keys=None)
        now = self.now()
        total = self.totals(base).matching
        lowered = needle.lower()
        matches: list[str] = []
        scanned = 0
        last = ""
        while True:
            statement = (
                sa.select(_t.c.session_key, _t.c.session_data)
                .where(*self._where(base, now), _t.c.session_key > last)
                .order_by(_t.c.session_key)
                .limit(SEARCH_CHUNK)
            )
            with self.engine.connect() as connection:
                chunk = connection.execute(statement).all()
            for key, text in chunk:
                data = self.decode(key, text).data
                if data is not None and lowered in json.dumps(data, default=repr, ensure_ascii=False).lower():
                    matches.append(key)
            scanned += len(chunk)
            done = len(chunk) < SEARCH_CHUNK or len(matches) >= MAX_MATCHES
            yield SearchProgress(scanned, max(total, scanned), tuple(matches[:MAX_MATCHES]))
            if done:
                return
            last = chunk[-1].session_key

    def count_of(self, principal: str) -> int:
        """How many sessions of ``principal`` are stored, live or expired: as many as :meth:`end_sessions_of` ends."""
        statement = sa.select(sa.func.count()).select_from(_t).where(_t.c.principal == principal)
        with self.engine.connect() as connection:
            return int(connection.execute(statement).scalar_one())

    # -- deleting --------------------------------------------------------------

    def delete(self, session_keys: list[str] | tuple[str, ...]) -> int:
        """Delete these rows in one transaction; return how many went."""
        with self.engine.begin() as connection:
            result = connection.execute(_t.delete().where(_t.c.session_key.in_(list(session_keys))))
        return int(result.rowcount)

    def end_sessions_of(self, principal: str) -> int:
        """Delete every session of ``principal`` in one transaction, through the store; return how many went."""
        return self.store.end_sessions_of(principal)

    def purge_expired(self, batch_size: int = 5000) -> Iterator[int]:
        """Delete expired rows in transactions of about ``batch_size``, yielding each batch's count.

        Stopping the iteration between batches leaves the rest in place, so a
        purge can be cancelled without a half-done transaction.
        """
        return self.store.purge_batches(batch_size)
