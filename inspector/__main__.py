"""``dbsession-inspector CONFIG_URI``: read the settings, check the database, run the app."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from pyramid_dbsession.db.engines import open_store
from pyramid_dbsession.errors import SettingsError
from pyramid_dbsession.settings import parse_settings

from .source import SessionSource, describe_error

EXIT_USAGE = 2


class LaunchError(Exception):
    """The inspector cannot start; the message is the one line printed on stderr."""


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(
        prog="dbsession-inspector", description="Browse, decode and delete the sessions stored in core_sessions."
    )
    parser.add_argument("config_uri", nargs="?", help="the app's .ini file, e.g. development.ini or app.ini#main")
    parser.add_argument("--url", help="database URL (overrides dbsession.url)")
    parser.add_argument("--secret", help="session secret (overrides dbsession.secret)")
    parser.add_argument("--serializer", help="pickle, json or a dotted name (overrides dbsession.serializer)")
    parser.add_argument("--read-only", action="store_true", help="disable every deletion")
    parser.add_argument(
        "--refresh", type=float, default=5.0, metavar="SECONDS", help="live refresh interval, 0 for never (default 5)"
    )
    arguments = parser.parse_args(argv)
    if arguments.refresh < 0:
        parser.error("--refresh must be zero or more seconds")
    if arguments.config_uri is None and not (arguments.url and arguments.secret):
        parser.error("give a CONFIG_URI, or --url and --secret")
    return arguments


def read_settings(arguments: argparse.Namespace) -> dict[str, Any]:
    """The app section's settings, with the command line's overrides."""
    settings: dict[str, Any] = {}
    if arguments.config_uri:
        from pyramid.paster import get_appsettings

        try:
            settings = dict(get_appsettings(arguments.config_uri))
        except Exception as exc:  # plaster and PasteDeploy raise many kinds for a bad file or section
            raise LaunchError(f"cannot read {arguments.config_uri!r}: {exc}") from None
    overrides = {"url": arguments.url, "secret": arguments.secret, "serializer": arguments.serializer}
    settings.update({f"dbsession.{name}": value for name, value in overrides.items() if value is not None})
    return settings


def open_source(settings: dict[str, Any]) -> SessionSource:
    """Build the store as the app does and check that ``core_sessions`` can be read."""
    try:
        store = open_store(parse_settings(settings))
    except SettingsError as exc:
        raise LaunchError(str(exc)) from None
    except (sa.exc.ArgumentError, ImportError) as exc:
        raise LaunchError(f"bad database URL: {exc}") from None
    source = SessionSource(store)
    try:
        source.check()
    except sa.exc.SQLAlchemyError as exc:
        store.engine.dispose()
        raise LaunchError(f"cannot read core_sessions in {source.database}: {describe_error(exc)}") from None
    return source


def main(argv: Sequence[str] | None = None) -> int:
    """Run the inspector; return 2 after a one-line error if it cannot start, 1 if it crashed."""
    arguments = parse_arguments(argv)
    try:
        source = open_source(read_settings(arguments))
    except LaunchError as exc:
        print(f"dbsession-inspector: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from .app import InspectorApp

    app = InspectorApp(source, read_only=arguments.read_only, refresh_seconds=arguments.refresh)
    try:
        app.run()
    finally:
        source.engine.dispose()
    # Textual prints the traceback of an unhandled exception and sets return_code to 1,
    # but run() itself returns normally: without this a crash would exit 0.
    return app.return_code or 0


if __name__ == "__main__":
    sys.exit(main())
