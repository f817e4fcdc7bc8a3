"""Server-side Pyramid sessions in the SQL table ``core_sessions``.

``config.include('pyramid_dbsession')`` is all an app needs. The layers, from
the bottom up: the pure core in this folder (settings, errors, ids, codec,
cookies, :mod:`~pyramid_dbsession.session` and :mod:`~pyramid_dbsession.plan`)
imports neither Pyramid nor SQLAlchemy; :mod:`pyramid_dbsession.db` holds the
table and the store and imports no Pyramid; :mod:`pyramid_dbsession.adapters`
holds the Pyramid factory and the WSGI middleware
(:class:`pyramid_dbsession.wsgi.SessionMiddleware` serves any WSGI app), which
share one write runner. Only the Pyramid adapter, the scripts and the
migrations import Pyramid.
"""

from __future__ import annotations

import importlib.metadata
from typing import TYPE_CHECKING, Any

from .db.models import SessionRecord, metadata
from .db.store import SessionStore
from .db.transient import TransientDatabaseError
from .errors import (
    BadPayload,
    BadSessionData,
    BadSignature,
    DBSessionError,
    SessionConflict,
    SessionTooLarge,
    SettingsError,
)
from .session import Session

if TYPE_CHECKING:
    from pyramid.config import Configurator

    from .adapters.pyramid import DBSessionFactory, get_store

#: The installed distribution's version; pyproject.toml is its one source.
__version__ = importlib.metadata.version("pyramid_dbsession")

__all__ = [
    "BadPayload",
    "BadSessionData",
    "BadSignature",
    "DBSessionError",
    "DBSessionFactory",
    "Session",
    "SessionConflict",
    "SessionRecord",
    "SessionStore",
    "SessionTooLarge",
    "SettingsError",
    "TransientDatabaseError",
    "get_store",
    "includeme",
    "metadata",
]


def includeme(config: Configurator) -> None:
    """Give every request a database-backed ``request.session``."""
    from .adapters.pyramid import configure

    configure(config)


def __getattr__(name: str) -> Any:
    # The Pyramid layer loads on demand, keeping the core free of Pyramid.
    if name in {"DBSessionFactory", "get_store"}:
        from .adapters import pyramid

        return getattr(pyramid, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
