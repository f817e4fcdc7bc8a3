"""Read and validate the ``dbsession.*`` settings once, at start-up."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Final, Literal

from .backoff import DEFAULT_RETRY_JITTER, parse_retry_jitter
from .codec import Serializer, resolve_serializer
from .errors import SettingsError

PREFIX = "dbsession."
ENGINE_PREFIX = PREFIX + "engine."
#: Engine options ``connect_args.NAME = VALUE`` are gathered into the ``connect_args`` dict.
CONNECT_ARGS = "connect_args"
DEFAULT_TIMEOUT = 1_209_600  # two weeks, as Django
DEFAULT_MAX_SIZE = 1_048_576  #: 1 MiB of encoded data
#: The shortest secret accepted: ``secrets.token_urlsafe(24)`` is 32 characters.
MIN_SECRET_LENGTH = 32
_SECRET_RULE = f"one secret of at least {MIN_SECRET_LENGTH} characters per line, the first signs, all verify"
SAMESITE_VALUES = {"strict": "Strict", "lax": "Lax", "none": "None"}
#: The key Pyramid's ``SessionAuthenticationHelper`` stores the user id under, with its default prefix.
DEFAULT_PRINCIPAL_KEY = "auth.userid"
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")


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
    fallback_serializer: Serializer | None = None
    cookie_name: str = "session"
    cookie_path: str = "/"
    cookie_domain: str | None = None
    #: True, False, or ``"auto"``: Secure on requests made over https.
    cookie_secure: bool | Literal["auto"] = "auto"
    cookie_httponly: bool = True
    cookie_samesite: str | None = "Lax"
    cookie_max_age: int | CookieAge | None = FOLLOW_TIMEOUT
    timeout: int = DEFAULT_TIMEOUT
    reissue_time: int = DEFAULT_TIMEOUT // 10
    absolute_timeout: int | None = None
    #: How long a new session's first row lives until a later request shows its cookie came back.
    unconfirmed_timeout: int | None = 3600
    detect_changes: bool = True
    create_table: bool = False
    request_dbsession: str | None = None
    max_size: int = DEFAULT_MAX_SIZE
    retry_jitter: float = DEFAULT_RETRY_JITTER
    #: The session key naming the session's user; None turns the principal column off.
    principal_key: str | None = DEFAULT_PRINCIPAL_KEY
    rotate_on_principal_change: bool = True
    #: Whether rows record the browser's User-Agent and address (personal data).
    client_info: bool = False
    max_sessions_per_principal: int | None = None
    #: Whether a write that lost its version check to a write of other keys is merged instead of replayed.
    merge_conflicts: bool = True
    #: Put a SQLite file database in WAL mode with ``synchronous = NORMAL``.
    sqlite_wal: bool = True
    #: False: each session write transaction on PostgreSQL runs ``SET LOCAL synchronous_commit = off``.
    synchronous_commit: bool = True


def _text(key: str, raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise SettingsError(f"{key} must be a non-empty string, got {raw!r}")
    return raw.strip()


def _optional_text(key: str, raw: Any) -> str | None:
    if raw is None or (isinstance(raw, str) and raw.strip().lower() in {"", "none"}):
        return None
    return _text(key, raw)


def _secure(key: str, raw: Any) -> bool | Literal["auto"]:
    if isinstance(raw, str) and raw.strip().lower() == "auto":
        return "auto"
    try:
        return _bool(key, raw)
    except SettingsError:
        raise SettingsError(f"{key} must be true or false (yes/no, on/off, 1/0) or auto, got {raw!r}") from None


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
        raise SettingsError(f"{key} must be a whole number, got {raw!r}")
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


def _optional_count(key: str, raw: Any) -> int | None:
    if raw is None or (isinstance(raw, str) and raw.strip().lower() == "none"):
        return None
    return _int(key, raw, minimum=1)


def _secrets(key: str, raw: Any) -> tuple[str, ...]:
    # One secret per line, so that a passphrase with spaces stays one secret;
    # "line N" counts the secrets, as blank lines are skipped.
    if isinstance(raw, str):
        where, secrets = "line", [line.strip() for line in raw.splitlines() if line.strip()]
    elif isinstance(raw, list | tuple) or raw is None:
        where, secrets = "item", list(raw or ())
    else:
        raise SettingsError(f"{key} must be one secret per line or a list of secrets, got {type(raw).__name__}")
    if not secrets:
        raise SettingsError(f"{key} is required: {_SECRET_RULE}")
    for number, secret in enumerate(secrets, start=1):
        # Never echo a secret: say which one is wrong and why, not what it is.
        if not isinstance(secret, str):
            raise SettingsError(f"{key} {where} {number} must be a string, got {type(secret).__name__}")
        if len(secret) < MIN_SECRET_LENGTH:
            raise SettingsError(
                f"{key} {where} {number} must be at least {MIN_SECRET_LENGTH} characters, got {len(secret)}"
            )
    return tuple(secrets)


def _samesite(key: str, raw: Any) -> str | None:
    if raw is None:
        return None
    value = SAMESITE_VALUES.get(str(raw).strip().lower())
    if value is None:
        raise SettingsError(f"{key} must be 'strict', 'lax' or 'none', got {raw!r}")
    return value


def _serializer(key: str, raw: Any) -> Serializer:
    return resolve_serializer(raw, setting=key)


def _optional_serializer(key: str, raw: Any) -> Serializer | None:
    if raw is None or (isinstance(raw, str) and raw.strip().lower() in {"", "none"}):
        return None
    return _serializer(key, raw)


def _cookie_max_age(key: str, raw: Any) -> int | CookieAge | None:
    if raw is FOLLOW_TIMEOUT:
        return CookieAge.FOLLOW_TIMEOUT
    return _optional_seconds(key, raw)


_PARSERS: dict[str, Callable[[str, Any], Any]] = {
    "secret": _secrets,
    "url": _optional_text,
    "serializer": _serializer,
    "fallback_serializer": _optional_serializer,
    "cookie_name": _text,
    "cookie_path": _text,
    "cookie_domain": _optional_text,
    "cookie_secure": _secure,
    "cookie_httponly": _bool,
    "cookie_samesite": _samesite,
    "cookie_max_age": _cookie_max_age,
    "timeout": _seconds,
    "reissue_time": _non_negative,
    "absolute_timeout": _optional_seconds,
    "unconfirmed_timeout": _optional_seconds,
    "detect_changes": _bool,
    "create_table": _bool,
    "request_dbsession": _optional_text,
    "max_size": _seconds,
    "retry_jitter": parse_retry_jitter,
    "principal_key": _optional_text,
    "rotate_on_principal_change": _bool,
    "client_info": _bool,
    "max_sessions_per_principal": _optional_count,
    "merge_conflicts": _bool,
    "sqlite_wal": _bool,
    "synchronous_commit": _bool,
}
#: Every ``dbsession.*`` key this package reads (besides ``dbsession.engine.*``).
SETTING_NAMES = tuple(PREFIX + name for name in _PARSERS)


def _connect_arg(raw: Any) -> Any:
    """One DBAPI ``connect()`` argument: ``none``, whole numbers and true/false are converted."""
    if not isinstance(raw, str):
        return raw  # given from Python: already the value meant
    word = raw.strip()
    if word.lower() == "none":
        return None
    if word.lower() in {"true", "false"}:
        return word.lower() == "true"
    if _WHOLE_NUMBER.fullmatch(word):
        return int(word)
    return word


def _engine_options(settings: Mapping[str, Any], prefixes: tuple[str, ...]) -> dict[str, Any]:
    """The engine options under ``prefixes``, a later prefix winning.

    ``connect_args.NAME`` keys are gathered into the ``connect_args`` dict,
    over the entries of a ``connect_args`` dict given from Python.
    """
    options: dict[str, Any] = {}
    connect_args: dict[str, Any] = {}
    for prefix in prefixes:
        given: Mapping[str, Any] = {}
        named: dict[str, Any] = {}
        for key, value in settings.items():
            if not key.startswith(prefix) or key == "sqlalchemy.url":
                continue
            name = key[len(prefix) :]
            if name.startswith(CONNECT_ARGS + "."):
                argument = name[len(CONNECT_ARGS) + 1 :]
                if not argument:
                    raise SettingsError(f"{key} must name a connect() argument, as {key}NAME = VALUE")
                named[argument] = _connect_arg(value)
            elif name == CONNECT_ARGS:
                # An .ini value is one string, which SQLAlchemy would fail to read as a dict.
                # Not echoed: it may hold a password.
                if not isinstance(value, Mapping):
                    raise SettingsError(
                        f"{key} must be given one argument per setting, as {key}.NAME = VALUE"
                        f" (e.g. {key}.prepare_threshold = none), got a {type(value).__name__}"
                    )
                given = value
            else:
                options[name] = value
        connect_args.update(given)
        connect_args.update(named)
    if connect_args:
        options[CONNECT_ARGS] = connect_args
    return options


def _check_known(keys: list[str]) -> None:
    for key in keys:
        if key.startswith(ENGINE_PREFIX) or key in SETTING_NAMES:
            continue
        close = difflib.get_close_matches(key, SETTING_NAMES, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise SettingsError(f"unknown setting {key!r}{hint}")


def _sends_secure(cookie_secure: bool | Literal["auto"]) -> bool:
    """Whether every cookie a browser keeps carries ``Secure``.

    The ``__Host-`` and ``__Secure-`` prefixes and ``SameSite=None`` need it.
    """
    # The one place that decides it, for every rule that needs Secure.
    # ``auto`` sends it on https; over http a browser refuses such cookies anyway.
    return cookie_secure is True or cookie_secure == "auto"


def _check_cookie(settings: Settings) -> None:
    """Refuse cookie attributes that browsers would reject together (RFC 6265bis)."""
    # Browsers match the prefixes case-insensitively: so do we.
    name = settings.cookie_name.lower()
    host_only = name.startswith("__host-")
    subject = f"{PREFIX}cookie_name {settings.cookie_name!r}"
    if (host_only or name.startswith("__secure-")) and not _sends_secure(settings.cookie_secure):
        raise SettingsError(f"{subject} requires {PREFIX}cookie_secure = true, got {settings.cookie_secure!r}")
    if host_only and settings.cookie_path != "/":
        raise SettingsError(f"{subject} requires {PREFIX}cookie_path = /, got {settings.cookie_path!r}")
    if host_only and settings.cookie_domain is not None:
        raise SettingsError(f"{subject} requires no {PREFIX}cookie_domain, got {settings.cookie_domain!r}")
    if settings.cookie_samesite == "None" and not _sends_secure(settings.cookie_secure):
        raise SettingsError(
            f"{PREFIX}cookie_samesite = none requires {PREFIX}cookie_secure = true (browsers drop SameSite=None"
            f" cookies without Secure), got {settings.cookie_secure!r}"
        )


def _check_synchronous_commit(settings: Settings) -> None:
    """Refuse relaxed commits in a transaction that also holds the app's rows."""
    if not settings.synchronous_commit and settings.request_dbsession is not None:
        raise SettingsError(
            f"{PREFIX}synchronous_commit = off cannot be used with {PREFIX}request_dbsession: the transaction"
            f" it relaxes holds the app's rows too, got request_dbsession {settings.request_dbsession!r}"
        )


def parse_settings(settings: Mapping[str, Any], *, require_url: bool = True) -> Settings:
    """Validate the ``dbsession.*`` keys of ``settings`` into :class:`Settings`.

    ``dbsession.url`` falls back to ``sqlalchemy.url`` (with that engine's
    ``sqlalchemy.*`` options); ``dbsession.engine.*`` keys are engine options
    (over those), ``dbsession.engine.connect_args.NAME`` keys (and, with the
    fallback, ``sqlalchemy.connect_args.NAME``) entries of their ``connect_args``.
    Raises :class:`SettingsError` naming the key and the value at fault, also
    for cookie attributes that browsers would refuse together and for
    ``synchronous_commit = off`` with ``request_dbsession``.
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
        raise SettingsError(f"{PREFIX}secret is required: {_SECRET_RULE}")
    values["secrets"] = values.pop("secret")
    engine_prefixes: tuple[str, ...] = (ENGINE_PREFIX,)
    if values.get("url") is None and settings.get("sqlalchemy.url"):
        values["url"] = _text("sqlalchemy.url", settings["sqlalchemy.url"])
        # The app's options, then ours over them: the one way to set something for the
        # session pools alone, such as connect_args that the app's engine_from_config refuses.
        engine_prefixes = ("sqlalchemy.", ENGINE_PREFIX)
    if require_url and values.get("url") is None:
        raise SettingsError("dbsession.url or sqlalchemy.url is required: the database that holds the sessions")
    values["engine_options"] = _engine_options(settings, engine_prefixes)
    if "reissue_time" not in values:
        values["reissue_time"] = values.get("timeout", DEFAULT_TIMEOUT) // 10
    parsed = Settings(**values)
    _check_cookie(parsed)
    _check_synchronous_commit(parsed)
    return parsed


def settings_from_options(url: str | None, secret: Any, options: Mapping[str, Any]) -> Settings:
    """Validate keyword options (setting names without the prefix) as :func:`parse_settings` does."""
    raw = {PREFIX + name: value for name, value in options.items()}
    raw[PREFIX + "secret"] = secret
    if url is not None:
        raw[PREFIX + "url"] = url
    return parse_settings(raw, require_url=False)
