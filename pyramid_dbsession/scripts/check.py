"""``dbsession-check CONFIG_URI [--fail-level error|warning]``: what to fix before (and after) going live.

One line per finding, with a stable id, a level and the fix; the findings are
decided in :mod:`pyramid_dbsession.checks`. Exits 0 when nothing at or above
the fail level was found, 1 otherwise, 2 when the file or the database cannot
be used.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from typing import Any, TextIO

import sqlalchemy as sa

from ..checks import BACKLOG_AGE, DatabaseState, Finding, Level, check, fails
from ..db.store import SessionStore
from ..db.survey import survey
from ..migrations import PROJECT_VERSION_TABLE, VERSION_TABLE, branch_revisions
from ..settings import Settings
from .appconfig import ScriptError, database_error, describe, logger_levels, open_settings, parse_args, read_settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dbsession-check", description="Check the session settings and the sessions table for what to fix."
    )
    parser.add_argument("config_uri", metavar="CONFIG_URI", help="the app's settings, e.g. production.ini")
    parser.add_argument(
        "--fail-level",
        choices=["error", "warning"],
        default="error",
        help="exit 1 when a finding of this level or above is found (default error)",
    )
    return parser


def echoes_sql(settings: Settings) -> bool:
    """Whether the engine options turn SQL echo on (``true`` or ``debug``, as SQLAlchemy reads them)."""
    echo: Any = settings.engine_options.get("echo", False)
    return bool(sa.util.bool_or_str("debug")(echo))


def main(argv: list[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Run ``dbsession-check``; return the exit status (0 passed, 1 findings at the fail level, 2 unusable)."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    args = parse_args(_parser(), argv)
    if isinstance(args, int):
        return args
    try:
        settings = read_settings(args.config_uri)
        levels = logger_levels(args.config_uri)
        # The check's own statements are not echoed between its findings.
        quiet = replace(settings, engine_options={**settings.engine_options, "echo": False})
        store = open_settings(args.config_uri, quiet)
    except ScriptError as exc:
        err.write(f"dbsession-check: {exc}\n")
        return 2
    try:
        database = _survey(store, settings)
    except sa.exc.DBAPIError as exc:
        err.write(f"dbsession-check: {database_error(store, exc)}\n")
        return 2
    finally:
        store.dispose()
    findings = check(settings, database, echo=echoes_sql(settings), logger_levels=levels)
    for finding in findings:
        out.write(finding.line() + "\n")
    out.write(_summary(findings, describe(store)) + "\n")
    return 1 if fails(findings, Level[args.fail_level.upper()]) else 0


def _survey(store: SessionStore, settings: Settings) -> DatabaseState:
    return survey(
        store,
        expired_before=store.now() - BACKLOG_AGE,
        version_tables={VERSION_TABLE: False, PROJECT_VERSION_TABLE: True},
        branch=branch_revisions(),
        count_old_format=settings.fallback_serializer is not None,
    )


def _summary(findings: list[Finding], database: str) -> str:
    if not findings:
        return f"no findings on {database}"
    errors = sum(finding.level is Level.ERROR for finding in findings)
    warnings = len(findings) - errors
    return f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)} on {database}"


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
