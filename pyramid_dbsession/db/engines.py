"""open_store: the one way to build a :class:`SessionStore` from settings.

The Pyramid factory, the WSGI middleware, the scripts and the inspector all
open their store here. Nothing here creates tables: the adapters call :func:`prepare_table`
when an app starts. The connection settings of SQLite files (:func:`use_sqlite_wal`) live here too.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection, StaticPool

from ..codec import Codec
from ..errors import SettingsError
from ..settings import PREFIX, Settings
from .models import create_table
from .schema import check_columns
from .store import SessionStore, utcnow

#: Marks, in a pooled connection's ``info``, that its SQLite pragmas are set.
_WAL_SET = "pyramid_dbsession.sqlite_wal"


def _in_memory_sqlite(url: str | sa.URL | None) -> bool:
    if url is None:
        return False
    parsed = sa.make_url(url)
    in_memory = parsed.database in {None, "", ":memory:"} or parsed.query.get("mode") == "memory"
    return parsed.get_backend_name() == "sqlite" and in_memory


def _set_wal_pragmas(
    dbapi_connection: Any, connection_record: ConnectionPoolEntry, connection_proxy: PoolProxiedConnection
) -> None:
    # Set at checkout rather than at connect, so that connections an app's pool
    # opened before it was first seen get the settings too; ``info`` is emptied
    # when a connection is replaced, so a new one is set again.
    if connection_record.info.get(_WAL_SET):
        return
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()
    connection_record.info[_WAL_SET] = True


def use_sqlite_wal(engine: Engine) -> None:
    """Give a SQLite file engine's connections WAL mode with ``synchronous = NORMAL``; others are left as they are.

    Readers then no longer block the writer, and a commit waits for no disk
    flush: the last commits can be lost on power loss, never on an app crash.
    Each pooled connection is set once, when it is next checked out.
    """
    if engine.dialect.name != "sqlite" or _in_memory_sqlite(engine.url):
        return
    if not sa.event.contains(engine, "checkout", _set_wal_pragmas):
        sa.event.listen(engine, "checkout", _set_wal_pragmas)


def _check_synchronous_commit(settings: Settings, engine: Engine) -> None:
    if not settings.synchronous_commit and engine.dialect.name != "postgresql":
        raise SettingsError(
            f"{PREFIX}synchronous_commit = off works on PostgreSQL only, got a {engine.dialect.name!r} database"
        )


def _engine_options(settings: Settings) -> dict[str, Any]:
    # Bound parameters hold signed session data: keep them out of error messages and logs.
    return {"url": settings.url, "hide_parameters": True, **settings.engine_options}


def open_store(
    settings: Settings, engine: Engine | None = None, clock: Callable[[], datetime] = utcnow
) -> SessionStore:
    """Build the store for ``settings``: on ``engine`` if given, else on engines made from ``dbsession.url``.

    Made from the URL, reads get a pool of their own in autocommit mode; an
    in-memory SQLite database lives in one connection that everything shares,
    and a SQLite file is put in WAL mode unless ``dbsession.sqlite_wal`` is off.
    Raises :class:`SettingsError` for ``synchronous_commit = off`` on another
    database than PostgreSQL.
    """
    codec = Codec(settings.secrets, settings.serializer, settings.fallback_serializer)
    reader = None
    if engine is None:
        options = _engine_options(settings)
        if _in_memory_sqlite(settings.url):
            # The database lives in one connection: every thread, read and write shares it.
            connect_args = {"check_same_thread": False, **options.get("connect_args", {})}
            engine = sa.engine_from_config(
                {**options, "poolclass": StaticPool, "connect_args": connect_args}, prefix=""
            )
        else:
            engine = sa.engine_from_config(options, prefix="")
            # Every connection of this pool is in autocommit mode, where PyMySQL would
            # still send the ROLLBACK that ends each read: a round trip for nothing.
            autocommit = {"isolation_level": "AUTOCOMMIT", "skip_autocommit_rollback": True}
            reader = sa.engine_from_config({**options, **autocommit}, prefix="")
            if settings.sqlite_wal:
                use_sqlite_wal(engine)
                use_sqlite_wal(reader)
    _check_synchronous_commit(settings, engine)
    return SessionStore(
        engine,
        codec,
        clock=clock,
        reader=reader,
        max_size=settings.max_size,
        max_sessions_per_principal=settings.max_sessions_per_principal,
        synchronous_commit=settings.synchronous_commit,
    )


def prepare_table(store: SessionStore, settings: Settings) -> None:
    """At an app's start: create ``core_sessions`` when ``dbsession.create_table`` is on, then check its columns.

    The connections this opened are closed again, so none is shared by the
    processes a pre-forking server starts; an in-memory database lives in its
    one connection and keeps it. An app that cannot start closes the store's
    connections before the error propagates.
    """
    try:
        if settings.create_table:
            create_table(store.engine)
        check_columns(store.engine)
    except Exception:
        store.dispose()
        raise
    if not isinstance(store.engine.pool, StaticPool):
        store.engine.dispose()
