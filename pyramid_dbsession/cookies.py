"""CookiePolicy: read the session id from a Cookie header, and the headers a response sends."""

from __future__ import annotations

import logging
import time
from email.utils import formatdate

from webob.cookies import make_cookie

from .ids import looks_like_session_id
from .plan import CookieAction, WritePlan
from .settings import Settings

Headers = list[tuple[str, str]]

log = logging.getLogger("pyramid_dbsession")

#: Session ids read from one Cookie header at most.
MAX_CANDIDATES = 3


class CookiePolicy:
    """The session cookie's name and attributes, from :class:`Settings`."""

    def __init__(self, settings: Settings) -> None:
        self.name = settings.cookie_name
        self._secure = settings.cookie_secure
        # WebOb validates and formats the attributes once; each response only
        # adds the id and its lifetime (formatting them all costs ~12 us a cookie).
        self._delete_headers: dict[bool, str] = {}
        self._attributes: dict[bool, str] = {}
        for secure in (False, True):
            attributes = {
                "path": settings.cookie_path,
                "domain": settings.cookie_domain,
                "secure": secure,
                "httponly": settings.cookie_httponly,
                "samesite": settings.cookie_samesite,
            }
            self._delete_headers[secure] = str(make_cookie(self.name, None, **attributes))
            self._attributes[secure] = str(make_cookie(self.name, "", **attributes)).partition("; ")[2]

    def is_secure(self, https: bool) -> bool:
        """Whether the cookie carries ``Secure`` on a request made over https (or not)."""
        return https if self._secure == "auto" else bool(self._secure)

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

    def set_header(self, session_id: str, max_age: int | None, *, https: bool = False) -> str:
        """Return the Set-Cookie value that stores ``session_id`` for ``max_age`` seconds."""
        attributes = self._attributes[self.is_secure(https)]
        if max_age is None:
            return f"{self.name}={session_id}; {attributes}"
        expires = formatdate(time.time() + max_age, usegmt=True)
        return f"{self.name}={session_id}; Max-Age={max_age}; expires={expires}; {attributes}"

    def delete_header(self, *, https: bool = False) -> str:
        """Return the Set-Cookie value that removes the session cookie."""
        return self._delete_headers[self.is_secure(https)]

    def header_for(
        self, plan: WritePlan, committed: bool, session_id: str | None, *, https: bool = False
    ) -> str | None:
        """Return the Set-Cookie value a plan calls for, or None; nothing unless its transaction committed.

        ``session_id`` is the id the session's row has after the plan ran.
        """
        if not committed or plan.cookie is CookieAction.KEEP:
            return None
        if plan.cookie is CookieAction.DELETE:
            return self.delete_header(https=https)
        return self.set_header(session_id or "", plan.max_age, https=https)


def add_session_headers(headers: Headers, set_cookie: str | None, accessed: bool, where: str = "") -> None:
    """Add the session's headers to a response's header list.

    Set-Cookie, and ``Vary: Cookie`` if the session was used. A response that
    sets or deletes the cookie is made ``Cache-Control: private``: a shared
    cache must never hand one visitor's session id to others, so ``public``
    and ``s-maxage`` are dropped, with a warning naming ``where``.
    """
    if set_cookie is not None:
        headers.append(("Set-Cookie", set_cookie))
        _keep_private(headers, where)
    if set_cookie is None and not accessed:
        return
    for index, (name, value) in enumerate(headers):
        if name.lower() == "vary":
            if "cookie" not in {token.strip().lower() for token in value.split(",")} and value.strip() != "*":
                headers[index] = (name, f"{value}, Cookie")
            return
    headers.append(("Vary", "Cookie"))


def _keep_private(headers: Headers, where: str) -> None:
    for index, (name, value) in enumerate(headers):
        if name.lower() != "cache-control":
            continue
        directives = [part.strip() for part in value.split(",") if part.strip()]
        shared = [part for part in directives if part.lower() == "public" or part.lower().startswith("s-maxage")]
        kept = [part for part in directives if part not in shared]
        if shared:
            log.warning("%s set the session cookie on a response marked %s: dropped", where or "a response", shared)
        if not any(part.lower() in {"private", "no-store"} for part in kept):
            kept.insert(0, "private")
        headers[index] = (name, ", ".join(kept))
        return
    headers.append(("Cache-Control", "private"))
