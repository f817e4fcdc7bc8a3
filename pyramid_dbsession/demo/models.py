"""The demo's own tables, ``comments`` and ``users``, and its transaction-joined dbsession.

They live in the sessions' database and are written through the same
SQLAlchemy session as ``core_sessions``, so a comment and the session that
remembers it commit together or not at all.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
import transaction
import zope.sqlalchemy
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker
from sqlalchemy.orm import Session as ORMSession

from .passwords import hash_password

#: The user created at start-up, named on the login page.
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-password"


def _utcnow() -> datetime:
    # Stored naive, in UTC, the same way on every backend.
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    """Declarative base of the demo's tables (not of ``core_sessions``)."""


class User(Base):
    """Someone who can log in; only a salted hash of the password is kept."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))


class Comment(Base):
    """A comment left on the comments page, at most one per session."""

    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = mapped_column(sa.Text)
    author: Mapped[str | None] = mapped_column(sa.String(64))
    created: Mapped[datetime] = mapped_column(sa.DateTime, default=_utcnow)


def setup_database(engine: Engine) -> None:
    """Create the demo's tables unless they exist, and the demo user unless it exists."""
    Base.metadata.create_all(engine, checkfirst=True)
    with ORMSession(engine) as dbsession, dbsession.begin():
        exists = dbsession.scalar(sa.select(User.id).where(User.username == DEMO_USERNAME))
        if exists is None:
            dbsession.add(User(username=DEMO_USERNAME, password_hash=hash_password(DEMO_PASSWORD)))


def get_session_factory(engine: Engine) -> sessionmaker[ORMSession]:
    """Return the factory of the demo's SQLAlchemy sessions."""
    return sessionmaker(engine)


def get_tm_session(session_factory: sessionmaker[ORMSession], tm: transaction.TransactionManager) -> ORMSession:
    """Return a SQLAlchemy session joined to the transaction manager ``tm``.

    The Pyramid starter's way: pyramid_tm commits or aborts it with the request.
    """
    dbsession = session_factory()
    zope.sqlalchemy.register(dbsession, transaction_manager=tm)
    return dbsession
