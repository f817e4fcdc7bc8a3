"""Turn session dicts into signed text for ``session_data``, and back.

The stored text is ``base64(payload) "." base64(mac)`` where ``payload`` is the
serializer's bytes and ``mac`` an HMAC-SHA256 over the row's ``session_key`` and
the payload. Binding the key means a row's data cannot be copied into another
row. Nothing is deserialized before its signature is verified, so a pickle
planted in the table never runs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import pickle
import pkgutil
from collections.abc import Callable
from typing import Any, Protocol, cast

from .errors import BadPayload, BadSignature, SettingsError

_KEY_CONTEXT = b"pyramid_dbsession.codec:"


class Serializer(Protocol):
    """What ``dbsession.serializer`` must name: bytes in, bytes out."""

    def dumps(self, obj: Any, /) -> bytes: ...

    def loads(self, data: bytes, /) -> Any: ...


class PickleSerializer:
    """Any pickleable value, as the original sessions promised."""

    def dumps(self, obj: Any) -> bytes:
        return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)

    def loads(self, data: bytes) -> Any:
        return pickle.loads(data)


class JSONSerializer:
    """JSON values only: the Pyramid 2 ``ISession`` contract."""

    def dumps(self, obj: Any) -> bytes:
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

    def loads(self, data: bytes) -> Any:
        return json.loads(data)


_NAMED: dict[str, Callable[[], Serializer]] = {"pickle": PickleSerializer, "json": JSONSerializer}


def resolve_serializer(spec: Any, *, setting: str = "dbsession.serializer") -> Serializer:
    """Return the serializer that ``spec`` names: ``pickle``, ``json``, a dotted name or an object."""
    candidate: Any
    if not isinstance(spec, str):
        candidate = spec
    elif spec.strip().lower() in _NAMED:
        return _NAMED[spec.strip().lower()]()
    else:
        try:
            candidate = pkgutil.resolve_name(spec.strip())
        except (ImportError, AttributeError, ValueError) as exc:
            raise SettingsError(f"{setting} must be 'pickle', 'json' or a dotted name, got {spec!r} ({exc})") from None
    if not (callable(getattr(candidate, "dumps", None)) and callable(getattr(candidate, "loads", None))):
        raise SettingsError(f"{setting} must name an object with dumps() and loads(), got {spec!r}")
    if isinstance(candidate, type):
        try:
            candidate = candidate()
        except TypeError as exc:
            raise SettingsError(f"{setting} names a class that cannot be built without arguments: {exc}") from None
    return cast(Serializer, candidate)


class Codec:
    """Encode and decode session data, signed with the first secret and verified with any."""

    def __init__(self, secrets: tuple[str, ...], serializer: Serializer, fallback: Serializer | None = None) -> None:
        self.serializer = serializer
        #: Reads what ``serializer`` cannot (data stored before a change of serializer).
        self.fallback = fallback
        self._keys = [hashlib.sha256(_KEY_CONTEXT + secret.encode("utf-8")).digest() for secret in secrets]

    def dumps(self, data: dict[str, Any]) -> bytes:
        """Serialize ``data`` to the payload bytes that :meth:`sign` wraps."""
        return self.serializer.dumps(data)

    def sign(self, session_key: str, payload: bytes) -> str:
        """Return the stored text for ``payload`` under ``session_key``."""
        mac = self._mac(self._keys[0], session_key, payload)
        return f"{base64.urlsafe_b64encode(payload).decode('ascii')}.{base64.urlsafe_b64encode(mac).decode('ascii')}"

    def encode(self, session_key: str, data: dict[str, Any]) -> str:
        """Serialize and sign ``data`` in one step."""
        return self.sign(session_key, self.dumps(data))

    def verify(self, session_key: str, text: str) -> bytes:
        """Return the payload of ``text`` if its signature is valid, else raise :class:`BadSignature`."""
        encoded_payload, dot, encoded_mac = text.partition(".")
        if not dot:
            raise BadSignature("data has no signature")
        try:
            payload = base64.urlsafe_b64decode(encoded_payload)
            mac = base64.urlsafe_b64decode(encoded_mac)
        except (binascii.Error, ValueError):
            raise BadSignature("data is not valid base64") from None
        for key in self._keys:
            if hmac.compare_digest(mac, self._mac(key, session_key, payload)):
                return payload
        raise BadSignature("signature does not match any configured secret")

    def loads(self, payload: bytes) -> dict[str, Any]:
        """Deserialize a verified payload; raise :class:`BadPayload` unless it is a dict."""
        try:
            data = self.serializer.loads(payload)
        except Exception as exc:  # a serializer may raise anything on bad bytes
            if self.fallback is None:
                raise BadPayload(f"data cannot be deserialized: {type(exc).__name__}") from None
            try:
                # Signed by us, so as trusted as the current format; rewritten at the next write.
                data = self.fallback.loads(payload)
            except Exception as fallback_exc:
                reason = f"{type(exc).__name__}, and by the fallback serializer: {type(fallback_exc).__name__}"
                raise BadPayload(f"data cannot be deserialized: {reason}") from None
        if not isinstance(data, dict):
            raise BadPayload(f"data is a {type(data).__name__}, not a dict")
        return data

    def decode(self, session_key: str, text: str) -> dict[str, Any]:
        """Verify and deserialize stored text back into the session dict."""
        return self.loads(self.verify(session_key, text))

    def is_old_format(self, session_key: str, text: str) -> bool:
        """Whether ``text`` is validly signed but not readable by the current serializer.

        Such a row is read through the fallback serializer, if any, and moves
        to the current format at its next write. The fallback is not tried:
        telling the formats apart costs one attempt of the current serializer.
        """
        try:
            payload = self.verify(session_key, text)
        except BadSignature:
            return False
        try:
            self.serializer.loads(payload)
        except Exception:  # a serializer may raise anything on bad bytes
            return True
        return False

    @staticmethod
    def _mac(key: bytes, session_key: str, payload: bytes) -> bytes:
        return hmac.digest(key, session_key.encode("utf-8") + b"\0" + payload, "sha256")
