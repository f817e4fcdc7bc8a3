"""The Pyramid adapter: ``DBSessionFactory``, the saving tween, ``configure()`` and ``get_store()``."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationError
from pyramid.interfaces import ISession, ISessionFactory
from pyramid.registry import Registry
from pyramid.request import Request
from pyramid.response import Response
from pyramid.tweens import EXCVIEW
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as ORMSession
from zope.interface import classImplements, implementer

from ..db.engines import open_store, prepare_table, use_sqlite_wal
from ..db.store import SessionStore, utcnow
from ..errors import SettingsError
from ..session import Session
from ..settings import Settings, parse_settings, settings_from_options
from .lifecycle import SessionConfig, SessionLifecycle
from .replay import configure_replays
from .transactions import joined_dbsession

classImplements(Session, ISession)

#: The request attribute under which the factory keeps the lifecycle for the tween.
_LIFECYCLE_ATTR = "_pyramid_dbsession_lifecycle"
#: The request attribute holding the add-on's own transaction-joined SQLAlchemy session.
_DBSESSION_ATTR = "_pyramid_dbsession_dbsession"


@implementer(ISessionFactory)
class DBSessionFactory:
    """Pyramid session factory storing sessions in ``core_sessions``.

    ``url_or_engine`` is a SQLAlchemy URL or engine; the other options are the
    ``dbsession.*`` settings without their prefix, e.g. ``timeout=3600``.
    It needs pyramid_tm; ``config.include('pyramid_dbsession')`` also adds the
    tween that saves sessions before pyramid_tm commits.
    """

    def __init__(
        self,
        url_or_engine: str | Engine,
        secret: Any,
        *,
        clock: Callable[[], datetime] = utcnow,
        **options: Any,
    ) -> None:
        given = url_or_engine if isinstance(url_or_engine, Engine) else None
        settings = settings_from_options(None if given else str(url_or_engine), secret, options)
        self._start(settings, open_store(settings, given, clock))

    @classmethod
    def from_settings(cls, settings: Settings) -> DBSessionFactory:
        """Build a factory from parsed settings (what ``includeme`` does)."""
        factory = cls.__new__(cls)
        factory._start(settings, open_store(settings))
        return factory

    def _start(self, settings: Settings, store: SessionStore) -> None:
        prepare_table(store, settings)
        self._config = SessionConfig(settings, store)
        self.settings = settings
        self.store = store
        #: The app's engines seen through ``request_dbsession``, given the SQLite settings once each.
        self._app_engines: weakref.WeakSet[Engine] = weakref.WeakSet()

    def __call__(self, request: Request) -> Session:
        environ = request.environ
        replaying = environ.get("retry.attempt", 0) > 0 and environ.get("tm.active")
        locking = partial(self._dbsession, request) if replaying else None
        https = environ.get("wsgi.url_scheme") == "https"
        lifecycle = SessionLifecycle(
            self._config, environ.get("HTTP_COOKIE"), locking, https=https, client=self._config.client(environ)
        )
        setattr(request, _LIFECYCLE_ATTR, lifecycle)
        request.add_response_callback(_cookie_callback(lifecycle))
        if environ.get("tm.active"):
            # A fallback for sessions changed after the tween ran (or without it).
            request.tm.get().addBeforeCommitHook(self._save, (request, lifecycle))
        return lifecycle.session

    def _save(self, request: Request, lifecycle: SessionLifecycle) -> None:
        """Write the session in the request's transaction; the cookie follows its commit."""
        if request.environ.get("tm.active"):
            lifecycle.save(request.tm, partial(self._dbsession, request))
        else:
            lifecycle.save(None)

    def _dbsession(self, request: Request) -> ORMSession:
        """Return the SQLAlchemy session joined to the request's transaction, made once."""
        name = self.settings.request_dbsession
        if name:
            app_dbsession: ORMSession = getattr(request, name)
            if self.settings.sqlite_wal:
                self._tune_app_engine(app_dbsession)
            return app_dbsession
        dbsession: ORMSession | None = request.__dict__.get(_DBSESSION_ATTR)
        if dbsession is None:
            dbsession = joined_dbsession(self.store, request.tm)
            setattr(request, _DBSESSION_ATTR, dbsession)
        return dbsession

    def _tune_app_engine(self, app_dbsession: ORMSession) -> None:
        """Give the app's engine the connection settings of the store's own, as session rows go through it."""
        engine = app_dbsession.get_bind().engine
        if engine not in self._app_engines:
            use_sqlite_wal(engine)
            self._app_engines.add(engine)


def _cookie_callback(lifecycle: SessionLifecycle) -> Callable[[Request, Response], None]:
    def set_cookie(request: Request, response: Response) -> None:
        route = request.matched_route
        lifecycle.add_headers(response.headerlist, f"route {route.name!r}" if route else request.path)

    return set_cookie


def session_tween_factory(handler: Callable[[Request], Response], registry: Registry) -> Callable[[Request], Response]:
    """Save the session right after the view, inside pyramid_tm's transaction.

    Sitting under the exception view tween, its errors (a conflict, an
    oversized session, a dead database) reach the app's exception views like
    the view's own, and pyramid_tm tags a conflict retryable even when an
    exception view rendered it, so pyramid_retry replays the request. What a
    raising view changed is saved, if pyramid_tm still commits, by the
    before-commit hook.
    """

    factory = registry.queryUtility(ISessionFactory)
    if not isinstance(factory, DBSessionFactory):
        return handler

    def session_tween(request: Request) -> Response:
        response = handler(request)
        lifecycle = request.__dict__.get(_LIFECYCLE_ATTR)
        if lifecycle is not None and not (request.environ.get("tm.active") and request.tm.isDoomed()):
            factory._save(request, lifecycle)
        return response

    return session_tween


def get_store(registry: Registry) -> SessionStore:
    """Return the :class:`SessionStore` of the app's configured session factory."""
    factory = registry.queryUtility(ISessionFactory)
    if not isinstance(factory, DBSessionFactory):
        raise ConfigurationError(
            "the session factory is not pyramid_dbsession's: call config.include('pyramid_dbsession')"
        )
    return factory.store


def configure(config: Configurator) -> None:
    """Read ``dbsession.*`` settings, set the session factory and add the saving tween."""
    try:
        settings = parse_settings(config.get_settings())
        factory = DBSessionFactory.from_settings(settings)
    except SettingsError as exc:
        raise ConfigurationError(str(exc)) from exc
    config.include("pyramid_tm")
    config.set_session_factory(factory)
    config.add_tween("pyramid_dbsession.adapters.pyramid.session_tween_factory", under=EXCVIEW)
    configure_replays(config, settings.retry_jitter)


__all__ = ["DBSessionFactory", "configure", "get_store", "session_tween_factory"]
