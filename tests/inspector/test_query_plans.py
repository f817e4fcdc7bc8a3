"""A user's sessions (``@42``, the log-out count, ``sessions_of``) are read through ``ix_core_sessions_principal``."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from inspector.rows import Filter, Query, Sort
from inspector.source import SessionSource
from pyramid_dbsession.codec import Codec, resolve_serializer
from pyramid_dbsession.db.store import SessionStore
from pyramid_dbsession.models import sessions_table

from ..conftest import SECRET, Clock
from ..test_query_plans import planned_statements

INDEX = "ix_core_sessions_principal"
USERS = 400
#: The user whose sessions are asked for: one of :data:`USERS`, with five sessions among 3,000.
USER = "user-7"


@pytest.fixture
def store(engine: Engine, clock: Clock) -> SessionStore:
    """A store on the backend's own engine, whose statements :func:`planned_statements` sees."""
    return SessionStore(engine, Codec((SECRET,), resolve_serializer("json")), clock=clock)


@pytest.fixture
def many_users(engine: Engine, clock: Clock) -> Engine:
    """3,000 sessions: two in three belong to one of 400 users, half of them expired; the others to nobody."""
    rows = []
    for n in range(3000):
        rows.append(
            {
                "session_key": hashlib.sha256(b"plan-%d" % n).hexdigest(),
                "session_data": "x",
                "expire_date": clock.now + timedelta(minutes=n - 1500),
                "created": clock.now - timedelta(minutes=n),
                "data_size": n % 97,
                "version": 1,
                "principal": None if n % 3 == 2 else f"user-{n % USERS}",
            }
        )
    with engine.begin() as connection:
        connection.execute(sessions_table.insert(), rows)
        if engine.dialect.name in {"mysql", "mariadb"}:
            # Statistics left from the emptied table would make any scan look cheap.
            connection.exec_driver_sql("ANALYZE TABLE core_sessions").all()
    return engine


def principal_plans(engine: Engine, act: Callable[[], object]) -> dict[str, bool]:
    """Whether each statement ``act`` sends that filters on the principal uses the principal index."""
    plans = planned_statements(engine, act, INDEX)
    return {statement: indexed for statement, indexed in plans.items() if "core_sessions.principal =" in statement}


def browse_a_user(source: SessionSource, query: Query) -> None:
    """What the inspector does for ``@user-7``: the first page, the totals, the next page and back."""
    first = source.page(query)
    source.totals(query)
    second = source.page(query, first.rows[-1].position)
    source.page(query, second.start, inclusive=True)
    source.page_before(query, second.rows[0].position)


@pytest.mark.parametrize("sort", list(Sort))
@pytest.mark.parametrize("expiry", [Filter.ALL, Filter.LIVE])
def test_a_users_pages_and_totals_use_the_principal_index(
    many_users: Engine, store: SessionStore, sort: Sort, expiry: Filter
) -> None:
    source = SessionSource(store, page_size=1)
    plans = principal_plans(many_users, lambda: browse_a_user(source, Query(sort, expiry, principal=USER)))
    assert (len(plans), all(plans.values())) == (6, True), plans


def test_counting_a_users_sessions_uses_the_principal_index(many_users: Engine, store: SessionStore) -> None:
    plans = principal_plans(many_users, lambda: SessionSource(store).count_of(USER))
    assert list(plans.values()) == [True], plans


def test_sessions_of_uses_the_principal_index(many_users: Engine, store: SessionStore) -> None:
    plans = principal_plans(many_users, lambda: store.sessions_of(USER))
    assert list(plans.values()) == [True], plans
