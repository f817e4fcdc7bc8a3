"""``dbsession-initdb``: the table and its indexes, created where missing."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pyramid_dbsession.models import drop_table, sessions_table
from pyramid_dbsession.scripts.initdb import main

from .conftest import SECRET
from .test_cleanup import add_rows, expired, write_ini

INDEXES = {
    "ix_core_sessions_created",
    "ix_core_sessions_data_size",
    "ix_core_sessions_expire_date",
    "ix_core_sessions_principal",
}


@pytest.fixture
def config_uri(tmp_path: Path, settings: dict[str, Any]) -> str:
    return write_ini(tmp_path / "app.ini", settings)


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(argv), stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


def index_names(engine: Engine) -> set[str]:
    # A new engine: SQLite answers PRAGMA index_list from a connection's cached
    # schema, blind to indexes another connection created.
    fresh = sa.create_engine(engine.url)
    try:
        return {str(index["name"]) for index in sa.inspect(fresh).get_indexes(sessions_table.name)}
    finally:
        fresh.dispose()


def test_initdb_creates_the_table_and_its_indexes(engine: Engine, config_uri: str) -> None:
    drop_table(engine)
    status, _, _ = run(config_uri)
    assert (status, index_names(engine)) == (0, INDEXES)


def test_initdb_run_twice_keeps_existing_rows(engine: Engine, config_uri: str) -> None:
    add_rows(engine, expired(2))
    run(config_uri)
    status, _, _ = run(config_uri)
    with engine.connect() as connection:
        count = connection.execute(sa.select(sa.func.count()).select_from(sessions_table)).scalar_one()
    assert (status, count) == (0, 2)


def test_initdb_adds_a_missing_index_to_an_existing_table(engine: Engine, config_uri: str) -> None:
    index = next(index for index in sessions_table.indexes if index.name == "ix_core_sessions_created")
    index.drop(engine)
    run(config_uri)
    assert index_names(engine) == INDEXES


def test_initdb_says_what_is_in_place(config_uri: str) -> None:
    _, out, _ = run(config_uri)
    assert out.startswith("core_sessions and its indexes are in place on ")


def test_initdb_hides_the_database_password(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sessions.sqlite'}"
    ini = write_ini(tmp_path / "app.ini", {"dbsession.url": url, "dbsession.secret": SECRET})
    _, out, _ = run(ini)
    assert url in out


def test_initdb_missing_config_file_exits_2_with_one_line(tmp_path: Path) -> None:
    status, _, err = run(str(tmp_path / "missing.ini"))
    assert (status, err.count("\n"), err.startswith("dbsession-initdb: ")) == (2, 1, True)


def test_initdb_unknown_setting_exits_2_with_a_suggestion(tmp_path: Path) -> None:
    ini = write_ini(tmp_path / "app.ini", {"dbsession.url": "sqlite://", "dbsession.secrett": SECRET})
    status, _, err = run(ini)
    assert (status, "did you mean 'dbsession.secret'?" in err) == (2, True)


def test_initdb_without_a_config_uri_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, _ = run()
    assert (status, "CONFIG_URI" in capsys.readouterr().err) == (2, True)


def test_initdb_unreachable_database_exits_1_with_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'no-such-folder' / 'sessions.sqlite'}"
    status, _, err = run(write_ini(tmp_path / "app.ini", {"dbsession.url": url, "dbsession.secret": SECRET}))
    assert (status, err.count("\n"), "database error" in err) == (1, 1, True)


def test_initdb_with_create_table_and_an_unreachable_database_exits_1_with_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'no-such-folder' / 'sessions.sqlite'}"
    settings = {"dbsession.url": url, "dbsession.secret": SECRET, "dbsession.create_table": "true"}
    status, _, err = run(write_ini(tmp_path / "app.ini", settings))
    assert (status, err.count("\n"), err.startswith("dbsession-initdb: database error")) == (1, 1, True)


def test_initdb_unknown_database_dialect_exits_2_with_one_line(tmp_path: Path) -> None:
    status, _, err = run(write_ini(tmp_path / "app.ini", {"dbsession.url": "nosuch://", "dbsession.secret": SECRET}))
    assert (status, err.count("\n"), err.startswith("dbsession-initdb: ")) == (2, 1, True)
