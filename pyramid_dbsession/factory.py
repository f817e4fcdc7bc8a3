"""The Pyramid layer: ``DBSessionFactory``, the saving tween and ``includeme``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

import zope.sqlalchemy
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

from .errors import SettingsError
from .lifecycle import SessionConfig, SessionLifecycle
from .replay import configure_replays
from .session import Session
from .settings import Settings, parse_settings, settings_from_options
from .store import SessionStore, utcnow

log = logging.getLogger("pyramid_dbsession")

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
        secret: str,
        *,
        clock: Callable[[], datetime] = utcnow,
        **options: Any,
    ) -> None:
        settings = settings_from_options(url_or_engine if isinstance(url_or_engine, str) else None, secret, options)
        self._init(SessionConfig.create(url_or_engine, settings, clock))

    @classmethod
    def from_settings(cls, settings: Settings) -> DBSessionFactory:
        """Build a factory from parsed settings (what ``includeme`` does)."""
        factory = cls.__new__(cls)
        factory._init(SessionConfig.create(None, settings))
        return factory

    def _init(self, config: SessionConfig) -> None:
        self._config = config
        self.settings = config.settings
        self.store = config.store

    def __call__(self, request: Request) -> Session:
        environ = request.environ
        replaying = environ.get("retry.attempt", 0) > 0 and environ.get("tm.active")
        locking = partial(self._dbsession, request) if replaying else None
        lifecycle = self._config.open(environ.get("HTTP_COOKIE"), locking)
        setattr(request, _LIFECYCLE_ATTR, lifecycle)
        request.add_response_callback(_cookie_callback(lifecycle))
        if environ.get("tm.active"):
            # A fallback for sessions changed after the tween ran (or without it).
            request.tm.get().addBeforeCommitHook(self.save, (request, lifecycle))
        return lifecycle.session

    def save(self, request: Request, lifecycle: SessionLifecycle) -> None:
        """Write the session in the request's transaction; the cookie follows its commit."""
        write = lifecycle.pending_write()
        if write is None:
            return
        if not request.environ.get("tm.active"):
            with self.store.engine.begin() as connection:
                write(connection)
            lifecycle.committed = True
            return
        dbsession = self._dbsession(request)
        write(dbsession)
        zope.sqlalchemy.mark_changed(dbsession, transaction_manager=request.tm)
        request.tm.get().addAfterCommitHook(_record_commit, (lifecycle,))

    def _dbsession(self, request: Request) -> ORMSession:
        """Return the SQLAlchemy session joined to the request's transaction, made once."""
        name = self.settings.request_dbsession
        if name:
            return getattr(request, name)  # type: ignore[no-any-return]
        dbsession: ORMSession | None = request.__dict__.get(_DBSESSION_ATTR)
        if dbsession is None:
            dbsession = ORMSession(self.store.engine)
            zope.sqlalchemy.datamanager.join_transaction(dbsession, transaction_manager=request.tm)
            setattr(request, _DBSESSION_ATTR, dbsession)
        return dbsession


def _record_commit(status: bool, lifecycle: SessionLifecycle) -> None:
    lifecycle.committed = status


def _cookie_callback(lifecycle: SessionLifecycle) -> Callable[[Request, Response], None]:
    def set_cookie(request: Request, response: Response) -> None:
        header = lifecycle.cookie_header()
        if header is not None:
            response.headerlist.append(("Set-Cookie", header))
        if header is not None or lifecycle.accessed:
            response.vary = tuple(sorted({*(response.vary or ()), "Cookie"}))

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
            factory.save(request, lifecycle)
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
    except SettingsError as exc:
        raise ConfigurationError(str(exc)) from exc
    config.include("pyramid_tm")
    config.set_session_factory(DBSessionFactory.from_settings(settings))
    config.add_tween("pyramid_dbsession.factory.session_tween_factory", under=EXCVIEW)
    configure_replays(config, settings.retry_jitter)


__all__ = ["DBSessionFactory", "configure", "get_store", "session_tween_factory"]
