"""The exceptions of ``pyramid_dbsession``."""

from __future__ import annotations

from transaction.interfaces import TransientError


class DBSessionError(Exception):
    """Base class of every error this package raises."""


class SettingsError(DBSessionError, ValueError):
    """A ``dbsession.*`` setting or factory option is missing or invalid."""


class BadSessionData(DBSessionError):
    """Stored session data failed its signature or could not be decoded.

    ``reason`` says why, in words safe to log (never the data itself).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BadSignature(BadSessionData):
    """Stored data is not signed by any configured secret: tampered with, or another app's."""


class BadPayload(BadSessionData):
    """Stored data is validly signed but its payload cannot be deserialized into a dict."""


class SessionConflict(DBSessionError, TransientError):  # type: ignore[misc]  # transaction is untyped
    """Another request changed or deleted this session since it was read.

    It is a :class:`transaction.interfaces.TransientError`, so pyramid_tm tags
    it retryable and pyramid_retry replays the request.
    """

    def __init__(self, session_key: str) -> None:
        super().__init__(f"session {session_key[:12]}… was changed or deleted by a concurrent request")
        self.session_key = session_key


class SessionTooLarge(DBSessionError):
    """The encoded session is larger than ``dbsession.max_size`` allows."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"session data is {size} bytes encoded, over dbsession.max_size of {limit} bytes")
        self.size = size
        self.limit = limit
