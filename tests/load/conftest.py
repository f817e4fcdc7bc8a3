"""The private PostgreSQL cluster and the ``--load-long`` and ``--load-no-merge`` options.

The options are read from this directory's conftest, so pass the directory on
the command line for the long run: ``pytest tests/load --load-long``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pyramid_dbsession.models import create_table, sessions_table

from .cluster import ClusterUnavailable, PrivateCluster


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--load-long",
        action="store_true",
        default=False,
        help="run the load tests for minutes with more clients, instead of seconds",
    )
    parser.addoption(
        "--load-no-merge",
        action="store_true",
        default=False,
        help="serve the load with dbsession.merge_conflicts = false: every conflict is replayed",
    )


@pytest.fixture(scope="session")
def private_cluster() -> Iterator[PrivateCluster]:
    """A PostgreSQL server of our own, which tests may stop and start; CI fails where it cannot run."""
    try:
        cluster = PrivateCluster.create()
    except ClusterUnavailable as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no private PostgreSQL cluster here: {exc}")
    try:
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture
def load_engine(private_cluster: PrivateCluster) -> Iterator[Engine]:
    """An engine on the private cluster, with ``core_sessions`` empty."""
    engine = sa.create_engine(private_cluster.url, pool_pre_ping=True)
    create_table(engine)
    with engine.begin() as connection:
        connection.execute(sessions_table.delete())
    yield engine
    engine.dispose()
