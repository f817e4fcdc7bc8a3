"""Session ids: the random value in the cookie, and the digest stored in its place."""

from __future__ import annotations

import hashlib
import re
import secrets

#: Bytes of randomness in a session id (256 bits).
ID_BYTES = 32
#: ``secrets.token_urlsafe(32)`` is always 43 characters of base64url.
_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")


def new_session_id() -> str:
    """Return a fresh random session id for the cookie."""
    return secrets.token_urlsafe(ID_BYTES)


def looks_like_session_id(value: str) -> bool:
    """Tell whether ``value`` has the exact length and alphabet of an id we issue."""
    return _ID_PATTERN.fullmatch(value) is not None


def session_key_for(session_id: str) -> str:
    """Return the SHA-256 hex digest under which a session id's row is stored.

    The table never holds the id itself, so reading it cannot hijack a session.
    """
    return hashlib.sha256(session_id.encode("ascii")).hexdigest()
