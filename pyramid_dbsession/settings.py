"""Read and validate the ``dbsession.*`` settings once, at start-up."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Final

from .backoff import DEFAULT_RETRY_JITTER, parse_retry_jitter
from .codec import Serializer, resolve_serializer
from .errors import SettingsError

PREFIX = "dbsession."
ENGINE_PREFIX = PREFIX + "engine."
DEFAULT_TIMEOUT = 1_209_600  # two weeks, as Django
DEFAULT_MAX_SIZE = 1_048_576  #: 1 MiB of encoded data
SAMESITE_VALUES = {"strict": "Strict", "lax": "Lax", "none": "None"}
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


class CookieAge(Enum):
    """Marks ``cookie_max_age`` left to follow each session's expiry."""

    FOLLOW_TIMEOUT = "follow the timeout"


#: The default ``cookie_max_age``: the cookie lives as long as the row.
FOLLOW_TIMEOUT: Final = CookieAge.FOLLOW_TIMEOUT


@dataclass(frozen=True)
class Settings:
    """Validated configuration of one session factory or middleware."""

    secrets: tuple[str, ...]
    url: str | None = None
    engine_options: Mapping[str, Any] = field(default_factory=dict)
    serializer: Serializer = field(default_factory=lambda: resolve_serializer("pickle"))
    cookie_name: str = "session"
    cookie_path: str = "/"
    cookie_domain: str | None = None
    cookie_secure: bool = False
    cookie_httponly: bool = True
    cookie_samesite: str | None = "Lax"
    cookie_max_age: int | CookieAge | None = FOLLOW_TIMEOUT
    timeout: int = DEFAULT_TIMEOUT
    reissue_time: int = DEFAULT_TIMEOUT // 10
    absolute_timeout: int | None = None
    detect_changes: bool = True
    create_table: bool = False
    request_dbsession: str | None = None
    max_size: int = DEFAULT_MAX_SIZE
    retry_jitter: float = DEFAULT_RETRY_JITTER


def _text(key: str, raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise SettingsError(f"{key} must be a non-empty string, got {raw!r}")
    return raw.strip()


def _optional_text(key: str, raw: Any) -> str | None:
    if raw is None or (isinstance(raw, str) and raw.strip().lower() in {"", "none"}):
        return None
    return _text(key, raw)


def _bool(key: str, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    word = str(raw).strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise SettingsError(f"{key} must be true or false (yes/no, on/off, 1/0), got {raw!r}")


def _int(key: str, raw: Any, *, minimum: int) -> int:
    if isinstance(raw, bool):
        raise SettingsError(f"{key} must be whole seconds, got {raw!r}")
    try:
        value = int(raw.strip()) if isinstance(raw, str) else int(raw)
    except (TypeError, ValueError):
        raise SettingsError(f"{key} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{key} must be at least {minimum}, got {value}")
    return value


def _seconds(key: str, raw: Any) -> int:
    return _int(key, raw, minimum=1)


def _optional_seconds(key: str, raw: Any) -> int | None:
    if raw is None or (isinstance(raw, str) and raw.strip().lower() == "none"):
        return None
    return _seconds(key, raw)


def _non_negative(key: str, raw: Any) -> int:
    return _int(key, raw, minimum=0)


def _secrets(key: str, raw: Any) -> tuple[str, ...]:
    words = raw.split() if isinstance(raw, str) else list(raw or ())
    if not words or not all(isinstance(word, str) and word for word in words):
        raise SettingsError(f"{key} is required: one or more secrets separated by whitespace")
    return tuple(words)


def _samesite(key: str, raw: Any) -> str | None:
    if raw is None:
        return None
    value = SAMESITE_VALUES.get(str(raw).strip().lower())
    if value is None:
        raise SettingsError(f"{key} must be 'strict', 'lax' or 'none', got {raw!r}")
    return value


def _serializer(key: str, raw: Any) -> Serializer:
    return resolve_serializer(raw, setting=key)


def _cookie_max_age(key: str, raw: Any) -> int | CookieAge | None:
    if raw is FOLLOW_TIMEOUT:
        return CookieAge.FOLLOW_TIMEOUT
    return _optional_seconds(key, raw)


_PARSERS: dict[str, Callable[[str, Any], Any]] = {
    "secret": _secrets,
    "url": _optional_text,
    "serializer": _serializer,
    "cookie_name": _text,
    "cookie_path": _text,
    "cookie_domain": _optional_text,
    "cookie_secure": _bool,
    "cookie_httponly": _bool,
    "cookie_samesite": _samesite,
    "cookie_max_age": _cookie_max_age,
    "timeout": _seconds,
    "reissue_time": _non_negative,
    "absolute_timeout": _optional_seconds,
    "detect_changes": _bool,
    "create_table": _bool,
    "request_dbsession": _optional_text,
    "max_size": _seconds,
    "retry_jitter": parse_retry_jitter,
}
#: Every ``dbsession.*`` key this package reads (besides ``dbsession.engine.*``).
SETTING_NAMES = tuple(PREFIX + name for name in _PARSERS)


def _check_known(keys: list[str]) -> None:
    for key in keys:
        if key.startswith(ENGINE_PREFIX) or key in SETTING_NAMES:
            continue
        close = difflib.get_close_matches(key, SETTING_NAMES, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise SettingsError(f"unknown setting {key!r}{hint}")


def parse_settings(settings: Mapping[str, Any], *, require_url: bool = True) -> Settings:
    """Validate the ``dbsession.*`` keys of ``settings`` into :class:`Settings`.

    ``dbsession.url`` falls back to ``sqlalchemy.url`` (with that engine's
    ``sqlalchemy.*`` options); ``dbsession.engine.*`` keys are engine options.
    Raises :class:`SettingsError` naming the key and the value at fault.
    """
    ours = [key for key in settings if key.startswith(PREFIX)]
    _check_known(ours)
    values: dict[str, Any] = {}
    for key in ours:
        if key.startswith(ENGINE_PREFIX):
            continue
        name = key[len(PREFIX) :]
        values[name] = _PARSERS[name](key, settings[key])
    if "secret" not in values:
        raise SettingsError(f"{PREFIX}secret is required: one or more secrets separated by whitespace")
    values["secrets"] = values.pop("secret")
    engine_prefix = ENGINE_PREFIX
    if values.get("url") is None and settings.get("sqlalchemy.url"):
        values["url"] = _text("sqlalchemy.url", settings["sqlalchemy.url"])
        engine_prefix = "sqlalchemy."
    if require_url and values.get("url") is None:
        raise SettingsError("dbsession.url or sqlalchemy.url is required: the database that holds the sessions")
    values["engine_options"] = {
        key[len(engine_prefix) :]: value
        for key, value in settings.items()
        if key.startswith(engine_prefix) and key != "sqlalchemy.url"
    }
    if "reissue_time" not in values:
        values["reissue_time"] = values.get("timeout", DEFAULT_TIMEOUT) // 10
    return Settings(**values)


def settings_from_options(url: str | None, secret: Any, options: Mapping[str, Any]) -> Settings:
    """Validate keyword options (setting names without the prefix) as :func:`parse_settings` does."""
    raw = {PREFIX + name: value for name, value in options.items()}
    raw[PREFIX + "secret"] = secret
    if url is not None:
        raw[PREFIX + "url"] = url
    return parse_settings(raw, require_url=False)
