"""Read a Pyramid app's ``dbsession.*`` settings from its ``.ini`` file, for the scripts."""

from __future__ import annotations

import argparse
from typing import TextIO

import plaster
import sqlalchemy as sa
from pyramid.paster import get_appsettings
from sqlalchemy.engine import make_url

from ..db.engines import open_store as open_settings_store
from ..db.store import SessionStore
from ..errors import SettingsError
from ..settings import parse_settings


class ScriptError(Exception):
    """A problem with the command line or the configuration it names; the message is for the user."""


def open_store(config_uri: str) -> SessionStore:
    """Return a store for the sessions the app in ``config_uri`` uses (``production.ini#main``).

    Raises :class:`ScriptError` when the file cannot be read or its settings are wrong.
    """
    try:
        settings = parse_settings(get_appsettings(config_uri))
        return open_settings_store(settings)
    except (OSError, LookupError, plaster.PlasterError, SettingsError) as exc:
        raise ScriptError(f"{config_uri}: {exc}") from exc


def start(
    parser: argparse.ArgumentParser, argv: list[str] | None, err: TextIO
) -> tuple[argparse.Namespace, SessionStore] | int:
    """Parse a script's command line and open its store; return the exit status instead if either fails."""
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    try:
        return args, open_store(args.config_uri)
    except ScriptError as exc:
        err.write(f"{parser.prog}: {exc}\n")
        return 2


def describe(store: SessionStore) -> str:
    """Name the store's database for a message, with the password hidden."""
    return make_url(store.engine.url).render_as_string(hide_password=True)


def database_error(store: SessionStore, exc: sa.exc.DBAPIError) -> str:
    """One line saying which database failed and how, for stderr."""
    return f"database error on {describe(store)}: {_first_line(exc)}"


def _first_line(exc: sa.exc.DBAPIError) -> str:
    lines = str(exc.orig).strip().splitlines()
    return lines[0] if lines else type(exc.orig).__name__
