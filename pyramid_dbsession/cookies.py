"""CookiePolicy: read the session id from a Cookie header, and write Set-Cookie values."""

from __future__ import annotations

import time
from email.utils import formatdate

from webob.cookies import make_cookie

from .ids import looks_like_session_id
from .settings import Settings

#: Session ids read from one Cookie header at most.
MAX_CANDIDATES = 3


class CookiePolicy:
    """The session cookie's name and attributes, from :class:`Settings`."""

    def __init__(self, settings: Settings) -> None:
        self.name = settings.cookie_name
        attributes = {
            "path": settings.cookie_path,
            "domain": settings.cookie_domain,
            "secure": settings.cookie_secure,
            "httponly": settings.cookie_httponly,
            "samesite": settings.cookie_samesite,
        }
        # WebOb validates and formats the attributes once; each response only
        # adds the id and its lifetime (formatting them all costs ~12 µs a cookie).
        self._delete_header = str(make_cookie(self.name, None, **attributes))
        self._attributes = str(make_cookie(self.name, "", **attributes)).partition("; ")[2]

    def read(self, cookie_header: str | None) -> tuple[tuple[str, ...], bool]:
        """Return the well-formed session ids in ``cookie_header``, in order, and whether any was sent.

        Browsers send several cookies of one name when their paths or domains
        differ (one left by an older ``cookie_path``, or set by a sibling
        subdomain), the stale one often first, so each is a candidate. Each
        may cost a query: at most :data:`MAX_CANDIDATES` are returned. Values
        of the wrong length or alphabet are ignored without a query.
        """
        if not cookie_header or self.name not in cookie_header:
            return (), False
        sent = False
        candidates: list[str] = []
        for pair in cookie_header.split(";"):
            name, equals, value = pair.partition("=")
            if equals and name.strip() == self.name:
                sent = True
                value = value.strip().strip('"')
                if looks_like_session_id(value) and value not in candidates:
                    candidates.append(value)
                    if len(candidates) == MAX_CANDIDATES:
                        break
        return tuple(candidates), sent

    def set_header(self, session_id: str, max_age: int | None) -> str:
        """Return the Set-Cookie value that stores ``session_id`` for ``max_age`` seconds."""
        if max_age is None:
            return f"{self.name}={session_id}; {self._attributes}"
        expires = formatdate(time.time() + max_age, usegmt=True)
        return f"{self.name}={session_id}; Max-Age={max_age}; expires={expires}; {self._attributes}"

    def delete_header(self) -> str:
        """Return the Set-Cookie value that removes the session cookie."""
        return self._delete_header
