"""What ``core_sessions`` lacks in a database, and bringing it up to date without Alembic."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ..errors import DBSessionError
from .models import create_table, sessions_table

log = logging.getLogger("pyramid_dbsession")

#: What to run when the table lacks a column or an index.
UPGRADE_HINT = "run `dbsession-initdb CONFIG_URI` (or `alembic upgrade head` where the migrations are used)"


class OutdatedTable(DBSessionError):
    """``core_sessions`` exists but lacks columns the package writes."""


def missing_columns(connection: Connection) -> list[str] | None:
    """The model's columns the database's table lacks, in table order; None when there is no table."""
    inspector = sa.inspect(connection)
    if not inspector.has_table(sessions_table.name):
        return None
    present = {column["name"] for column in inspector.get_columns(sessions_table.name)}
    return [column.name for column in sessions_table.columns if column.name not in present]


def bring_up_to_date(connection: Connection) -> None:
    """Create the table, or add the columns and indexes an existing one lacks; data is kept."""
    missing = missing_columns(connection)
    if missing is None:
        create_table(connection)
        return
    for name in missing:
        # Every column added after the table's first version is nullable, so rows need no value.
        column = sa.schema.CreateColumn(sessions_table.columns[name]).compile(dialect=connection.dialect)
        connection.exec_driver_sql(f"ALTER TABLE {sessions_table.name} ADD COLUMN {column}")
    for index in sorted(sessions_table.indexes, key=lambda index: str(index.name)):
        index.create(connection, checkfirst=True)


def check_columns(engine: Engine) -> None:
    """Refuse to start on a table that lacks columns, naming them and the command that adds them.

    A database that cannot be reached is logged, not raised: requests will
    say what is wrong, and the app starts once it is back.
    """
    try:
        with engine.connect() as connection:
            missing = missing_columns(connection)
    except sa.exc.DBAPIError as exc:
        log.warning("could not check %s at start-up: %s", sessions_table.name, str(exc.orig).strip())
        return
    if missing:
        raise OutdatedTable(f"{sessions_table.name} lacks the columns {', '.join(missing)}: {UPGRADE_HINT}")
