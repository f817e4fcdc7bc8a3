"""SessionMiddleware: database-backed sessions for any WSGI application."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import transaction
import zope.sqlalchemy
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as ORMSession
from transaction.interfaces import NoTransaction

from .lifecycle import SessionConfig, SessionLifecycle
from .settings import settings_from_options
from .store import utcnow

#: Where the middleware puts the request's session.
ENVIRON_KEY = "pyramid_dbsession.session"

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class SessionMiddleware:
    """Put a lazily loaded session in ``environ['pyramid_dbsession.session']``.

    The session is written when the application starts its response (not for
    5xx statuses or when it passes ``exc_info``): inside the transaction that
    an outer transaction middleware began (``environ['repoze.tm.active']``, or
    an active transaction of ``transaction_manager``), else in a transaction of
    its own that commits before the Set-Cookie header is added.
    """

    def __init__(
        self,
        app: WSGIApp,
        url_or_engine: str | Engine,
        secret: str,
        *,
        transaction_manager: transaction.TransactionManager | None = None,
        clock: Callable[[], datetime] = utcnow,
        **options: Any,
    ) -> None:
        settings = settings_from_options(url_or_engine if isinstance(url_or_engine, str) else None, secret, options)
        self.app = app
        self.transaction_manager = transaction_manager
        self._config = SessionConfig.create(url_or_engine, settings, clock)
        self.store = self._config.store

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        lifecycle = self._config.open(environ.get("HTTP_COOKIE"))
        environ[ENVIRON_KEY] = lifecycle.session

        def session_start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if exc_info is None and not status.startswith("5"):
                self._save(environ, lifecycle)
            header = lifecycle.cookie_header()
            if header is not None:
                headers.append(("Set-Cookie", header))
            if header is not None or lifecycle.accessed:
                headers.append(("Vary", "Cookie"))
            return start_response(status, headers, exc_info)

        return self.app(environ, session_start_response)

    def _active_manager(self, environ: dict[str, Any]) -> transaction.TransactionManager | None:
        if environ.get("repoze.tm.active"):
            return self.transaction_manager or transaction.manager
        if self.transaction_manager is not None:
            try:
                self.transaction_manager.get()
            except NoTransaction:
                return None
            return self.transaction_manager
        return None

    def _save(self, environ: dict[str, Any], lifecycle: SessionLifecycle) -> None:
        write = lifecycle.pending_write()
        if write is None:
            return
        manager = self._active_manager(environ)
        if manager is None:
            with self.store.engine.begin() as connection:
                write(connection)
        else:
            dbsession = ORMSession(self.store.engine)
            zope.sqlalchemy.datamanager.join_transaction(
                dbsession, zope.sqlalchemy.datamanager.STATUS_CHANGED, transaction_manager=manager
            )
            write(dbsession)
        # A joined transaction commits after the response starts; a failed
        # commit there must fail the response, as transaction middlewares do.
        lifecycle.committed = True


def filter_factory(global_conf: dict[str, Any], **local_conf: Any) -> Callable[[WSGIApp], SessionMiddleware]:
    """PasteDeploy filter: ``url``, ``secret`` and any ``dbsession.*`` option without the prefix."""
    options = dict(local_conf)
    url = options.pop("url")
    secret = options.pop("secret")
    return lambda app: SessionMiddleware(app, url, secret, **options)
