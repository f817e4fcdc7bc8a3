"""Server-side Pyramid sessions in the SQL table ``core_sessions``.

``config.include('pyramid_dbsession')`` is all an app needs. The pure core
(everything but :mod:`pyramid_dbsession.factory`) imports no Pyramid, so
:class:`pyramid_dbsession.wsgi.SessionMiddleware` serves any WSGI app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import BadSessionData, DBSessionError, SessionConflict, SessionTooLarge, SettingsError
from .models import SessionRecord, metadata
from .session import Session
from .store import SessionStore
from .transient import TransientDatabaseError

if TYPE_CHECKING:
    from pyramid.config import Configurator

    from .factory import DBSessionFactory, get_store

__all__ = [
    "BadSessionData",
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
    from .factory import configure

    configure(config)


def __getattr__(name: str) -> Any:
    # The Pyramid layer loads on demand, keeping the core free of Pyramid.
    if name in {"DBSessionFactory", "get_store"}:
        from . import factory

        return getattr(factory, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
