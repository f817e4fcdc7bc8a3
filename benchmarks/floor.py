"""The hand-written floor: the least a database session factory can do under pyramid_tm.

One primary-key SELECT when a returning client's session is first used and,
only when the session changed, one UPDATE (or one INSERT for a new session)
written in the request's transaction through a SQLAlchemy session joined
with zope.sqlalchemy. No signature, no version check, no expiry refresh, no
invalidation: it is the yardstick the benchmark compares against, not a
session implementation to use.

``autocommit=False`` (the transactional floor) runs the SELECT in the
request's transaction, as a hand-written factory usually does: BEGIN, SELECT
and ROLLBACK for a read. ``autocommit=True`` (the autocommit floor) runs every
statement alone on an autocommit connection, outside the request's
transaction: one SELECT for a read, one INSERT for a new session, SELECT and
UPDATE for a write. It shows what the transaction costs; a session factory
that writes this way commits its rows even when the request's transaction
aborts.
"""

from __future__ import annotations

import base64
import hashlib
import pickle
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
import zope.sqlalchemy
from pyramid.request import Request
from pyramid.response import Response
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as ORMSession

from pyramid_dbsession.models import sessions_table as _t

COOKIE_NAME = "session"
#: Engine options of the autocommit floor: a pool of its own in autocommit mode, as the library's
#: reader pool is. Switching a shared pool's connections in and out of autocommit costs round
#: trips on MariaDB, and PyMySQL sends a ROLLBACK after each statement unless told not to.
AUTOCOMMIT = {"isolation_level": "AUTOCOMMIT", "skip_autocommit_rollback": True}
TIMEOUT = timedelta(days=14)

_SELECT = sa.select(_t.c.session_data).where(
    _t.c.session_key == sa.bindparam("key"), _t.c.expire_date > sa.bindparam("now")
)
_UPDATE = (
    _t.update()
    .where(_t.c.session_key == sa.bindparam("key"))
    .values(session_data=sa.bindparam("data"), data_size=sa.bindparam("size"), expire_date=sa.bindparam("expire"))
)
_INSERT = _t.insert().values(
    session_key=sa.bindparam("key"),
    session_data=sa.bindparam("data"),
    data_size=sa.bindparam("size"),
    created=sa.bindparam("now"),
    expire_date=sa.bindparam("expire"),
    version=1,
)


class FloorSession(dict[str, Any]):
    """A dict that remembers whether a view assigned to it."""

    changed_keys = False

    def __setitem__(self, key: str, value: Any) -> None:
        self.changed_keys = True
        super().__setitem__(key, value)


class FloorSessionFactory:
    """Session factory of the hand-written floor (see the module docstring)."""

    def __init__(self, engine: Engine, *, autocommit: bool = False) -> None:
        # With ``autocommit``, ``engine`` is made with the AUTOCOMMIT options.
        self.engine = engine
        self._autocommit = engine if autocommit else None

    def __call__(self, request: Request) -> FloorSession:
        now = datetime.now(UTC)
        session_id = _cookie_value(request.environ.get("HTTP_COOKIE"))
        dbsession: ORMSession | None = None
        row = None
        if session_id is not None:
            key = hashlib.sha256(session_id.encode("ascii")).hexdigest()
            if self._autocommit is not None:
                with self._autocommit.connect() as connection:
                    row = connection.execute(_SELECT, {"key": key, "now": now}).first()
            else:
                dbsession = self._join(request)
                row = dbsession.execute(_SELECT, {"key": key, "now": now}).first()
        session = FloorSession(pickle.loads(base64.b64decode(row[0])) if row is not None else {})
        is_new = row is None

        def save() -> None:
            if not session.changed_keys:
                return
            nonlocal session_id, dbsession
            if is_new:
                session_id = secrets.token_urlsafe(32)
            data = base64.b64encode(pickle.dumps(dict(session), protocol=pickle.HIGHEST_PROTOCOL)).decode("ascii")
            params = {
                "key": hashlib.sha256(session_id.encode("ascii")).hexdigest(),  # type: ignore[union-attr]
                "data": data,
                "size": len(data),
                "now": now,
                "expire": now + TIMEOUT,
            }
            statement = _INSERT if is_new else _UPDATE
            if self._autocommit is not None:
                with self._autocommit.connect() as connection:
                    connection.execute(statement, params)
            else:
                dbsession = dbsession or self._join(request)
                dbsession.execute(statement, params)
                zope.sqlalchemy.mark_changed(dbsession, transaction_manager=request.tm)
            if is_new:
                request.add_response_callback(set_cookie)

        def set_cookie(request: Request, response: Response) -> None:
            response.set_cookie(COOKIE_NAME, session_id, max_age=TIMEOUT, httponly=True, samesite="Lax")

        request.tm.get().addBeforeCommitHook(save)
        return session

    def _join(self, request: Request) -> ORMSession:
        # Joining directly is cheaper than ``zope.sqlalchemy.register``, which
        # adds event listeners to every new SQLAlchemy session.
        dbsession = ORMSession(self.engine)
        zope.sqlalchemy.datamanager.join_transaction(dbsession, transaction_manager=request.tm)
        return dbsession


def _cookie_value(header: str | None) -> str | None:
    if not header:
        return None
    for pair in header.split(";"):
        name, _, value = pair.partition("=")
        if name.strip() == COOKIE_NAME:
            return value.strip()
    return None
