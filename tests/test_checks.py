"""The findings of dbsession-check, decided from settings and database facts alone: no database."""

from __future__ import annotations

from typing import Any

import pytest

from pyramid_dbsession.checks import (
    Branch,
    DatabaseState,
    Finding,
    Level,
    VersionTable,
    check,
    fails,
    logs_sql,
)
from pyramid_dbsession.settings import Settings, parse_settings

from .conftest import SECRET

#: What docs/production.md recommends: no finding at all.
SECURE = {
    "dbsession.url": "sqlite://",
    "dbsession.secret": SECRET,
    "dbsession.serializer": "json",
    "dbsession.cookie_name": "__Host-session",
    "dbsession.cookie_secure": "true",
    "dbsession.timeout": "86400",
}
HEALTHY = DatabaseState("core_sessions", has_table=True)
BRANCH = Branch("b2", frozenset({"a1", "b2"}))


def secure(**changes: str) -> Settings:
    return parse_settings({**SECURE, **{f"dbsession.{key}": value for key, value in changes.items()}})


def ids(findings: list[Finding]) -> list[str]:
    return [finding.id.removeprefix("dbsession.") for finding in findings]


SETTINGS_CASES: dict[str, tuple[dict[str, str], list[str]]] = {
    "secure settings": ({}, []),
    "cookie_secure auto": ({"cookie_secure": "auto"}, []),
    "cookie_secure off": ({"cookie_secure": "false", "cookie_name": "session"}, ["W001", "W002"]),
    "no prefix": ({"cookie_name": "session"}, ["W002"]),
    "__Secure- alone": ({"cookie_name": "__Secure-session"}, ["W002"]),
    "__Secure- shared with sub-domains": ({"cookie_name": "__Secure-session", "cookie_domain": "example.com"}, []),
    "no prefix shared with sub-domains": ({"cookie_name": "session", "cookie_domain": "example.com"}, ["W002"]),
    "prefix in lower case": ({"cookie_name": "__host-session"}, []),
    "SameSite=None": ({"cookie_samesite": "none"}, ["W003"]),
    "SameSite=Strict": ({"cookie_samesite": "strict"}, []),
    "HttpOnly off": ({"cookie_httponly": "false"}, ["W004"]),
    "idle timeout over a day": ({"timeout": "86401"}, ["W005"]),
    "long idle timeout with an absolute timeout": ({"timeout": "1209600", "absolute_timeout": "2592000"}, []),
    "pickle": ({"serializer": "pickle"}, ["W006"]),
    "json with a pickle fallback": ({"fallback_serializer": "pickle"}, []),
    "the defaults": (
        {"serializer": "pickle", "cookie_name": "session", "cookie_secure": "auto", "timeout": "1209600"},
        ["W002", "W005", "W006"],
    ),
}


@pytest.mark.parametrize(("changes", "expected"), SETTINGS_CASES.values(), ids=SETTINGS_CASES.keys())
def test_settings_findings(changes: dict[str, str], expected: list[str]) -> None:
    assert ids(check(secure(**changes), HEALTHY, echo=False, logger_levels={})) == expected


def test_sql_echo_is_a_finding() -> None:
    assert ids(check(secure(), HEALTHY, echo=True, logger_levels={})) == ["W007"]


def test_sql_logged_by_the_config_file_is_a_finding() -> None:
    assert ids(check(secure(), HEALTHY, echo=False, logger_levels={"sqlalchemy.engine": "INFO"})) == ["W008"]


LOGGING_CASES: dict[str, tuple[dict[str, str], bool]] = {
    "nothing configured": ({}, False),
    "the Pyramid starter's WARN": ({"sqlalchemy.engine": "WARN"}, False),
    "sqlalchemy.engine at INFO": ({"sqlalchemy.engine": "INFO"}, True),
    "sqlalchemy.engine at DEBUG, lower case": ({"sqlalchemy.engine": "debug"}, True),
    "the engine's own logger at INFO": ({"sqlalchemy.engine.Engine": "INFO"}, True),
    "sqlalchemy at INFO": ({"sqlalchemy": "INFO"}, True),
    "sqlalchemy.engine at WARN under sqlalchemy at INFO": ({"sqlalchemy.engine": "WARN", "sqlalchemy": "INFO"}, False),
    "sqlalchemy.engine at NOTSET under sqlalchemy at INFO": (
        {"sqlalchemy.engine": "NOTSET", "sqlalchemy": "INFO"},
        True,
    ),
    "root at INFO: SQLAlchemy keeps its own WARN": ({"root": "INFO"}, False),
    "sqlalchemy at NOTSET under root at DEBUG": ({"sqlalchemy": "NOTSET", "root": "DEBUG"}, True),
    "sqlalchemy.engine at ERROR": ({"sqlalchemy.engine": "ERROR"}, False),
    "every level NOTSET: the root's default WARNING": ({"sqlalchemy": "NOTSET", "root": "NOTSET"}, False),
}


@pytest.mark.parametrize(("levels", "expected"), LOGGING_CASES.values(), ids=LOGGING_CASES.keys())
def test_logs_sql(levels: dict[str, str], expected: bool) -> None:
    assert logs_sql(levels) is expected


def standalone(*revisions: str) -> VersionTable:
    return VersionTable("alembic_version_dbsession", revisions, shared=False)


def project(*revisions: str) -> VersionTable:
    return VersionTable("alembic_version", revisions, shared=True)


DATABASE_CASES: dict[str, tuple[dict[str, Any], list[str]]] = {
    "a healthy table": ({}, []),
    "no table": ({"has_table": False}, ["E001"]),
    "a column missing": ({"missing_columns": ("principal",)}, ["E002"]),
    "two columns missing": ({"missing_columns": ("created", "version")}, ["E002", "E002"]),
    "an index missing": ({"missing_indexes": ("ix_core_sessions_created",)}, ["E003"]),
    "an expired backlog": ({"long_expired": 3}, ["W009"]),
    "rows in the old format": ({"old_format": 5}, ["W010"]),
    "a fallback no row needs": ({"old_format": 0}, ["W011"]),
    "the migrations at head": ({"version_tables": (standalone("b2"),), "branch": BRANCH}, []),
    "the migrations behind": ({"version_tables": (standalone("a1"),), "branch": BRANCH}, ["E004"]),
    "an unknown revision in our own table": ({"version_tables": (standalone("zz"),), "branch": BRANCH}, ["E004"]),
    "an empty version table of our own": ({"version_tables": (standalone(),), "branch": BRANCH}, []),
    "the project's table at our head": ({"version_tables": (project("app9", "b2"),), "branch": BRANCH}, []),
    "the project's table behind on our branch": (
        {"version_tables": (project("app9", "a1"),), "branch": BRANCH},
        ["E004"],
    ),
    "the project's table without our branch": ({"version_tables": (project("app9"),), "branch": BRANCH}, []),
    "revisions recorded, no Alembic installed": ({"version_tables": (standalone("b2"),), "branch": None}, ["W012"]),
    "no version table, no Alembic installed": ({"branch": None}, []),
}


@pytest.mark.parametrize(("facts", "expected"), DATABASE_CASES.values(), ids=DATABASE_CASES.keys())
def test_database_findings(facts: dict[str, Any], expected: list[str]) -> None:
    database = DatabaseState("core_sessions", **{"has_table": True, **facts})
    assert ids(check(secure(), database, echo=False, logger_levels={})) == expected


def test_findings_list_errors_first_then_by_id() -> None:
    database = DatabaseState("core_sessions", has_table=True, missing_indexes=("ix_core_sessions_created",))
    findings = check(secure(serializer="pickle", cookie_httponly="false"), database, echo=False, logger_levels={})
    assert ids(findings) == ["E003", "W004", "W006"]


def test_old_format_finding_gives_the_count() -> None:
    [finding] = check(secure(), DatabaseState("core_sessions", True, old_format=1234), echo=False, logger_levels={})
    assert "1,234 live sessions" in finding.message


def test_finding_line_has_the_id_the_level_and_the_fix() -> None:
    finding = Finding("dbsession.W999", Level.WARNING, "something is weak", "make it strong")
    assert finding.line() == "dbsession.W999 warning: something is weak; fix: make it strong"


WARNING = Finding("dbsession.W999", Level.WARNING, "", "")
ERROR = Finding("dbsession.E999", Level.ERROR, "", "")
FAIL_CASES: dict[str, tuple[list[Finding], Level, bool]] = {
    "nothing found": ([], Level.WARNING, False),
    "a warning, failing on errors": ([WARNING], Level.ERROR, False),
    "a warning, failing on warnings": ([WARNING], Level.WARNING, True),
    "an error, failing on errors": ([WARNING, ERROR], Level.ERROR, True),
    "an error, failing on warnings": ([ERROR], Level.WARNING, True),
}


@pytest.mark.parametrize(("findings", "fail_level", "expected"), FAIL_CASES.values(), ids=FAIL_CASES.keys())
def test_fails(findings: list[Finding], fail_level: Level, expected: bool) -> None:
    assert fails(findings, fail_level) is expected
