"""Salted scrypt password hashes, from the standard library."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets

_SCHEME = "scrypt"
# scrypt's interactive-login cost: 16 MiB of memory per check.
_N, _R, _P = 2**14, 8, 1
_KEY_LENGTH = 32


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=_KEY_LENGTH)


def hash_password(password: str) -> str:
    """Return ``scrypt$n$r$p$salt$key`` for ``password``, with a fresh random salt."""
    salt = secrets.token_bytes(16)
    key = _derive(password, salt, _N, _R, _P)
    return f"{_SCHEME}${_N}${_R}${_P}${salt.hex()}${key.hex()}"


@functools.cache
def _dummy_hash() -> str:
    # The hash of a password nobody knows, made once, at the cost of a real one.
    return hash_password(secrets.token_urlsafe(32))


def _matches(password: str, stored: str) -> bool:
    scheme, n, r, p, salt, key = stored.split("$")
    if scheme != _SCHEME:
        return False
    return hmac.compare_digest(_derive(password, bytes.fromhex(salt), int(n), int(r), int(p)), bytes.fromhex(key))


def check_password(password: str, stored: str | None) -> bool:
    """Tell whether ``password`` matches a hash made by :func:`hash_password`.

    With no hash (a login for a user who does not exist) a dummy hash is
    checked and the answer is False: a login takes as long for an unknown
    user as for a wrong password, so its timing does not tell which
    usernames exist.
    """
    if stored is None:
        _matches(password, _dummy_hash())
        return False
    return _matches(password, stored)
