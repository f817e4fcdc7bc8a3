"""Tell the database errors a replay can cure from the others, and raise them as transient.

A deadlock, a lock wait that timed out, or a row that changed under a snapshot
is a lost race with another transaction, not a broken request: the same
request, replayed, can succeed. :func:`transient_error` turns such an error of
one of the store's statements into a :class:`transaction.interfaces.TransientError`,
which ``transaction`` treats as retryable by its class alone, so pyramid_tm
tags it and pyramid_retry replays the request, also when an exception view
rendered it, and with or without a zope.sqlalchemy data manager in the
transaction.

Errors at COMMIT are not ours to convert: they are raised inside
zope.sqlalchemy's data manager, whose ``should_retry`` already answers yes for
the two that happen there (MariaDB/Galera's 1213, a certification failure, and
PostgreSQL's SQLSTATE class 40 under SERIALIZABLE). 1020 and 1205 come from the
statement that reads or locks the row, never from COMMIT, so converting at the
statement covers every code listed here without touching another library's
private list.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from transaction.interfaces import TransientError

from ..errors import DBSessionError, SessionConflict

log = logging.getLogger(__name__)

#: MySQL and MariaDB error numbers (PyMySQL's ``args[0]``) that a replay can cure.
MYSQL_TRANSIENT: dict[int, str] = {
    1020: "the row changed since the transaction's snapshot",  # ER_CHECKREAD, innodb_snapshot_isolation = ON
    1205: "a lock wait timed out",  # ER_LOCK_WAIT_TIMEOUT
    1213: "a deadlock or a conflicting write on another node",  # ER_LOCK_DEADLOCK, also Galera's
}
#: PostgreSQL SQLSTATEs (psycopg's ``sqlstate``) that a replay can cure.
POSTGRESQL_TRANSIENT: dict[str, str] = {
    "40001": "the row changed since the transaction's snapshot",  # REPEATABLE READ, SERIALIZABLE
    "40P01": "a deadlock",
    "55P03": "a lock wait timed out",  # lock_timeout, PostgreSQL's 1205
}
#: The codes that blame the row the statement touched: when it is the session's, a SessionConflict.
_ROW_CHANGED: frozenset[int | str] = frozenset({1020, "40001"})


class TransientDatabaseError(DBSessionError, TransientError):  # type: ignore[misc]  # transaction is untyped
    """The database refused a statement for a reason a replay can cure (a deadlock, a lock wait timeout).

    It is a :class:`transaction.interfaces.TransientError`, so pyramid_tm tags
    it retryable and pyramid_retry replays the request. ``code`` is the
    driver's error number or SQLSTATE, ``reason`` says what it means; the
    driver's exception is the ``__cause__``.
    """

    def __init__(self, code: int | str, reason: str) -> None:
        super().__init__(f"database error {code}: {reason}; a replay may succeed")
        self.code = code
        self.reason = reason


class SnapshotConflict(SessionConflict):
    """The database refused to write a session's row that changed since the transaction's snapshot.

    A :class:`SessionConflict` (1020 under ``innodb_snapshot_isolation``,
    40001 under ``REPEATABLE READ`` or ``SERIALIZABLE``); ``code`` is the
    driver's error number or SQLSTATE.
    """

    def __init__(self, session_key: str, code: int | str) -> None:
        super().__init__(session_key)
        self.code = code


def transient_code(error: BaseException) -> int | str | None:
    """Return the driver's code of a failure that a replay can cure, or None for any other error.

    MySQL drivers give an error number as their first argument (PyMySQL,
    mysqlclient) or ``errno`` (MariaDB Connector/Python); PostgreSQL drivers a
    SQLSTATE (psycopg's ``sqlstate``, psycopg2's ``pgcode``).
    """
    if not isinstance(error, sa.exc.DBAPIError):
        return None
    orig = error.orig
    args = getattr(orig, "args", ())
    number = args[0] if args and type(args[0]) is int else getattr(orig, "errno", None)
    if isinstance(number, int):
        # PyMySQL also gives a SQLSTATE, but MySQL's are coarse (1213 is 40001, 1020 HY000).
        return number if number in MYSQL_TRANSIENT else None
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return sqlstate if sqlstate in POSTGRESQL_TRANSIENT else None


def is_transient(error: BaseException) -> bool:
    """Tell whether ``error`` is a database failure that a replay of the request can cure."""
    return transient_code(error) is not None


def transient_error(error: BaseException) -> TransientError | None:
    """Return the :class:`TransientError` to raise instead of ``error``, or None if a replay cannot cure it.

    A row that changed since the snapshot, reported by a statement on one
    session's row, is that session's conflict (:class:`SnapshotConflict`, a
    :class:`SessionConflict`); anything else transient is a
    :class:`TransientDatabaseError`. The store's statements name
    the session's key ``key``, and SQLAlchemy keeps a failed statement's
    parameters on the error.
    """
    code = transient_code(error)
    if code is None:
        return None
    reason = POSTGRESQL_TRANSIENT[code] if isinstance(code, str) else MYSQL_TRANSIENT[code]
    log.info("session database refused a statement (%s: %s); the request may be replayed", code, reason)
    session_key = _session_key(error)
    if code in _ROW_CHANGED and session_key is not None:
        return SnapshotConflict(session_key, code)
    return TransientDatabaseError(code, reason)


def _session_key(error: BaseException) -> str | None:
    params: Any = getattr(error, "params", None)
    key = params.get("key") if isinstance(params, dict) else None
    return key if isinstance(key, str) else None
