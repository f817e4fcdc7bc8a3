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
from ..settings import Settings, parse_settings


class ScriptError(Exception):
    """A problem with the command line or the configuration it names; the message is for the user."""


def read_settings(config_uri: str) -> Settings:
    """Return the validated settings of the app in ``config_uri`` (``production.ini#main``).

    Raises :class:`ScriptError` when the file cannot be read or its settings are wrong.
    """
    try:
        return parse_settings(get_appsettings(config_uri))
    except (OSError, LookupError, plaster.PlasterError, SettingsError) as exc:
        raise ScriptError(f"{config_uri}: {exc}") from exc


def open_settings(config_uri: str, settings: Settings) -> SessionStore:
    """Return a store for ``settings``, read from ``config_uri``; raise :class:`ScriptError` on a URL of no database."""
    try:
        return open_settings_store(settings)
    except sa.exc.ArgumentError as exc:  # an unknown dialect or a malformed URL
        raise ScriptError(f"{config_uri}: {exc}") from exc


def open_store(config_uri: str) -> SessionStore:
    """Return a store for the sessions the app in ``config_uri`` uses.

    Raises :class:`ScriptError` when the file cannot be read or its settings are wrong.
    """
    return open_settings(config_uri, read_settings(config_uri))


def logger_levels(config_uri: str) -> dict[str, str]:
    """Return the level each logger of the file's logging sections is given, by qualname (``root`` for the root)."""
    loader = plaster.get_loader(config_uri, protocols=["wsgi"])
    keys = [key.strip() for key in loader.get_settings("loggers").get("keys", "").split(",") if key.strip()]
    levels = {}
    for key in keys:
        section = loader.get_settings(f"logger_{key}")
        if "level" in section:  # as logging.config.fileConfig: no level leaves the logger's own
            levels["root" if key == "root" else section.get("qualname", key)] = section["level"]
    return levels


def parse_args(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace | int:
    """Parse a script's command line; return the exit status instead if it is wrong (or asks for help)."""
    try:
        return parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)


def start(
    parser: argparse.ArgumentParser, argv: list[str] | None, err: TextIO
) -> tuple[argparse.Namespace, SessionStore] | int:
    """Parse a script's command line and open its store; return the exit status instead if either fails."""
    args = parse_args(parser, argv)
    if isinstance(args, int):
        return args
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
