"""SessionStore: the request path's statements on ``core_sessions``, and lookups by cookie value.

The cleanup's statements live in :mod:`~pyramid_dbsession.db.purge`; the
inspector pages through the table with statements of its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session as ORMSession

from ..codec import Codec
from ..errors import BadSessionData, DBSessionError, SessionConflict, SessionTooLarge
from ..ids import looks_like_session_id, new_session_id, session_key_for
from ..merge import merge
from ..plan import Insert, Loaded, LoadedRow, Update, WritePlan, own_expiry
from ..settings import DEFAULT_MAX_SIZE
from .fastread import DirectSelect
from .models import SessionRecord, register_codec, sessions_table
from .principals import (
    DELETE_KEYS,
    END_ALL,
    END_OTHERS,
    LIMITED,
    NO_CLIENT,
    PG_LOCK,
    SESSIONS_OF,
    ClientInfo,
    checked_principal,
    principal_lock,
)
from .purge import ASYNC_COMMIT, Purge
from .transient import transient_error

log = logging.getLogger("pyramid_dbsession")
#: Logs each merge at DEBUG: a handler on it counts them.
merge_log = logging.getLogger("pyramid_dbsession.merge")

#: Anything that runs statements inside a transaction someone else commits.
Executor = Connection | ORMSession

_NEW_ID_ATTEMPTS = 5
#: The version of a row stored for a browser that has not yet sent its cookie back.
UNCONFIRMED_VERSION = 0

_t = sessions_table
_LOAD = sa.select(_t.c.session_data, _t.c.expire_date, _t.c.created, _t.c.version).where(
    _t.c.session_key == sa.bindparam("key"), _t.c.expire_date > sa.bindparam("now")
)
_LOAD_FOR_UPDATE = _LOAD.with_for_update()
# SQLite has no FOR UPDATE; a write that changes nothing takes the database's
# write lock until the transaction ends, which serves the same end.
_LOCK_FOR_UPDATE = _t.update().where(_t.c.session_key == sa.bindparam("key")).values(version=_t.c.version)
_UPDATE = (
    _t.update()
    .where(_t.c.session_key == sa.bindparam("key"), _t.c.version == sa.bindparam("version"))
    .values(
        session_data=sa.bindparam("data"),
        data_size=sa.bindparam("size"),
        expire_date=sa.bindparam("expire"),
        version=_t.c.version + 1,
        principal=sa.bindparam("principal"),
        last_seen=sa.bindparam("now"),
    )
)
_TOUCH = (
    _t.update()
    .where(_t.c.session_key == sa.bindparam("key"), _t.c.expire_date < sa.bindparam("expire"))
    .values(expire_date=sa.bindparam("expire"), last_seen=sa.bindparam("now"))
)

_DELETE = _t.delete().where(_t.c.session_key == sa.bindparam("key"))
_DELETE_VERSION = _DELETE.where(_t.c.version == sa.bindparam("version"))
_COUNT_EXPIRED = sa.select(sa.func.count()).select_from(_t).where(_t.c.expire_date <= sa.bindparam("now"))

_RECORD = sa.select(_t).where(_t.c.session_key == sa.bindparam("key"), _t.c.expire_date > sa.bindparam("now"))


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class StoredSession:
    """A live row as read for a request."""

    session_key: str
    session_data: str
    expire_date: datetime
    created: datetime
    version: int


def _server_went_away(exc: Exception) -> bool:
    """Whether ``exc`` lost a connection, or failed to make one (such errors carry no statement)."""
    return isinstance(exc, sa.exc.DBAPIError) and (exc.connection_invalidated or exc.statement is None)


def _insert_ignoring_duplicates(dialect_name: str) -> Any:
    """Return an INSERT that inserts nothing, instead of failing, when the key exists."""
    values: dict[str, Any] = {
        "session_key": sa.bindparam("key"),
        "session_data": sa.bindparam("data"),
        "data_size": sa.bindparam("size"),
        "created": sa.bindparam("created"),
        "expire_date": sa.bindparam("expire"),
        "version": sa.bindparam("version"),
        "principal": sa.bindparam("principal"),
        "last_seen": sa.bindparam("last_seen"),
        "user_agent": sa.bindparam("user_agent"),
        "ip_address": sa.bindparam("ip_address"),
    }
    if dialect_name in {"mysql", "mariadb"}:
        statement = _t.insert().values(values).prefix_with("IGNORE")
    elif dialect_name in {"postgresql", "sqlite"}:
        insert = postgresql.insert if dialect_name == "postgresql" else sqlite.insert
        statement = insert(_t).values(values).on_conflict_do_nothing(index_elements=["session_key"])
    else:
        statement = _t.insert().values(values)
    # SQLAlchemy reports an INSERT's row count only when asked to.
    return statement.execution_options(preserve_rowcount=True)


class SessionStore:
    """Load, write, delete and purge rows of ``core_sessions``.

    Reads run on an autocommit connection (one statement, no BEGIN): from
    ``reader``, an engine whose pool is in autocommit mode, when given; writes
    run on the executor of the caller's transaction and are guarded by ``version``;
    with ``synchronous_commit`` False, each write transaction first relaxes
    its commit on PostgreSQL (:meth:`begin_write`). ``clock`` returns the
    current aware UTC time; tests replace it. The store's codec is registered
    for :meth:`SessionRecord.get_decoded`.
    """

    def __init__(
        self,
        engine: Engine,
        codec: Codec,
        *,
        clock: Callable[[], datetime] = utcnow,
        reader: Engine | None = None,
        max_size: int = DEFAULT_MAX_SIZE,
        max_sessions_per_principal: int | None = None,
        synchronous_commit: bool = True,
    ) -> None:
        self.engine = engine
        self.max_sessions_per_principal = max_sessions_per_principal
        self.codec = codec
        self.clock = clock
        self.max_size = max_size
        self.synchronous_commit = synchronous_commit
        # A pool of its own made in autocommit mode saves the round trips that
        # switching a pooled connection in and out of autocommit costs on MariaDB.
        self._reader = reader or engine.execution_options(isolation_level="AUTOCOMMIT")
        # A reader pool of autocommit connections reads on their bare cursors;
        # a shared pool's connection must go through a Connection that switches it.
        self._direct_load = None if reader is None else DirectSelect(reader, _LOAD)
        self._insert = _insert_ignoring_duplicates(engine.dialect.name)
        register_codec(codec)

    def dispose(self) -> None:
        """Close the pooled connections of the store's engines."""
        self._reader.dispose()
        self.engine.dispose()

    def now(self) -> datetime:
        """Return the store's idea of the current time (aware UTC)."""
        return self.clock()

    # -- request path -------------------------------------------------------

    def read(self, session_ids: Iterable[str], locking: Executor | None = None) -> Loaded:
        """Return the first of ``session_ids`` whose row is live and valid, with its data; else ``(None, {})``.

        A row that fails its signature or cannot be decoded is skipped, and logged.
        """
        for session_id in session_ids:
            session_key = session_key_for(session_id)
            stored = self.load(session_key, locking)
            if stored is None:
                continue
            try:
                payload = self.codec.verify(session_key, stored.session_data)
                data = self.codec.loads(payload)
            except BadSessionData as exc:
                log.warning("ignoring stored session %s: %s", session_key[:12], exc.reason)
                continue
            row = LoadedRow(
                session_id,
                session_key,
                stored.version,
                stored.created,
                stored.expire_date,
                payload,
                own_expiry(data),
                confirmed=stored.version > 0,
            )
            return row, data
        return None, {}

    def load(self, session_key: str, locking: Executor | None = None) -> StoredSession | None:
        """Return the live row stored under ``session_key``, or None.

        With ``locking``, the row is read in that executor's transaction and
        locked until it ends (``SELECT ... FOR UPDATE``; on SQLite the whole
        database's write lock).
        """
        params = {"key": session_key, "now": self.now()}
        with self._reporting():
            if locking is not None:
                if self.engine.dialect.name == "sqlite":
                    self._execute(locking, _LOCK_FOR_UPDATE, params)
                row = self._execute(locking, _LOAD_FOR_UPDATE, params).first()
            else:
                try:
                    row = self._read_one(params)
                except sa.exc.DBAPIError as exc:
                    if not exc.connection_invalidated:
                        raise
                    # Pooled connections die together when the server restarts:
                    # a read is safe to repeat once on a fresh connection.
                    row = self._read_one(params)
        return None if row is None else StoredSession(session_key, *row)

    def _read_one(self, params: dict[str, Any]) -> Any:
        if self._direct_load is not None:
            return self._direct_load.first(params)
        with self._reader.connect() as connection:
            return connection.execute(_LOAD, params).first()

    @contextmanager
    def _reporting(self) -> Iterator[None]:
        """Log a database failure, naming the database without its password, and let it propagate.

        Only a server gone away drops the pools (a connection lost, or none
        to be had): a deadlock, a lock wait or SQLite's "database is locked"
        leaves the pooled connections usable.
        """
        try:
            yield
        except (sa.exc.DBAPIError, sa.exc.TimeoutError) as exc:
            if (transient := transient_error(exc)) is not None:
                raise transient from exc  # a lost race, not a failure: keep the pools, log no error
            if _server_went_away(exc):
                self.dispose()  # the next request starts on fresh connections
            reason = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
            log.error(
                "session database %s failed: %s",
                self.engine.url.render_as_string(hide_password=True),
                str(reason).strip() or type(reason).__name__,
            )
            raise

    def _execute(self, executor: Executor, statement: Any, params: dict[str, Any]) -> Any:
        with self._reporting():
            if isinstance(executor, ORMSession):
                # The session's Connection runs a Core statement as the ORM
                # would, without the ORM's per-statement work.
                executor = executor.connection()
            return executor.execute(statement, params)

    def begin_write(self, executor: Executor) -> None:
        """Open a write transaction's statements: ``SET LOCAL synchronous_commit = off`` if commits need not wait.

        A crash of the server can then lose the last few hundred milliseconds
        of committed session writes, never corrupt them.
        """
        if self.synchronous_commit:
            return
        with self._reporting():
            connection = executor.connection() if isinstance(executor, ORMSession) else executor
            connection.exec_driver_sql(ASYNC_COMMIT)

    def apply(self, plan: WritePlan, executor: Executor, client: ClientInfo = NO_CLIENT) -> str | None:
        """Run a plan's statements on ``executor``; return the new session id if it inserted a row.

        ``client`` is recorded on an inserted row. An update whose row
        changed since it was read is merged into the row's current data when
        the plan allows it and the two writes do not overlap. Raises
        :class:`SessionConflict` when a row the plan depends on was changed
        or deleted since it was read and no merge was made, and
        :class:`SessionTooLarge` over ``max_size``.
        """
        limited = plan.limit_principal if self.max_sessions_per_principal is not None else None
        if limited is not None:
            self._lock_principal(executor, limited)
        if plan.delete is not None:
            removed = self.remove(executor, plan.delete.session_key, plan.delete.version)
            if plan.delete.version is not None and not removed:
                raise SessionConflict(plan.delete.session_key)
        written_key = None
        if plan.update is not None:
            update = plan.update
            text = self._signed(update.session_key, update.payload)
            principal = checked_principal(update.principal)
            written = self.update(executor, update.session_key, update.version, text, update.expire_date, principal)
            if not (written or self._merge_into_current(executor, update)):
                raise SessionConflict(update.session_key)
            written_key = update.session_key
        if plan.touch is not None:
            self.touch(executor, plan.touch.session_key, plan.touch.expire_date)
            written_key = plan.touch.session_key
        session_id = None
        if plan.insert is not None:
            session_id = self._insert_new(executor, plan.insert, client)
            written_key = session_key_for(session_id)
        if limited is not None and written_key is not None:
            self._limit_sessions(executor, limited, written_key)
        if plan.end_others is not None:
            keep = plan.end_others.session_key or written_key
            self._execute(executor, END_OTHERS, {"principal": plan.end_others.principal, "keep": keep})
        return session_id

    def _lock_principal(self, executor: Executor, principal: str) -> None:
        """Serialise the writes that give one principal a session, until the transaction ends.

        PostgreSQL takes an advisory lock, since rows alone cannot: a
        concurrent login's uncommitted row is invisible to it. MariaDB's
        ``FOR UPDATE`` waits for that row, and SQLite has one writer.
        """
        if self.engine.dialect.name == "postgresql":
            self._execute(executor, PG_LOCK, {"lock": principal_lock(principal)})

    def _limit_sessions(self, executor: Executor, principal: str, keep: str) -> None:
        """End the principal's oldest live sessions beyond ``max_sessions_per_principal``, keeping ``keep``."""
        limit = self.max_sessions_per_principal
        if limit is None:
            return
        params = {"principal": principal, "now": self.now(), "keep": keep}
        others = self._execute(executor, LIMITED, params).scalars().all()
        if len(others) >= limit:
            self._execute(executor, DELETE_KEYS, {"keys": list(others[limit - 1 :])})

    def _merge_into_current(self, executor: Executor, update: Update) -> bool:
        """Write ``update``'s changes over its row's current data, read and locked on ``executor``.

        Returns False, writing nothing, when the update may not merge, the row
        is gone (it is never brought back) or the two writes overlap (see
        :mod:`pyramid_dbsession.merge`). The merged data is signed and checked
        against ``max_size`` afresh, and keeps the later of the two expiries.
        """
        if update.merge is None:
            return False
        current = self.load(update.session_key, locking=executor)
        if current is None:
            return False
        codec = self.codec
        try:
            data = codec.decode(update.session_key, current.session_data)
        except BadSessionData:
            return False  # the replay starts a fresh session, and logs why
        read, final = codec.loads(update.merge.read_payload), codec.loads(update.payload)
        merged = merge(read, final, data, update.merge, codec.dumps)
        if merged is None:
            return False
        text = self._signed(update.session_key, codec.dumps(merged))
        expire = max(update.expire_date, current.expire_date)
        if not self.update(executor, update.session_key, current.version, text, expire, update.principal):
            return False
        merge_log.debug(
            "merged a write of session %s… read at version %d into version %d",
            update.session_key[:12],
            update.version,
            current.version,
        )
        return True

    def _insert_new(self, executor: Executor, insert: Insert, client: ClientInfo) -> str:
        principal = checked_principal(insert.principal)
        for _ in range(_NEW_ID_ATTEMPTS):
            session_id = new_session_id()
            session_key = session_key_for(session_id)
            text = self._signed(session_key, insert.payload)
            version = 1 if insert.confirmed else UNCONFIRMED_VERSION
            if self.insert(
                executor,
                session_key,
                text,
                insert.created,
                insert.expire_date,
                version,
                principal=principal,
                client=client,
            ):
                return session_id
        raise DBSessionError(f"no free session id after {_NEW_ID_ATTEMPTS} attempts")

    def _signed(self, session_key: str, payload: bytes) -> str:
        text = self.codec.sign(session_key, payload)
        if len(text) > self.max_size:
            raise SessionTooLarge(len(text), self.max_size)
        return text

    def insert(
        self,
        executor: Executor,
        session_key: str,
        data: str,
        created: datetime,
        expire_date: datetime,
        version: int = 1,
        *,
        principal: str | None = None,
        client: ClientInfo = NO_CLIENT,
    ) -> bool:
        """Insert a new row; return False, inserting nothing, if the key is taken.

        ``version`` 0 (:data:`UNCONFIRMED_VERSION`) marks a row whose cookie has not come back yet.
        """
        params = {
            "key": session_key,
            "data": data,
            "size": len(data),
            "created": created,
            "expire": expire_date,
            "version": version,
            "principal": principal,
            "last_seen": self.now(),
            "user_agent": client.user_agent,
            "ip_address": client.ip_address,
        }
        return bool(self._execute(executor, self._insert, params).rowcount == 1)

    def update(
        self,
        executor: Executor,
        session_key: str,
        version: int,
        data: str,
        expire_date: datetime,
        principal: str | None = None,
    ) -> bool:
        """Rewrite a row read at ``version``; return False if it changed or vanished since."""
        params = {
            "key": session_key,
            "version": version,
            "data": data,
            "size": len(data),
            "expire": expire_date,
            "principal": principal,
            "now": self.now(),
        }
        return bool(self._execute(executor, _UPDATE, params).rowcount == 1)

    def touch(self, executor: Executor, session_key: str, expire_date: datetime) -> None:
        """Push a row's expiry forward without touching its data or version."""
        self._execute(executor, _TOUCH, {"key": session_key, "expire": expire_date, "now": self.now()})

    def remove(self, executor: Executor, session_key: str, version: int | None = None) -> bool:
        """Delete the row stored under ``session_key`` (only at ``version``, if given); return whether it went."""
        if version is None:
            return bool(self._execute(executor, _DELETE, {"key": session_key}).rowcount)
        return bool(self._execute(executor, _DELETE_VERSION, {"key": session_key, "version": version}).rowcount)

    # -- out of requests (pshell, scripts, the inspector) --------------------

    def get(self, cookie_value: str) -> SessionRecord | None:
        """Return the live :class:`SessionRecord` of a cookie's session id, or None."""
        if not looks_like_session_id(cookie_value):
            return None
        with self._reporting(), self._reader.connect() as connection:
            row = connection.execute(_RECORD, {"key": session_key_for(cookie_value), "now": self.now()}).first()
        return None if row is None else self._record(row)

    def sessions_of(self, principal: object) -> list[SessionRecord]:
        """The live sessions of a principal (``str()`` of it is compared), newest first."""
        params = {"principal": str(principal), "now": self.now()}
        with self._reporting(), self._reader.connect() as connection:
            return [self._record(row) for row in connection.execute(SESSIONS_OF, params)]

    def end_sessions_of(self, principal: object, keep: str | None = None) -> int:
        """End every session of a principal, but the one of cookie value ``keep``, in a transaction of its own.

        Returns how many ended. For a ban or a password reset out of a request.
        """
        params = {"principal": str(principal)}
        statement = END_ALL
        if keep is not None:
            statement, params["keep"] = END_OTHERS, session_key_for(keep)
        with self._reporting(), self.engine.begin() as connection:
            return int(connection.execute(statement, params).rowcount)

    def _record(self, row: sa.Row[Any]) -> SessionRecord:
        record = SessionRecord(**row._mapping)
        record._codec = self.codec
        return record

    def delete(self, cookie_value: str) -> bool:
        """Delete the session of a cookie's session id; return whether a row went."""
        if not looks_like_session_id(cookie_value):
            return False
        with self.engine.begin() as connection:
            result = connection.execute(_DELETE, {"key": session_key_for(cookie_value)})
        return bool(result.rowcount)

    def clear_expired(
        self,
        batch_size: int = 1000,
        *,
        progress: Callable[[int], None] | None = None,
        dry_run: bool = False,
        jobs: int = 1,
    ) -> int:
        """Delete expired rows in short transactions of about ``batch_size``; return how many went.

        Each batch commits on its own, so live requests wait at most one batch
        for a lock; ``jobs`` connections delete batches at once (see
        :class:`~pyramid_dbsession.purge.Purge`). ``progress`` is called after
        each commit with the running total. With ``dry_run`` nothing is
        deleted: the count of expired rows is returned.
        """
        batches = self.purge_batches(batch_size, jobs)  # checks the arguments, for a dry run too
        if dry_run:
            return self.count_expired()
        deleted = 0
        for count in batches:
            deleted += count
            if progress is not None:
                progress(deleted)
        return deleted

    def count_expired(self, before: datetime | None = None) -> int:
        """Return how many rows had expired by ``before`` (default: now)."""
        with self._reader.connect() as connection:
            return int(connection.execute(_COUNT_EXPIRED, {"now": before or self.now()}).scalar_one())

    def purge_batches(self, batch_size: int = 1000, jobs: int = 1) -> Iterator[int]:
        """Delete expired rows batch by batch, yielding each committed batch's count.

        Stopping the iteration between batches leaves the other expired rows
        in place, so a purge can be cancelled without a half-done transaction.
        """
        return iter(Purge(self.engine, self._reader, batch_size, self.now(), jobs))

    def decode(self, record: SessionRecord | StoredSession) -> dict[str, Any]:
        """Return the session dict of a row, verifying its signature first."""
        return self.codec.decode(record.session_key, record.session_data)
