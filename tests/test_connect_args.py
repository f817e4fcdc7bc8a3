"""``dbsession.engine.connect_args.NAME`` settings reach the DBAPI connection."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from pyramid_dbsession import SessionStore, get_store

from .conftest import SECRET, backend_url
from .sessionapp import make_app


@pytest.fixture(scope="module")
def postgresql_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The PostgreSQL server's URL; CI fails where it is missing, elsewhere the test is skipped."""
    url = backend_url("postgresql", tmp_path_factory)
    engine = sa.create_engine(url)
    try:
        engine.connect().close()
    except sa.exc.OperationalError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"postgresql is not reachable here: {exc.orig}")
    finally:
        engine.dispose()
    return url


@pytest.fixture
def store(postgresql_url: str) -> Iterator[SessionStore]:
    """The store of an app whose psycopg connections never prepare statements, as behind pgbouncer."""
    app = make_app(
        {
            "dbsession.url": postgresql_url,
            "dbsession.secret": SECRET,
            "dbsession.engine.connect_args.prepare_threshold": "none",
        }
    )
    store = get_store(app.registry)
    yield store
    store.dispose()


def test_connect_args_prepare_threshold_none_reaches_the_psycopg_connection(store):
    connection = store.engine.raw_connection()
    try:
        assert connection.dbapi_connection.prepare_threshold is None
    finally:
        connection.close()
