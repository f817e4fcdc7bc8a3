"""Start-up checks of the table: a clear error for an outdated one, which `dbsession-initdb` brings up to date."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pyramid_dbsession import get_store
from pyramid_dbsession.db.schema import OutdatedTable
from pyramid_dbsession.models import create_table, drop_table, sessions_table

from .sessionapp import make_app
from .test_cleanup import write_ini
from .test_initdb import INDEXES, index_names, run

FIRST_COLUMNS = ["session_key", "session_data", "expire_date", "created", "data_size", "version"]


@pytest.fixture
def config_uri(tmp_path: Path, settings: dict[str, Any]) -> str:
    return write_ini(tmp_path / "app.ini", settings)


@pytest.fixture
def old_table(engine: Engine) -> Iterator[Engine]:
    """``core_sessions`` as its first revision made it, holding one row; the current table again afterwards."""
    drop_table(engine)
    old = sa.Table(
        sessions_table.name,
        sa.MetaData(),
        *(sa.Column(name, sessions_table.c[name].type, primary_key=name == "session_key") for name in FIRST_COLUMNS),
    )
    old.create(engine)
    with engine.begin() as connection:
        now = sa.func.current_timestamp()
        row = {"session_key": "k" * 64, "session_data": "x", "data_size": 1, "version": 1}
        connection.execute(old.insert().values(created=now, expire_date=now, **row))
    yield engine
    drop_table(engine)
    create_table(engine)


def test_an_app_refuses_to_start_on_an_outdated_table_naming_the_command(old_table: Engine, settings: dict[str, Any]):
    missing = "lacks the columns principal, last_seen, user_agent, ip_address: run `dbsession-initdb"
    with pytest.raises(OutdatedTable, match=missing):
        make_app(settings)


def test_initdb_adds_the_missing_columns_and_index_and_keeps_the_rows(old_table: Engine, config_uri: str):
    status, _, err = run(config_uri)
    columns = {column["name"] for column in sa.inspect(old_table).get_columns(sessions_table.name)}
    with old_table.connect() as connection:
        keys = connection.execute(sa.select(sessions_table.c.session_key, sessions_table.c.principal)).all()
    assert (status, err, columns, index_names(old_table)) == (0, "", set(sessions_table.c.keys()), INDEXES)
    assert keys == [("k" * 64, None)]


def test_the_app_starts_once_initdb_ran(old_table: Engine, config_uri: str, settings: dict[str, Any]):
    run(config_uri)
    app = make_app(settings)
    get_store(app.registry).dispose()


def test_the_start_up_check_leaves_no_connection_for_forked_workers_to_share(engine: Engine, settings: dict[str, Any]):
    app = make_app(settings)
    store = get_store(app.registry)
    try:
        assert store.engine.pool.checkedin() == 0
    finally:
        store.dispose()
