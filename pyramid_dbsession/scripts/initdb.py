"""``dbsession-initdb CONFIG_URI``: create ``core_sessions``, or add the columns and indexes it lacks."""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

import sqlalchemy as sa

from ..db.models import sessions_table
from ..db.schema import bring_up_to_date
from .appconfig import database_error, describe, start


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dbsession-initdb", description="Create the sessions table, or add the columns and indexes it lacks."
    )
    parser.add_argument("config_uri", metavar="CONFIG_URI", help="the app's settings, e.g. production.ini")
    return parser


def main(argv: list[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Run ``dbsession-initdb``; return the exit status (0 done, 1 database error, 2 usage)."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    started = start(_parser(), argv, err)
    if isinstance(started, int):
        return started
    _, store = started
    try:
        with store.engine.begin() as connection:
            bring_up_to_date(connection)
    except sa.exc.DBAPIError as exc:
        err.write(f"dbsession-initdb: {database_error(store, exc)}\n")
        return 1
    finally:
        store.dispose()
    out.write(f"{sessions_table.name} and its indexes are in place on {describe(store)}\n")
    return 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
