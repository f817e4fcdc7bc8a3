"""What the store does with a session's principal and client: the statements, the lock, the checks."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ..errors import DBSessionError
from .models import IP_ADDRESS_LENGTH, PRINCIPAL_LENGTH, USER_AGENT_LENGTH, sessions_table

_t = sessions_table

_LIVE_OF_PRINCIPAL = (_t.c.principal == sa.bindparam("principal"), _t.c.expire_date > sa.bindparam("now"))
SESSIONS_OF = sa.select(_t).where(*_LIVE_OF_PRINCIPAL).order_by(_t.c.created.desc(), _t.c.session_key.desc())
# Newest first: the rows past the limit are the oldest. FOR UPDATE waits for a
# concurrent login's uncommitted row on MariaDB; PostgreSQL takes a lock first.
LIMITED = (
    sa.select(_t.c.session_key)
    .where(*_LIVE_OF_PRINCIPAL, _t.c.session_key != sa.bindparam("keep"))
    .order_by(_t.c.created.desc(), _t.c.session_key.desc())
    .with_for_update()
)
END_OTHERS = _t.delete().where(_t.c.principal == sa.bindparam("principal"), _t.c.session_key != sa.bindparam("keep"))
END_ALL = _t.delete().where(_t.c.principal == sa.bindparam("principal"))
DELETE_KEYS = _t.delete().where(_t.c.session_key.in_(sa.bindparam("keys", expanding=True)))
#: Serialises one principal's logins on PostgreSQL until the transaction ends, where rows alone cannot.
PG_LOCK = sa.text("SELECT pg_advisory_xact_lock(:lock)")


@dataclass(frozen=True)
class ClientInfo:
    """The browser's User-Agent and address, recorded when a row's id is issued (``dbsession.client_info``)."""

    user_agent: str | None
    ip_address: str | None

    @classmethod
    def from_environ(cls, environ: dict[str, Any]) -> ClientInfo:
        """Take the client's details from a WSGI environ, cut to the columns' lengths."""
        user_agent = environ.get("HTTP_USER_AGENT")
        ip_address = environ.get("REMOTE_ADDR")
        return cls(
            user_agent[:USER_AGENT_LENGTH] if user_agent else None,
            ip_address[:IP_ADDRESS_LENGTH] if ip_address else None,
        )


#: A row stored with no client details.
NO_CLIENT = ClientInfo(None, None)


def principal_lock(principal: str) -> int:
    """A PostgreSQL advisory lock number for a principal (a signed 64-bit integer)."""
    digest = hashlib.sha256(b"pyramid_dbsession principal " + principal.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def checked_principal(principal: str | None) -> str | None:
    """Return ``principal``, refusing one longer than its column."""
    if principal is not None and len(principal) > PRINCIPAL_LENGTH:
        raise DBSessionError(f"a principal is at most {PRINCIPAL_LENGTH} characters, got {len(principal)}")
    return principal
