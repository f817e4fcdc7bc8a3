"""One request's session, from its Cookie header to its Set-Cookie, for both adapters."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import transaction
from sqlalchemy.orm import Session as ORMSession

from ..cookies import CookiePolicy, Headers, add_session_headers
from ..db.principals import NO_CLIENT, ClientInfo
from ..db.store import Executor, SessionStore
from ..plan import Loaded, Policy, WritePlan, plan_write
from ..session import Session
from ..settings import Settings
from .transactions import Outcome, run_plan

log = logging.getLogger("pyramid_dbsession")


class SessionConfig:
    """What every request's session shares: the settings, the store, the cookie and plan policies."""

    def __init__(self, settings: Settings, store: SessionStore) -> None:
        self.settings = settings
        self.store = store
        self.cookies = CookiePolicy(settings)
        self.policy = Policy.from_settings(settings)

    def client(self, environ: dict[str, Any]) -> ClientInfo:
        """The client details a request's new rows record: none unless ``dbsession.client_info`` is on."""
        return ClientInfo.from_environ(environ) if self.settings.client_info else NO_CLIENT


class SessionLifecycle:
    """Load the session on first use, plan and run its write once, then say which headers follow.

    ``locking`` returns the executor of the request's transaction, to read and
    lock the row in it: worth its cost when replaying a request that lost a
    conflict, so that the replay cannot lose again. ``client`` is recorded on
    a row the session inserts.
    """

    def __init__(
        self,
        config: SessionConfig,
        cookie_header: str | None,
        locking: Callable[[], Executor] | None = None,
        *,
        https: bool = False,
        client: ClientInfo = NO_CLIENT,
    ) -> None:
        self._config = config
        self._https = https
        self._client = client
        self._locking = locking
        self._session_ids, cookie_sent = config.cookies.read(cookie_header)
        self.session = Session(self._load, config.policy, config.store.now, cookie_sent=cookie_sent)
        self.plan: WritePlan | None = None
        self.outcome: Outcome | None = None
        self._changes_planned = 0

    def _load(self) -> Loaded:
        return self._config.store.read(self._session_ids, None if self._locking is None else self._locking())

    def save(
        self, manager: transaction.TransactionManager | None, dbsession: Callable[[], ORMSession] | None = None
    ) -> Outcome | None:
        """Plan the session's write and run it in ``manager``'s transaction (or one of its own); once."""
        if self.plan is not None:
            return self.outcome
        store, session = self._config.store, self.session
        self.plan = plan_write(session.loaded, session.recorded(), store.now(), self._config.policy, store.codec.dumps)
        self._changes_planned = session.changes
        self.outcome = run_plan(self.plan, store, manager, dbsession, self._client)
        return self.outcome

    def set_cookie(self, *, if_committed: bool = False) -> str | None:
        """The Set-Cookie value to send, or None: only what a committed transaction stored reaches the browser.

        ``if_committed`` asks for the value to send if the still open
        transaction commits (the WSGI middleware must start the response first).
        """
        if self.plan is None or self.outcome is None:
            return None
        if self.session.changes != self._changes_planned:
            log.warning("request.session changed after it was saved; that change is lost")
        loaded = self.session.loaded
        session_id = self.outcome.session_id or (None if loaded is None else loaded.session_id)
        committed = if_committed or self.outcome.committed
        return self._config.cookies.header_for(self.plan, committed, session_id, https=self._https)

    def add_headers(self, headers: Headers, where: str, *, if_committed: bool = False) -> str | None:
        """Add the session's headers to ``headers`` (see :func:`add_session_headers`); return the Set-Cookie value.

        ``where`` names the route or path in a warning about a cacheable response.
        """
        set_cookie = self.set_cookie(if_committed=if_committed)
        add_session_headers(headers, set_cookie, self.session.accessed, where)
        return set_cookie
