"""open_store: the one way to build a :class:`SessionStore` from settings.

The Pyramid factory, the WSGI middleware, the scripts and the inspector all
open their store here. Nothing here creates tables: the adapters call :func:`prepare_table`
when an app starts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool

from ..codec import Codec
from ..settings import Settings
from .models import create_table
from .schema import check_columns
from .store import SessionStore, utcnow


def _in_memory_sqlite(url: str | None) -> bool:
    if url is None:
        return False
    parsed = sa.make_url(url)
    in_memory = parsed.database in {None, "", ":memory:"} or parsed.query.get("mode") == "memory"
    return parsed.get_backend_name() == "sqlite" and in_memory


def _engine_options(settings: Settings) -> dict[str, Any]:
    # Bound parameters hold signed session data: keep them out of error messages and logs.
    return {"url": settings.url, "hide_parameters": True, **settings.engine_options}


def open_store(
    settings: Settings, engine: Engine | None = None, clock: Callable[[], datetime] = utcnow
) -> SessionStore:
    """Build the store for ``settings``: on ``engine`` if given, else on engines made from ``dbsession.url``.

    Made from the URL, reads get a pool of their own in autocommit mode; an
    in-memory SQLite database lives in one connection that everything shares.
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
    return SessionStore(
        engine,
        codec,
        clock=clock,
        reader=reader,
        max_size=settings.max_size,
        max_sessions_per_principal=settings.max_sessions_per_principal,
    )


def prepare_table(store: SessionStore, settings: Settings) -> None:
    """At an app's start: create ``core_sessions`` when ``dbsession.create_table`` is on, then check its columns.

    An app that cannot start closes the store's connections before the error propagates.
    """
    try:
        if settings.create_table:
            create_table(store.engine)
        check_columns(store.engine)
    except Exception:
        store.dispose()
        raise
