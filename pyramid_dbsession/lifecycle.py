"""SessionLifecycle: one request's session, from the Cookie header to Set-Cookie.

It loads the row on first use, decides at the end of the request what to write
(nothing, an INSERT, an UPDATE guarded by ``version``, an expiry touch or a
DELETE), runs it in the caller's transaction, and tells the adapter which
cookie to send once that transaction has committed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool

from .codec import Codec
from .cookies import CookiePolicy
from .errors import BadSessionData, DBSessionError, SessionConflict, SessionTooLarge
from .ids import new_session_id, session_key_for
from .models import create_table
from .session import EXPIRY_KEY, Session
from .settings import FOLLOW_TIMEOUT, Settings
from .store import Executor, SessionStore, StoredSession, utcnow

log = logging.getLogger("pyramid_dbsession")

_NEW_ID_ATTEMPTS = 5


def _run_steps(steps: list[Callable[[Executor], Any]], executor: Executor) -> None:
    for step in steps:
        step(executor)


def _in_memory_sqlite(url: str | None) -> bool:
    if url is None:
        return False
    parsed = sa.make_url(url)
    in_memory = parsed.database in {None, "", ":memory:"} or parsed.query.get("mode") == "memory"
    return parsed.get_backend_name() == "sqlite" and in_memory


class SessionConfig:
    """What every request's lifecycle shares: settings, store and cookie policy."""

    def __init__(self, settings: Settings, store: SessionStore) -> None:
        self.settings = settings
        self.store = store
        if settings.create_table:
            create_table(store.engine)
        self.cookies = CookiePolicy(settings)
        self.timeout = timedelta(seconds=settings.timeout)
        self.reissue = timedelta(seconds=settings.reissue_time)
        self.absolute = None if settings.absolute_timeout is None else timedelta(seconds=settings.absolute_timeout)

    @classmethod
    def create(
        cls, url_or_engine: str | Engine | None, settings: Settings, clock: Callable[[], datetime] = utcnow
    ) -> SessionConfig:
        """Build the engine (unless given), the store and the config for ``settings``."""
        reader = None
        if isinstance(url_or_engine, Engine):
            engine = url_or_engine
        elif _in_memory_sqlite(settings.url):
            # The database lives in one connection: every thread, read and write shares it.
            shared = {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
            engine = sa.engine_from_config({"url": settings.url, **shared, **settings.engine_options}, prefix="")
        else:
            options = {"url": settings.url, **settings.engine_options}
            engine = sa.engine_from_config(options, prefix="")
            # Every connection of this pool is in autocommit mode, where PyMySQL would
            # still send the ROLLBACK that ends each read: a round trip for nothing.
            autocommit = {"isolation_level": "AUTOCOMMIT", "skip_autocommit_rollback": True}
            reader = sa.engine_from_config({**options, **autocommit}, prefix="")
        codec = Codec(settings.secrets, settings.serializer)
        return cls(settings, SessionStore(engine, codec, clock=clock, reader=reader))

    @property
    def codec(self) -> Codec:
        return self.store.codec

    def open(self, cookie_header: str | None, locking: Callable[[], Executor] | None = None) -> SessionLifecycle:
        """Start the lifecycle of one request's session.

        ``locking`` returns the executor of the request's transaction, to read
        and lock the row in it: worth its cost when replaying a request that
        lost a conflict, so that the replay cannot lose again.
        """
        return SessionLifecycle(self, cookie_header, locking)


class SessionLifecycle:
    """Load, save and cookie decisions for one request's :class:`Session`."""

    def __init__(
        self, config: SessionConfig, cookie_header: str | None, locking: Callable[[], Executor] | None = None
    ) -> None:
        self._config = config
        self._locking = locking
        self._incoming_ids, self._cookie_sent = config.cookies.read(cookie_header)
        self._record: StoredSession | None = None
        self._session_id: str | None = None
        self._stale_key: str | None = None
        self._payload: bytes | None = None
        self._loaded_expiry: int | None = None
        self._renews_cookie = False
        self._cookie_max_age: int | None = None
        self._saved = False
        #: Whether the transaction running :meth:`pending_write`'s statements committed.
        self.committed = False
        #: Whether :meth:`pending_write` returned statements to run.
        self.wrote = False
        self.is_new = True
        self.created = config.store.now()
        self.session = Session(self)

    # -- loading --------------------------------------------------------------------

    def load(self) -> dict[str, Any]:
        """Read the cookie's session from the store; return its data, or {} for a fresh one.

        The first of the cookie's ids whose row is live and valid wins.
        """
        for session_id in self._incoming_ids:
            data = self._load_one(session_id)
            if data is not None:
                return data
        return {}

    def _load_one(self, session_id: str) -> dict[str, Any] | None:
        config = self._config
        session_key = session_key_for(session_id)
        record = config.store.load(session_key, None if self._locking is None else self._locking())
        if record is None:
            return None
        try:
            payload = config.codec.verify(session_key, record.session_data)
            data = config.codec.loads(payload)
        except BadSessionData as exc:
            log.warning("ignoring stored session %s: %s", session_key[:12], exc.reason)
            return None
        self._record, self._payload, self._session_id = record, payload, session_id
        self._loaded_expiry = data.get(EXPIRY_KEY)
        self.is_new = False
        self.created = record.created
        return data

    # -- what views ask for -----------------------------------------------------------

    def invalidate(self) -> None:
        """Forget the current row (deleted at save) and start over as a new session."""
        self._drop_record()
        self.created = self._config.store.now()

    def regenerate_id(self) -> None:
        """Keep the data and creation time, but store them under a new id at save."""
        self._drop_record()

    def _drop_record(self) -> None:
        if self._record is not None:
            self._stale_key = self._record.session_key
        self._record = self._session_id = self._payload = None
        self.is_new = True

    def expire_date(self, now: datetime | None = None) -> datetime:
        """When the session ends if it is saved at ``now``: its idle lifetime, capped by the absolute one."""
        config = self._config
        now = now or config.store.now()
        own = (self.session._data or {}).get(EXPIRY_KEY)
        idle = timedelta(seconds=own) if own else config.timeout
        expire = now + idle
        if config.absolute is not None:
            expire = min(expire, self.created + config.absolute)
        return expire

    # -- saving -----------------------------------------------------------------------

    def pending_write(self) -> Callable[[Executor], None] | None:
        """Decide what the request's changes need written, once, at its end.

        Returns None when nothing is to be written, else a function that runs
        the statements on an executor of the caller's transaction. Running it
        raises :class:`SessionConflict` when another request changed or deleted
        the row since it was read. :class:`SessionTooLarge` is raised here, over
        ``max_size``.
        """
        session = self.session
        data = session._data
        if self._saved or data is None:
            return None
        self._saved = True
        modified, session.modified = session.modified, False
        store = self._config.store
        steps: list[Callable[[Executor], Any]] = []
        if self._stale_key is not None:
            steps.append(partial(store.remove, session_key=self._stale_key))
        record = self._record
        now = store.now()
        expire = self.expire_date(now)
        # set_expiry() changes the cookie's kind (browser-session or not) at once.
        own_expiry_changed = bool(data) and data.get(EXPIRY_KEY) != self._loaded_expiry
        if not data:
            if record is not None:
                steps.append(partial(store.remove, session_key=record.session_key))
        elif record is None:
            steps.append(partial(self._insert, payload=self._config.codec.dumps(data), expire_date=expire))
        elif modified or (self._config.settings.detect_changes and session.exposed):
            payload = self._config.codec.dumps(data)
            if modified or payload != self._payload:
                if not (own_expiry_changed or expire < record.expire_date or self._is_reissue_due(record, expire)):
                    # Keeping the expiry leaves every indexed column as it was, so
                    # PostgreSQL can update the row in place (HOT), and the cookie
                    # need not be sent again.
                    expire = record.expire_date
                text = self._signed(record.session_key, payload)
                steps.append(partial(self._update, record=record, text=text, expire_date=expire))
        if data and record is not None and not steps and self._is_reissue_due(record, expire):
            steps.append(partial(store.touch, session_key=record.session_key, expire_date=expire))
        if not steps:
            return None
        self.wrote = True
        if data and (record is None or own_expiry_changed or expire != record.expire_date):
            self._renews_cookie = True
            self._cookie_max_age = self._max_age(expire, now)
        return partial(_run_steps, steps)

    def _is_reissue_due(self, record: StoredSession, expire: datetime) -> bool:
        return expire >= record.expire_date and expire - record.expire_date >= self._config.reissue

    def _signed(self, session_key: str, payload: bytes) -> str:
        text = self._config.codec.sign(session_key, payload)
        limit = self._config.settings.max_size
        if len(text) > limit:
            raise SessionTooLarge(len(text), limit)
        return text

    def _insert(self, executor: Executor, payload: bytes, expire_date: datetime) -> None:
        for _ in range(_NEW_ID_ATTEMPTS):
            session_id = new_session_id()
            session_key = session_key_for(session_id)
            text = self._signed(session_key, payload)
            if self._config.store.insert(executor, session_key, text, self.created, expire_date):
                self._session_id = session_id
                return
        raise DBSessionError(f"no free session id after {_NEW_ID_ATTEMPTS} attempts")

    def _update(self, executor: Executor, record: StoredSession, text: str, expire_date: datetime) -> None:
        if not self._config.store.update(executor, record.session_key, record.version, text, expire_date):
            raise SessionConflict(record.session_key)

    def _max_age(self, expire: datetime, now: datetime) -> int | None:
        own = (self.session._data or {}).get(EXPIRY_KEY)
        if own == 0:
            return None
        configured = self._config.settings.cookie_max_age
        if own is None and configured is not FOLLOW_TIMEOUT:
            return configured
        return max(0, round((expire - now).total_seconds()))

    # -- the response -----------------------------------------------------------------

    def cookie_header(self) -> str | None:
        """Return the Set-Cookie value to send, or None; call it after the commit."""
        if self.session.modified and self._saved:
            log.warning("request.session changed after it was saved; that change is lost")
        if self.wrote and not self.committed:
            return None
        data = self.session._data
        if data:
            if not self._renews_cookie:
                return None
            return self._config.cookies.set_header(self._session_id or "", self._cookie_max_age)
        if data is not None and not data and (self.wrote or self._cookie_sent):
            return self._config.cookies.delete_header()
        return None

    @property
    def accessed(self) -> bool:
        """Whether the request used the session, so the response varies by Cookie."""
        return self.session.accessed
