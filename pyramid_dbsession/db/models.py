"""The ``core_sessions`` table and :class:`SessionRecord`, its mapped row."""

from __future__ import annotations

import weakref
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ..errors import BadPayload, BadSignature, DBSessionError

if TYPE_CHECKING:
    from ..codec import Codec

TABLE_NAME = "core_sessions"
#: The longest principal stored (``str()`` of the principal key's value).
PRINCIPAL_LENGTH = 255
USER_AGENT_LENGTH = 255
#: An IPv6 address in its longest text form, with an embedded IPv4 address.
IP_ADDRESS_LENGTH = 45


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes, stored naive in UTC on every backend."""

    impl = sa.DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name in {"mysql", "mariadb"}:
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(sa.DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"{TABLE_NAME} stores aware datetimes only, got {value!r}")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class PrincipalText(sa.types.TypeDecorator[str]):
    """Text compared byte for byte on every backend, so one user's name never matches another's.

    MySQL and MariaDB compare text case- and accent-insensitively, and
    ignoring trailing spaces, under their default collations: there the
    column gets a binary, no-pad collation.
    """

    impl = sa.String(PRINCIPAL_LENGTH)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name in {"mysql", "mariadb"}:
            return dialect.type_descriptor(mysql.VARCHAR(PRINCIPAL_LENGTH, collation=binary_collation(dialect)))
        return dialect.type_descriptor(sa.String(PRINCIPAL_LENGTH))


def binary_collation(dialect: Dialect) -> str:
    """The utf8mb4 collation of MySQL or MariaDB that compares bytes and keeps trailing spaces."""
    return "utf8mb4_nopad_bin" if getattr(dialect, "is_mariadb", False) else "utf8mb4_0900_bin"


_LONG_TEXT = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")


class Base(DeclarativeBase):
    """Declarative base owning :data:`metadata`, for Alembic and ``create_all``."""


class SessionRecord(Base):
    """One stored session: ``session_data`` is signed text, decode it with :meth:`get_decoded`."""

    __tablename__ = TABLE_NAME
    __allow_unmapped__ = True  # for ``_codec``, a plain attribute
    __table_args__ = (
        sa.Index("ix_core_sessions_expire_date", "expire_date", "session_key"),
        sa.Index("ix_core_sessions_created", "created", "session_key"),
        sa.Index("ix_core_sessions_data_size", "data_size", "session_key"),
        sa.Index("ix_core_sessions_principal", "principal", "expire_date", "session_key"),
    )

    #: SHA-256 hex digest of the cookie's session id.
    session_key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    #: The serializer's bytes and their HMAC, as text (see :mod:`pyramid_dbsession.codec`).
    session_data: Mapped[str] = mapped_column(_LONG_TEXT)
    expire_date: Mapped[datetime] = mapped_column(UTCDateTime())
    created: Mapped[datetime] = mapped_column(UTCDateTime())
    #: Length of ``session_data`` in bytes, so size can be sorted without reading it.
    data_size: Mapped[int] = mapped_column(sa.Integer)
    #: Bumped by every data write: the optimistic check against lost updates.
    version: Mapped[int] = mapped_column(sa.Integer, default=1)
    #: ``str()`` of the session's ``dbsession.principal_key`` value when it was last written, or None.
    principal: Mapped[str | None] = mapped_column(PrincipalText(), nullable=True)
    #: When the row was last written (stored, rewritten or touched); None on rows older than the column.
    last_seen: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: The browser's User-Agent (cut to 255 characters) when the row's id was issued, with ``dbsession.client_info``.
    user_agent: Mapped[str | None] = mapped_column(sa.String(USER_AGENT_LENGTH), nullable=True)
    #: The client's address (``REMOTE_ADDR``) when the row's id was issued, with ``dbsession.client_info``.
    ip_address: Mapped[str | None] = mapped_column(sa.String(IP_ADDRESS_LENGTH), nullable=True)

    #: Set on records handed out by :class:`~pyramid_dbsession.db.store.SessionStore`.
    _codec: Codec | None = None

    def get_decoded(self) -> dict[str, Any]:
        """Return the session dict, verifying its signature first.

        A record from ``store.get()`` decodes with that store's secrets. One
        loaded through the ORM (pshell, an admin script) decodes with the
        store, among those open in this process, whose secret verifies it.
        Raises :class:`~pyramid_dbsession.errors.BadSessionData` when the
        data was tampered with or no open store's secret signed it.
        """
        if self._codec is not None:
            return self._codec.decode(self.session_key, self.session_data)
        codecs = list(_codecs)
        if not codecs:
            raise DBSessionError("no session store is open in this process: decode the row with store.decode(record)")
        undecodable: BadPayload | None = None
        for codec in codecs:
            try:
                return codec.decode(self.session_key, self.session_data)
            except BadSignature:
                continue
            except BadPayload as exc:  # the right secret, but another app's serializer
                undecodable = exc
        if undecodable is not None:
            raise undecodable
        raise BadSignature(
            "signature does not match the secrets of any session store open in this process: "
            "decode the row with the right store's store.decode(record)"
        )

    def __repr__(self) -> str:
        return f"<SessionRecord {self.session_key[:12]}… expires {self.expire_date:%Y-%m-%d %H:%M:%S}>"


metadata = Base.metadata
sessions_table: sa.Table = SessionRecord.__table__  # type: ignore[assignment]

#: The codecs of the stores open in this process, for records loaded through the ORM.
_codecs: weakref.WeakSet[Codec] = weakref.WeakSet()


def register_codec(codec: Codec) -> None:
    """Let :meth:`SessionRecord.get_decoded` try ``codec`` on records loaded outside a store, while it lives."""
    _codecs.add(codec)


def create_table(bind: Engine | Connection) -> None:
    """Create ``core_sessions`` and its indexes unless they exist."""
    metadata.create_all(bind, tables=[sessions_table], checkfirst=True)


def drop_table(bind: Engine | Connection) -> None:
    """Drop ``core_sessions`` if it exists."""
    metadata.drop_all(bind, tables=[sessions_table], checkfirst=True)
