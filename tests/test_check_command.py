"""``dbsession-check`` end to end, on every backend: the findings a database and an .ini give, and the exit codes."""

from __future__ import annotations

import io
import secrets
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy.engine import Engine

from pyramid_dbsession.codec import Codec, JSONSerializer, PickleSerializer
from pyramid_dbsession.db.store import SessionStore, utcnow
from pyramid_dbsession.db.survey import old_format_rows
from pyramid_dbsession.migrations import PROJECT_VERSION_TABLE, VERSION_TABLE
from pyramid_dbsession.models import create_table, drop_table, sessions_table
from pyramid_dbsession.scripts import initdb
from pyramid_dbsession.scripts.check import main

from .conftest import SECRET
from .test_cleanup import write_ini
from .test_migrations import standalone_config

#: The settings docs/production.md recommends, over the test database's.
SECURE = {
    "dbsession.serializer": "json",
    "dbsession.cookie_name": "__Host-session",
    "dbsession.cookie_secure": "true",
    "dbsession.timeout": "86400",
}
LOGGING = """
[loggers]
keys = root, sqlalchemy

[handlers]
keys =

[formatters]
keys =

[logger_root]
level = WARN
handlers =

[logger_sqlalchemy]
level = {level}
handlers =
qualname = sqlalchemy.engine
"""


def run(*argv: str) -> tuple[int, list[str], str]:
    """Run the command; return its status, the ids it found and its stderr."""
    out, err = io.StringIO(), io.StringIO()
    status = main(list(argv), stdout=out, stderr=err)
    found = [line.split()[0].removeprefix("dbsession.") for line in out.getvalue().splitlines()[:-1]]
    return status, found, err.getvalue()


@pytest.fixture
def secure(settings: dict[str, Any]) -> dict[str, Any]:
    return {**settings, **SECURE}


@pytest.fixture
def config_uri(tmp_path: Path, secure: dict[str, Any]) -> str:
    """An .ini file with the recommended settings on the test database."""
    return write_ini(tmp_path / "app.ini", secure)


@pytest.fixture
def rebuilt(engine: Engine) -> Iterator[Engine]:
    """The test database, whose table is built anew after the test changed its schema."""
    yield engine
    with engine.begin() as connection:
        for name in (VERSION_TABLE, PROJECT_VERSION_TABLE):
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
    drop_table(engine)
    create_table(engine)


@pytest.fixture
def migrated(rebuilt: Engine) -> Engine:
    """The test database, its table made by the package's migrations (alembic upgrade head)."""
    drop_table(rebuilt)
    command.upgrade(standalone_config(rebuilt), "head")
    return rebuilt


def add_signed(engine: Engine, codec: Codec, count: int, expire_date: datetime) -> None:
    """Insert ``count`` rows of one small session, signed and serialized by ``codec``."""
    rows = []
    for _ in range(count):
        key = secrets.token_hex(32)
        data = codec.encode(key, {"user_id": 42})
        created = expire_date - timedelta(days=1)
        rows.append(
            {
                "session_key": key,
                "session_data": data,
                "expire_date": expire_date,
                "created": created,
                "data_size": len(data),
                "version": 1,
            }
        )
    with engine.begin() as connection:
        connection.execute(sessions_table.insert(), rows)


PICKLED = Codec((SECRET,), PickleSerializer())
IN_JSON = Codec((SECRET,), JSONSerializer())


def later() -> datetime:
    return utcnow() + timedelta(hours=1)


def test_secure_settings_on_a_table_made_by_initdb_give_no_finding(rebuilt: Engine, config_uri: str) -> None:
    drop_table(rebuilt)
    initdb.main([config_uri], stdout=io.StringIO())
    assert run(config_uri) == (0, [], "")


def test_secure_settings_on_a_table_made_by_the_migrations_give_no_finding(migrated: Engine, config_uri: str) -> None:
    assert run(config_uri) == (0, [], "")


def test_clean_check_says_so_naming_the_database(config_uri: str, engine: Engine) -> None:
    out = io.StringIO()
    main([config_uri], stdout=out)
    assert out.getvalue() == f"no findings on {engine.url.render_as_string(hide_password=True)}\n"


def test_missing_table_is_an_error(rebuilt: Engine, config_uri: str) -> None:
    drop_table(rebuilt)
    assert run(config_uri)[:2] == (1, ["E001"])


def test_missing_index_is_an_error(rebuilt: Engine, config_uri: str) -> None:
    index = next(index for index in sessions_table.indexes if index.name == "ix_core_sessions_data_size")
    index.drop(rebuilt)
    assert run(config_uri)[:2] == (1, ["E003"])


def test_dropped_column_is_an_error(rebuilt: Engine, config_uri: str) -> None:
    with rebuilt.begin() as connection:
        connection.exec_driver_sql(f"ALTER TABLE {sessions_table.name} DROP COLUMN version")
    assert run(config_uri)[:2] == (1, ["E002"])


def test_stale_alembic_revision_is_an_error(migrated: Engine, config_uri: str) -> None:
    with migrated.begin() as connection:
        connection.exec_driver_sql(f"UPDATE {VERSION_TABLE} SET version_num = '000000000000'")
    assert run(config_uri)[:2] == (1, ["E004"])


def test_project_version_table_without_our_branch_gives_no_finding(rebuilt: Engine, config_uri: str) -> None:
    with rebuilt.begin() as connection:
        connection.exec_driver_sql(f"CREATE TABLE {PROJECT_VERSION_TABLE} (version_num VARCHAR(32) NOT NULL)")
        connection.exec_driver_sql(f"INSERT INTO {PROJECT_VERSION_TABLE} VALUES ('project0001')")
    assert run(config_uri) == (0, [], "")


def test_recorded_revisions_without_alembic_installed_are_a_warning(
    migrated: Engine, config_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "alembic.script", None)  # an import of it fails, as when not installed
    assert run(config_uri)[:2] == (0, ["W012"])


def test_sessions_expired_over_a_day_ago_are_a_warning(engine: Engine, config_uri: str) -> None:
    add_signed(engine, IN_JSON, 2, utcnow() - timedelta(days=1, minutes=1))
    assert run(config_uri)[:2] == (0, ["W009"])


def test_sessions_expired_less_than_a_day_ago_give_no_finding(engine: Engine, config_uri: str) -> None:
    add_signed(engine, IN_JSON, 2, utcnow() - timedelta(hours=23))
    assert run(config_uri)[:2] == (0, [])


def test_fail_level_warning_fails_on_a_warning(engine: Engine, config_uri: str) -> None:
    add_signed(engine, IN_JSON, 1, utcnow() - timedelta(days=2))
    assert run(config_uri, "--fail-level", "warning")[:2] == (1, ["W009"])


def test_weak_settings_pass_at_the_default_fail_level(engine: Engine, tmp_path: Path, settings: dict[str, Any]) -> None:
    assert run(write_ini(tmp_path / "app.ini", settings))[:2] == (0, ["W002", "W005", "W006"])


def test_rows_of_the_old_format_are_counted(engine: Engine, tmp_path: Path, secure: dict[str, Any]) -> None:
    add_signed(engine, PICKLED, 3, later())
    add_signed(engine, IN_JSON, 2, later())
    out = io.StringIO()
    main([write_ini(tmp_path / "app.ini", {**secure, "dbsession.fallback_serializer": "pickle"})], stdout=out)
    assert out.getvalue().startswith("dbsession.W010 warning: 3 live sessions still use the format")


def test_a_fallback_no_row_needs_is_a_warning(engine: Engine, tmp_path: Path, secure: dict[str, Any]) -> None:
    add_signed(engine, IN_JSON, 2, later())
    config_uri = write_ini(tmp_path / "app.ini", {**secure, "dbsession.fallback_serializer": "pickle"})
    assert run(config_uri)[:2] == (0, ["W011"])


def test_old_format_count_reads_in_batches(engine: Engine) -> None:
    add_signed(engine, PICKLED, 3, later())
    add_signed(engine, IN_JSON, 4, later())
    add_signed(engine, PICKLED, 2, utcnow() - timedelta(hours=1))  # expired: never served again
    store = SessionStore(engine, Codec((SECRET,), JSONSerializer(), PickleSerializer()))
    assert old_format_rows(store, batch_size=2) == 3


def test_engine_echo_is_a_warning_and_echoes_nothing(
    engine: Engine, tmp_path: Path, secure: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    status, found, _ = run(write_ini(tmp_path / "app.ini", {**secure, "dbsession.engine.echo": "true"}))
    assert (status, found, capsys.readouterr().out) == (0, ["W007"], "")


@pytest.mark.parametrize(("level", "expected"), [("INFO", ["W008"]), ("WARN", [])])
def test_sql_logger_at_info_in_the_config_file_is_a_warning(config_uri: str, level: str, expected: list[str]) -> None:
    with open(config_uri, "a") as ini:
        ini.write(LOGGING.format(level=level))
    assert run(config_uri)[:2] == (0, expected)


def test_unreachable_database_exits_2_with_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'no-such-folder' / 'sessions.sqlite'}"
    status, _, err = run(write_ini(tmp_path / "app.ini", {"dbsession.url": url, "dbsession.secret": SECRET}))
    assert (status, err.count("\n"), err.startswith("dbsession-check: database error on sqlite")) == (2, 1, True)


def test_missing_config_file_exits_2_with_one_line(tmp_path: Path) -> None:
    status, _, err = run(str(tmp_path / "missing.ini"))
    assert (status, err.count("\n"), err.startswith("dbsession-check: ")) == (2, 1, True)


def test_unknown_database_dialect_exits_2_with_one_line(tmp_path: Path) -> None:
    status, _, err = run(write_ini(tmp_path / "app.ini", {"dbsession.url": "nosuch://", "dbsession.secret": SECRET}))
    assert (status, err.count("\n"), "nosuch" in err) == (2, 1, True)


def test_unknown_fail_level_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config_uri = write_ini(tmp_path / "app.ini", {"dbsession.url": "sqlite://", "dbsession.secret": SECRET})
    status, _, _ = run(config_uri, "--fail-level", "info")
    assert (status, "--fail-level" in capsys.readouterr().err) == (2, True)


def test_check_reads_sqlalchemy_url_when_dbsession_url_is_absent(engine: Engine, tmp_path: Path) -> None:
    url = engine.url.render_as_string(hide_password=False)
    settings = {**SECURE, "sqlalchemy.url": url, "dbsession.secret": SECRET}
    assert run(write_ini(tmp_path / "app.ini", settings)) == (0, [], "")
