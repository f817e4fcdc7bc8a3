"""The Alembic migrations build what the models describe, alone and inside a project's environment."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine, make_url

from pyramid_dbsession.models import metadata

from .conftest import BACKENDS, SECRET, backend_url

FIRST = "3f6c1d2a9b40"
HEAD = "8b2e5d7c1a93"


def _create_database(url: sa.URL) -> sa.URL:
    """Create an empty database beside the test one; return its URL."""
    scratch = f"{url.database}_migrations"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {scratch}")
            connection.exec_driver_sql(f"CREATE DATABASE {scratch}")
    finally:
        admin.dispose()
    return url.set(database=scratch)


def _drop_database(admin_url: sa.URL, scratch: str) -> None:
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    force = " WITH (FORCE)" if admin.dialect.name == "postgresql" else ""
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {scratch}{force}")
    finally:
        admin.dispose()


@pytest.fixture(params=sorted(BACKENDS))
def scratch(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """An engine on an empty database of each backend."""
    url = make_url(backend_url(request.param, tmp_path_factory))
    if url.get_backend_name() == "sqlite":
        engine = sa.create_engine(url)
        yield engine
        engine.dispose()
        return
    try:
        scratch_url = _create_database(url)
    except sa.exc.OperationalError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"{request.param} is not reachable here: {exc.orig}")
    engine = sa.create_engine(scratch_url)
    yield engine
    engine.dispose()
    _drop_database(url, str(scratch_url.database))


def standalone_config(engine: Engine) -> Config:
    """The Alembic configuration a project writes to run our migrations on their own."""
    config = Config()
    config.set_main_option("script_location", "pyramid_dbsession:migrations")
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return config


def differences(engine: Engine, version_table: str = "alembic_version_dbsession") -> list[object]:
    """What autogenerate would change to make the database match the models."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": version_table})
        return list(compare_metadata(context, metadata))


def table_names(engine: Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def test_upgrade_to_head_builds_what_the_models_describe(scratch: Engine) -> None:
    command.upgrade(standalone_config(scratch), "head")
    assert differences(scratch) == []


def test_downgrade_to_base_removes_the_table(scratch: Engine) -> None:
    config = standalone_config(scratch)
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    assert "core_sessions" not in table_names(scratch)


def test_upgrade_after_downgrade_builds_the_models_again(scratch: Engine) -> None:
    config = standalone_config(scratch)
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    command.upgrade(config, "head")
    assert differences(scratch) == []


def column_names(engine: Engine) -> set[str]:
    return {column["name"] for column in sa.inspect(engine).get_columns("core_sessions")}


def test_upgrade_from_the_first_revision_keeps_rows_and_adds_the_principal_columns(scratch: Engine) -> None:
    config = standalone_config(scratch)
    command.upgrade(config, FIRST)
    row = {"k": "a" * 64, "d": "data", "t": datetime(2030, 1, 1)}
    with scratch.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO core_sessions (session_key, session_data, expire_date, created, data_size, version)"
                " VALUES (:k, :d, :t, :t, 4, 1)"
            ),
            row,
        )
    command.upgrade(config, "head")
    with scratch.connect() as connection:
        kept = connection.exec_driver_sql("SELECT session_key, principal FROM core_sessions").all()
    assert (kept, differences(scratch)) == ([("a" * 64, None)], [])


def test_downgrade_of_the_principal_revision_removes_its_columns_and_index(scratch: Engine) -> None:
    config = standalone_config(scratch)
    command.upgrade(config, "head")
    command.downgrade(config, FIRST)
    indexes = {index["name"] for index in sa.inspect(scratch).get_indexes("core_sessions")}
    new = {"principal", "last_seen", "user_agent", "ip_address"}
    assert (column_names(scratch) & new, "ix_core_sessions_principal" in indexes) == (set(), False)


def test_standalone_run_records_its_revision_in_its_own_table(scratch: Engine) -> None:
    command.upgrade(standalone_config(scratch), "head")
    with scratch.connect() as connection:
        recorded = connection.exec_driver_sql("SELECT version_num FROM alembic_version_dbsession").scalars().all()
    assert (recorded, "alembic_version" in table_names(scratch)) == ([HEAD], False)


PROJECT_ENV = """
from alembic import context
import sqlalchemy as sa

import pyramid_dbsession

config = context.config
engine = sa.create_engine(config.get_main_option("sqlalchemy.url"))
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=[pyramid_dbsession.metadata])
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
"""


@pytest.fixture
def project_config(tmp_path: Path) -> Config:
    """A project's own Alembic environment that adds our versions to its version locations."""
    (tmp_path / "alembic" / "versions").mkdir(parents=True)
    (tmp_path / "alembic" / "env.py").write_text(PROJECT_ENV)
    config = Config()
    config.set_main_option("script_location", str(tmp_path / "alembic"))
    config.set_main_option(
        "version_locations", f"{tmp_path / 'alembic' / 'versions'} pyramid_dbsession:migrations/versions"
    )
    config.set_main_option("path_separator", "space")
    config.set_main_option("sqlalchemy.url", f"sqlite:///{tmp_path / 'project.sqlite'}")
    return config


def test_project_environment_upgrades_the_branch_by_its_label(project_config: Config, tmp_path: Path) -> None:
    command.upgrade(project_config, "pyramid_dbsession@head")
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'project.sqlite'}")
    try:
        with engine.connect() as connection:
            recorded = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalars().all()
        assert (recorded, differences(engine, "alembic_version")) == ([HEAD], [])
    finally:
        engine.dispose()


def test_standalone_environment_reads_the_apps_database_from_the_same_ini(tmp_path: Path) -> None:
    database = tmp_path / "app.sqlite"
    ini = tmp_path / "production.ini"
    ini.write_text(
        "[alembic]\nscript_location = pyramid_dbsession:migrations\n\n"
        f"[app:main]\nuse = egg:pyramid_dbsession\ndbsession.url = sqlite:///{database}\ndbsession.secret = {SECRET}\n"
    )
    command.upgrade(Config(str(ini)), "head")
    engine = sa.create_engine(f"sqlite:///{database}")
    try:
        assert differences(engine) == []
    finally:
        engine.dispose()


def test_offline_mode_prints_the_create_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = Config()
    config.set_main_option("script_location", "pyramid_dbsession:migrations")
    config.set_main_option("sqlalchemy.url", f"sqlite:///{tmp_path / 'unused.sqlite'}")
    command.upgrade(config, "head", sql=True)
    assert "CREATE TABLE core_sessions" in capsys.readouterr().out
