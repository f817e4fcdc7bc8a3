"""Session: the dict-like object views see as ``request.session``."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .lifecycle import SessionLifecycle

#: Keys starting with ``_`` belong to this package.
FLASH_PREFIX = "_f_"
CSRF_KEY = "_csrft_"
TEST_COOKIE_KEY = "_testcookie"
EXPIRY_KEY = "_expiry"
_MISSING: Any = object()
#: Values of these types cannot change in place, so handing one out needs no change detection.
_IMMUTABLE = frozenset({str, int, float, bool, bytes, complex, type(None)})


class Session:
    """A dict-like session, loaded from the database on first use.

    Reads mark it accessed; mutations mark it modified. Mutating a value in
    place (``session['cart'].append(x)``) needs :meth:`changed` unless
    ``dbsession.detect_changes`` is on (the default). Handing out a mutable
    value marks it exposed: only then can it change in place, so only then
    is the data serialized again and compared at the end of the request.
    """

    def __init__(self, lifecycle: SessionLifecycle) -> None:
        self._lifecycle = lifecycle
        self._data: dict[str, Any] | None = None
        self.accessed = False
        self.modified = False
        self.exposed = False

    @property
    def _dict(self) -> dict[str, Any]:
        return self._load()

    def _load(self) -> dict[str, Any]:
        self.accessed = True
        if self._data is None:
            self._data = self._lifecycle.load()
        return self._data

    def _hand_out(self, value: Any) -> Any:
        if type(value) not in _IMMUTABLE:
            self.exposed = True
        return value

    def _changing(self) -> dict[str, Any]:
        data = self._dict
        self.modified = True
        return data

    # -- ISession attributes ---------------------------------------------------

    @property
    def new(self) -> bool:
        """True when no stored session stands behind this one (yet)."""
        self._load()
        return self._lifecycle.is_new

    @property
    def created(self) -> int:
        """When the session was first created, in seconds since the epoch."""
        self._load()
        return int(self._lifecycle.created.timestamp())

    @property
    def expire_date(self) -> datetime:
        """When the session ends if it is not used again (aware UTC)."""
        self._load()
        return self._lifecycle.expire_date()

    # -- reading -----------------------------------------------------------------

    def __getitem__(self, key: str) -> Any:
        return self._hand_out(self._dict[key])

    def get(self, key: str, default: Any = None) -> Any:
        return self._hand_out(self._dict.get(key, default))

    def __contains__(self, key: object) -> bool:
        return key in self._dict

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict)

    def __len__(self) -> int:
        return len(self._dict)

    def keys(self) -> Any:
        return self._dict.keys()

    def values(self) -> Any:
        self.exposed = True
        return self._dict.values()

    def items(self) -> Any:
        self.exposed = True
        return self._dict.items()

    def __repr__(self) -> str:
        return f"<Session {self._data!r}>" if self._data is not None else "<Session (not loaded)>"

    # -- writing -----------------------------------------------------------------

    def __setitem__(self, key: str, value: Any) -> None:
        self._changing()[key] = value

    def __delitem__(self, key: str) -> None:
        del self._changing()[key]

    def pop(self, key: str, default: Any = _MISSING) -> Any:
        data = self._dict
        if key in data:
            self.modified = True
            return data.pop(key)
        if default is _MISSING:
            raise KeyError(key)
        return default

    def popitem(self) -> tuple[str, Any]:
        return self._changing().popitem()

    def setdefault(self, key: str, default: Any = None) -> Any:
        data = self._dict
        if key not in data:
            self.modified = True
            data[key] = default
        return self._hand_out(data[key])

    def update(self, other: Any = (), /, **kwargs: Any) -> None:
        self._changing().update(other, **kwargs)

    def clear(self) -> None:
        self._changing().clear()

    def changed(self) -> None:
        """Mark the session modified after changing a mutable value in place."""
        self._changing()

    def invalidate(self) -> None:
        """End this session: its row is deleted, its cookie expired.

        Data set afterwards goes to a brand new session with a new id.
        """
        self._load()
        self._data = {}
        self.modified = True
        self._lifecycle.invalidate()

    def regenerate_id(self) -> None:
        """Move the data to a new session id and make the old id worthless.

        Call it when a user logs in, against session fixation.
        """
        self._changing()
        self._lifecycle.regenerate_id()

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

    # -- flash messages ----------------------------------------------------------

    def flash(self, msg: Any, queue: str = "", allow_duplicate: bool = True) -> None:
        """Add ``msg`` to a flash queue, once only unless ``allow_duplicate``."""
        messages = self._dict.setdefault(FLASH_PREFIX + queue, [])
        if allow_duplicate or msg not in messages:
            messages.append(msg)
            self.modified = True

    def peek_flash(self, queue: str = "") -> list[Any]:
        """Return the messages of a flash queue without removing them."""
        return [self._hand_out(message) for message in self._dict.get(FLASH_PREFIX + queue, [])]

    def pop_flash(self, queue: str = "") -> list[Any]:
        """Return and remove the messages of a flash queue."""
        return list(self.pop(FLASH_PREFIX + queue, []))

    # -- CSRF (Pyramid's legacy and session storage policies) -----------------------

    def new_csrf_token(self) -> str:
        """Store and return a fresh CSRF token."""
        token = secrets.token_hex(32)
        self[CSRF_KEY] = token
        return token

    def get_csrf_token(self) -> str:
        """Return the CSRF token, creating one if there is none."""
        token = self.get(CSRF_KEY)
        return token if isinstance(token, str) else self.new_csrf_token()

    # -- the test cookie of the original sessions ---------------------------------

    def set_test_cookie(self) -> None:
        """Store a marker to check with :meth:`test_cookie_worked` on the next request."""
        self[TEST_COOKIE_KEY] = "worked"

    def test_cookie_worked(self) -> bool:
        """Tell whether the browser sent back the session set by :meth:`set_test_cookie`."""
        return bool(self.get(TEST_COOKIE_KEY) == "worked")

    def delete_test_cookie(self) -> None:
        """Remove the test cookie marker."""
        self.pop(TEST_COOKIE_KEY, None)
