"""SessionMiddleware: database-backed sessions for any WSGI application."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from functools import partial
from typing import Any

import transaction
from sqlalchemy.engine import Engine
from transaction.interfaces import NoTransaction

from ..db.engines import open_store, prepare_table
from ..db.store import utcnow
from ..errors import SettingsError
from ..settings import settings_from_options
from .lifecycle import SessionConfig, SessionLifecycle

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
    its own that commits before the Set-Cookie header is added. An outer
    transaction ends after the response has started: its Set-Cookie is then
    taken back out of the header list if that transaction aborts, which
    servers that read the headers when the body starts honour.
    """

    def __init__(
        self,
        app: WSGIApp,
        url_or_engine: str | Engine,
        secret: Any,
        *,
        transaction_manager: transaction.TransactionManager | None = None,
        clock: Callable[[], datetime] = utcnow,
        **options: Any,
    ) -> None:
        given = url_or_engine if isinstance(url_or_engine, Engine) else None
        settings = settings_from_options(None if given else str(url_or_engine), secret, options)
        self.app = app
        self.transaction_manager = transaction_manager
        self.store = open_store(settings, given, clock)
        prepare_table(self.store, settings)
        self._config = SessionConfig(settings, self.store)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        https = environ.get("wsgi.url_scheme") == "https"
        lifecycle = SessionLifecycle(
            self._config, environ.get("HTTP_COOKIE"), https=https, client=self._config.client(environ)
        )
        environ[ENVIRON_KEY] = lifecycle.session

        def session_start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            manager = self._active_manager(environ)
            if exc_info is None and not status.startswith("5"):
                lifecycle.save(manager)
            outcome = lifecycle.outcome
            joined = manager is not None and outcome is not None and not outcome.committed
            set_cookie = lifecycle.add_headers(headers, environ.get("PATH_INFO", "/"), if_committed=joined)
            if joined and outcome is not None and set_cookie is not None:
                outcome.on_end(partial(_take_back, headers, ("Set-Cookie", set_cookie)))
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


def _take_back(headers: list[tuple[str, str]], header: tuple[str, str], committed: bool) -> None:
    """Remove a header that was sent ahead of a commit that did not happen."""
    if not committed and header in headers:
        headers.remove(header)


def filter_factory(global_conf: dict[str, Any], **local_conf: Any) -> Callable[[WSGIApp], SessionMiddleware]:
    """PasteDeploy filter: ``url``, ``secret`` and any ``dbsession.*`` option without the prefix."""
    options = dict(local_conf)
    try:
        url = options.pop("url")
        secret = options.pop("secret")
    except KeyError as exc:
        raise SettingsError(f"the session filter needs {exc.args[0]!r}: the database URL and the secret") from None
    return lambda app: SessionMiddleware(app, url, secret, **options)
