"""Session: the dict-like object views see as ``request.session``."""

from __future__ import annotations

import secrets
from collections.abc import Callable, ItemsView, Iterator, KeysView, Mapping, MutableMapping, ValuesView
from datetime import datetime
from typing import Any

from .errors import DBSessionError
from .plan import EXPIRY_KEY, Loaded, LoadedRow, Policy, Recorded, expiry, principal_of

#: Keys starting with ``_`` belong to this package.
FLASH_PREFIX = "_f_"
CSRF_KEY = "_csrft_"
TEST_COOKIE_KEY = "_testcookie"
_MISSING: Any = object()
#: Values of these types cannot change in place, so handing one out needs no change detection.
_IMMUTABLE = frozenset({str, int, float, bool, bytes, complex, type(None)})


class Session(MutableMapping[str, Any]):
    """A dict-like session, loaded on first use by ``load``.

    It records what the request does: whether it was used (``accessed``),
    which keys it read and wrote, whether a mutable value was handed out
    (``exposed``: only then can data change in place, so only then is it
    serialized again and compared at the end of the request), and the intents
    ``clear()``, ``invalidate()``, ``regenerate_id()`` and
    ``end_other_sessions()``. A mutation that fails (deleting a missing key)
    records no write. A write that changes the principal
    (``dbsession.principal_key``) rotates the session there and then, see
    :meth:`_follow_principal`.

    Reads and writes are recorded per top-level key, for merging concurrent
    writes (:mod:`pyramid_dbsession.merge`): ``session[k]``, ``get(k)``,
    ``k in session``, ``pop(k)``, ``setdefault(k)`` and ``del session[k]``
    read ``k``; iterating, ``len()``, ``keys()``, ``values()``, ``items()``,
    ``==``, ``copy()``, ``popitem()`` and ``changed()`` read every key;
    assigning, ``del``, ``pop``, ``popitem``, ``setdefault`` and ``update``
    write the keys they change; a mutable value handed out is read and
    written. It knows nothing of SQL, cookies or transactions:
    :func:`pyramid_dbsession.plan.plan_write` reads what it recorded through
    :meth:`recorded`.
    """

    def __init__(
        self,
        load: Callable[[], Loaded],
        policy: Policy,
        clock: Callable[[], datetime],
        *,
        cookie_sent: bool = False,
    ) -> None:
        self._load_row = load
        self._policy = policy
        self._clock = clock
        self._cookie_sent = cookie_sent
        self._data: dict[str, Any] | None = None
        self._loaded: LoadedRow | None = None
        self._created: datetime | None = None
        self.accessed = False
        self.exposed = False
        self.invalidated = False
        self.regenerated = False
        self.cleared = False
        self.read_all = False
        self.read_keys: set[str] = set()
        self.written_keys: set[str] = set()
        #: The keys a mutation went through for (handing out a mutable value is not one).
        self.assigned_keys: set[str] = set()
        self.end_others = False
        self._principal_read: str | None = None
        self._principal: str | None = None
        #: How many mutations went through; a change after the session was saved is lost, and logged.
        self.changes = 0

    # -- what the plan reads --------------------------------------------------------

    @property
    def loaded(self) -> LoadedRow | None:
        """The live row this request read, or None."""
        return self._loaded

    @property
    def modified(self) -> bool:
        """Whether a mutation went through."""
        return self.changes > 0

    def recorded(self) -> Recorded:
        """What the request did to the session so far."""
        return Recorded(
            data=self._data,
            created=self._created or self._clock(),
            modified=self.modified,
            exposed=self.exposed,
            invalidated=self.invalidated,
            regenerated=self.regenerated,
            cookie_sent=self._cookie_sent,
            principal_read=self._principal_read,
            end_others=self.end_others,
            cleared=self.cleared,
            read_keys=frozenset(self.read_keys),
            written_keys=frozenset(self.written_keys),
            read_all=self.read_all,
        )

    # -- loading and recording ---------------------------------------------------------

    def _load(self) -> dict[str, Any]:
        self.accessed = True
        if self._data is None:
            self._loaded, self._data = self._load_row()
            self._created = self._clock() if self._loaded is None else self._loaded.created
            self._principal_read = self._principal = principal_of(self._data, self._policy.principal_key)
        return self._data

    def _read(self, key: str) -> dict[str, Any]:
        data = self._load()
        self.read_keys.add(key)
        return data

    def _read_everything(self) -> dict[str, Any]:
        data = self._load()
        self.read_all = True
        return data

    def _wrote(self, *keys: str) -> None:
        self.written_keys.update(keys)
        self.assigned_keys.update(keys)
        self.changes += 1
        if self._policy.principal_key in keys:
            self._follow_principal()

    def _follow_principal(self) -> None:
        """Rotate the session when a write changed its principal (login, logout, another user).

        The id is regenerated and a CSRF token the session held is replaced.
        From no principal to one the data is kept; from one to another or to
        none only the keys this request wrote stay, so nothing of the previous
        user reaches the next one.
        """
        data = self._load()
        principal = principal_of(data, self._policy.principal_key)
        previous, self._principal = self._principal, principal
        if principal == previous or not self._policy.rotate_on_principal_change:
            return
        self.regenerated = True
        held_token = CSRF_KEY in data
        if previous is not None:
            for key in [key for key in data if key not in self.assigned_keys]:
                del data[key]
        if held_token:
            self.new_csrf_token()

    def _hand_out(self, key: str, value: Any) -> Any:
        if type(value) not in _IMMUTABLE:
            # The caller may change it in place: a read and, possibly, a write.
            self.exposed = True
            self.written_keys.add(key)
        return value

    # -- ISession attributes ---------------------------------------------------------

    @property
    def new(self) -> bool:
        """True when no stored session stands behind this one (yet)."""
        self._load()
        return self._loaded is None or self.invalidated or self.regenerated

    @property
    def created(self) -> int:
        """When the session was first created, in seconds since the epoch."""
        self._load()
        return int((self._created or self._clock()).timestamp())

    @property
    def expire_date(self) -> datetime:
        """When the session ends if it is not used again after this request (aware UTC)."""
        self._load()
        return expiry(self._loaded, self.recorded(), self._clock(), self._policy)

    # -- the mapping ---------------------------------------------------------------------

    def __getitem__(self, key: str) -> Any:
        return self._hand_out(key, self._read(key)[key])

    def get(self, key: str, default: Any = None) -> Any:
        data = self._read(key)
        return self._hand_out(key, data[key]) if key in data else default

    def __contains__(self, key: object) -> bool:
        data = self._load()
        if isinstance(key, str):
            self.read_keys.add(key)
        return key in data

    def __iter__(self) -> Iterator[str]:
        return iter(self._read_everything())

    def __len__(self) -> int:
        return len(self._read_everything())

    def keys(self) -> KeysView[str]:
        return self._read_everything().keys()

    def values(self) -> ValuesView[Any]:
        data = self._read_everything()
        for key, value in data.items():
            self._hand_out(key, value)
        return data.values()

    def items(self) -> ItemsView[str, Any]:
        data = self._read_everything()
        for key, value in data.items():
            self._hand_out(key, value)
        return data.items()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Session):
            return self._read_everything() == other._read_everything()
        if isinstance(other, Mapping):
            return self._read_everything() == dict(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable, like dict

    def copy(self) -> dict[str, Any]:
        """Return a plain dict of the data (a shallow copy, as ``dict.copy()``)."""
        return dict(self.items())

    def __or__(self, other: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(other, Mapping):
            return NotImplemented
        return {**self.copy(), **other}

    def __ror__(self, other: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(other, Mapping):
            return NotImplemented
        return {**other, **self.copy()}

    def __ior__(self, other: Any) -> Session:  # type: ignore[misc]
        self.update(other)
        return self

    def __repr__(self) -> str:
        return f"<Session {self._data!r}>" if self._data is not None else "<Session (not loaded)>"

    # -- writing ---------------------------------------------------------------------------

    def __setitem__(self, key: str, value: Any) -> None:
        self._load()[key] = value
        self._wrote(key)

    def __delitem__(self, key: str) -> None:
        del self._read(key)[key]
        self._wrote(key)

    def pop(self, key: str, default: Any = _MISSING) -> Any:
        data = self._read(key)
        if key in data:
            value = data.pop(key)
            self._wrote(key)
            return value
        if default is _MISSING:
            raise KeyError(key)
        return default

    def popitem(self) -> tuple[str, Any]:
        data = self._read_everything()
        key, value = data.popitem()
        self._wrote(key)
        return key, value

    def setdefault(self, key: str, default: Any = None) -> Any:
        data = self._read(key)
        if key not in data:
            data[key] = default
            self._wrote(key)
        return self._hand_out(key, data[key])

    def update(self, other: Any = (), /, **kwargs: Any) -> None:
        data = self._load()
        items = dict(other, **kwargs)
        if items:
            data.update(items)
            self._wrote(*items)

    def clear(self) -> None:
        data = self._load()
        # No keys at all, also none set meanwhile by another request: it never merges.
        self.cleared = True
        if data:
            keys = list(data)
            data.clear()
            self._wrote(*keys)

    def changed(self) -> None:
        """Mark the session modified after changing a mutable value in place."""
        self._wrote(*self._read_everything())

    def invalidate(self) -> None:
        """End this session: its row is deleted, its cookie expired.

        Data set afterwards goes to a brand new session with a new id.
        """
        data = self._load()
        self._wrote(*data)
        data.clear()
        self.invalidated = True
        self._created = self._clock()
        self._principal = None

    def regenerate_id(self) -> None:
        """Move the data to a new session id and make the old id worthless.

        Call it when a user logs in, against session fixation.
        """
        self._read_everything()
        self.regenerated = True
        self.changes += 1

    def end_other_sessions(self) -> None:
        """End every other live session of this session's principal, when the request's transaction commits.

        If the view raises or the commit fails, nothing ends. A session with
        no principal has no other sessions to end.
        """
        if self._policy.principal_key is None:
            raise DBSessionError("end_other_sessions() needs dbsession.principal_key, which is none")
        self._load()
        self.end_others = True
        self.changes += 1

    def set_expiry(self, seconds: int | None) -> None:
        """Set this session's own idle lifetime in seconds.

        ``0`` keeps the cookie only until the browser closes; ``None`` goes back
        to ``dbsession.timeout``. ``dbsession.absolute_timeout`` still applies.
        """
        if seconds is None:
            self.pop(EXPIRY_KEY, None)
            return
        if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 0:
            raise ValueError(f"set_expiry() takes whole seconds >= 0 or None, got {seconds!r}")
        self[EXPIRY_KEY] = seconds

    # -- flash messages ----------------------------------------------------------------

    def flash(self, msg: Any, queue: str = "", allow_duplicate: bool = True) -> None:
        """Add ``msg`` to a flash queue, once only unless ``allow_duplicate``."""
        key = FLASH_PREFIX + queue
        messages = self._read(key).get(key, [])
        if allow_duplicate or msg not in messages:
            self[key] = [*messages, msg]

    def peek_flash(self, queue: str = "") -> list[Any]:
        """Return the messages of a flash queue without removing them."""
        key = FLASH_PREFIX + queue
        return [self._hand_out(key, message) for message in self._read(key).get(key, [])]

    def pop_flash(self, queue: str = "") -> list[Any]:
        """Return and remove the messages of a flash queue."""
        return list(self.pop(FLASH_PREFIX + queue, []))

    # -- CSRF (Pyramid's legacy and session storage policies) -----------------------------

    def new_csrf_token(self) -> str:
        """Store and return a fresh CSRF token."""
        token = secrets.token_hex(32)
        self[CSRF_KEY] = token
        return token

    def get_csrf_token(self) -> str:
        """Return the CSRF token, creating one if there is none."""
        token = self.get(CSRF_KEY)
        return token if isinstance(token, str) else self.new_csrf_token()

    # -- the test cookie of the original sessions -----------------------------------------

    def set_test_cookie(self) -> None:
        """Store a marker to check with :meth:`test_cookie_worked` on the next request."""
        self[TEST_COOKIE_KEY] = "worked"

    def test_cookie_worked(self) -> bool:
        """Tell whether the browser sent back the session set by :meth:`set_test_cookie`."""
        return bool(self.get(TEST_COOKIE_KEY) == "worked")

    def delete_test_cookie(self) -> None:
        """Remove the test cookie marker."""
        self.pop(TEST_COOKIE_KEY, None)
