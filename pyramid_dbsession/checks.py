"""The findings of ``dbsession-check``: the settings and what the database holds in, findings out.

Pure decisions, table-tested in ``tests/test_checks.py``. The script gathers
the facts (:mod:`pyramid_dbsession.db.survey`) and prints one line per finding.
Weak settings are warnings; what makes requests fail is an error.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import IntEnum

from .codec import PickleSerializer
from .settings import Settings

#: An idle timeout longer than this, with no ``absolute_timeout``, is a finding.
LONG_IDLE_TIMEOUT = 86_400
#: Rows expired for longer than this say the cleanup is not running: an hourly or daily run leaves none.
BACKLOG_AGE = timedelta(days=1)
#: The loggers SQLAlchemy writes statements to, from the engine's own up to the root.
_SQL_LOGGERS = ("sqlalchemy.engine.Engine", "sqlalchemy.engine", "sqlalchemy", "root")
#: SQLAlchemy sets its ``sqlalchemy`` logger to WARN when imported, unless logging configured a level.
_UNCONFIGURED_LEVELS = {"sqlalchemy": "WARN"}
_MIGRATIONS_FIX = "apply the package's migrations (docs/production.md, 'Creating the schema')"


class Level(IntEnum):
    """How bad a finding is; ``--fail-level`` compares against it."""

    WARNING = 1
    ERROR = 2


@dataclass(frozen=True)
class Finding:
    """One thing to fix, under an id that stays the same between releases (``dbsession.W001``)."""

    id: str
    level: Level
    message: str
    fix: str

    def line(self) -> str:
        """The finding as the one line ``dbsession-check`` prints."""
        return f"{self.id} {self.level.name.lower()}: {self.message}; fix: {self.fix}"


@dataclass(frozen=True)
class VersionTable:
    """The revisions an Alembic version table records; a ``shared`` one holds the project's own too."""

    name: str
    revisions: tuple[str, ...]
    shared: bool


@dataclass(frozen=True)
class Branch:
    """The package's Alembic branch: its head and every revision."""

    head: str
    revisions: frozenset[str]


@dataclass(frozen=True)
class DatabaseState:
    """What the sessions database holds, as far as the findings need it."""

    table: str
    has_table: bool
    missing_columns: tuple[str, ...] = ()
    missing_indexes: tuple[str, ...] = ()
    #: Rows expired for longer than :data:`BACKLOG_AGE`.
    long_expired: int = 0
    #: Live rows that the current serializer cannot read; None when no fallback serializer is set.
    old_format: int | None = None
    version_tables: tuple[VersionTable, ...] = ()
    #: None when Alembic is not installed.
    branch: Branch | None = None


def _found(code: str, message: str, fix: str) -> Finding:
    # The id says the level: E for errors, W for warnings.
    return Finding(f"dbsession.{code}", Level.ERROR if code.startswith("E") else Level.WARNING, message, fix)


def logs_sql(logger_levels: Mapping[str, str]) -> bool:
    """Whether a logging configuration (``qualname -> level``, ``root`` for the root) logs SQLAlchemy's statements."""
    for name in _SQL_LOGGERS:
        level = logger_levels.get(name, _UNCONFIGURED_LEVELS.get(name, "NOTSET")).strip().upper()
        if level != "NOTSET":
            return level in {"DEBUG", "INFO"}
    return False


def check(
    settings: Settings, database: DatabaseState, *, echo: bool, logger_levels: Mapping[str, str]
) -> list[Finding]:
    """Return every finding, errors first, each level in order of id.

    ``echo`` says whether the engine options turn SQL echo on, ``logger_levels``
    what the config file's logging sections set (see :func:`logs_sql`).
    """
    findings = [*_cookie_findings(settings), *_settings_findings(settings, echo, logger_levels)]
    findings += [*_schema_findings(database), *_row_findings(database), *_revision_findings(database)]
    return sorted(findings, key=lambda finding: (-finding.level, finding.id))


def fails(findings: Iterable[Finding], fail_level: Level) -> bool:
    """Whether any finding is at ``fail_level`` or above."""
    return any(finding.level >= fail_level for finding in findings)


def _cookie_findings(settings: Settings) -> Iterator[Finding]:
    if settings.cookie_secure is False:
        yield _found(
            "W001",
            "dbsession.cookie_secure is false: the session cookie also travels over plain HTTP, readable on the way",
            "set dbsession.cookie_secure = true",
        )
    name = settings.cookie_name.lower()
    shared_by_subdomains = settings.cookie_domain is not None and name.startswith("__secure-")
    if not name.startswith("__host-") and not shared_by_subdomains:
        also = ", or __Secure-session if sub-domains must share the session" if settings.cookie_domain else ""
        yield _found(
            "W002",
            f"dbsession.cookie_name {settings.cookie_name!r} has no __Host- prefix:"
            " a sibling subdomain can plant its own session cookie for this site",
            f"set dbsession.cookie_name = __Host-session, which needs cookie_path = / and no cookie_domain{also}",
        )
    if settings.cookie_samesite == "None":
        yield _found(
            "W003",
            "dbsession.cookie_samesite is none: other sites' pages send requests in the visitor's session",
            "set dbsession.cookie_samesite = lax, unless the cookie must travel on cross-site requests",
        )
    if not settings.cookie_httponly:
        yield _found(
            "W004",
            "dbsession.cookie_httponly is false: any script on the page can read the session id",
            "set dbsession.cookie_httponly = true",
        )


def _settings_findings(settings: Settings, echo: bool, logger_levels: Mapping[str, str]) -> Iterator[Finding]:
    if settings.timeout > LONG_IDLE_TIMEOUT and settings.absolute_timeout is None:
        yield _found(
            "W005",
            f"dbsession.timeout is {settings.timeout} s with no dbsession.absolute_timeout:"
            " a session kept in use, by its owner or by whoever stole its id, never ends",
            "set dbsession.absolute_timeout (e.g. 2592000, 30 days), or a timeout of at most a day",
        )
    if isinstance(settings.serializer, PickleSerializer):
        yield _found(
            "W006",
            "dbsession.serializer is pickle: a leaked secret plus write access to the table means code execution",
            "set dbsession.serializer = json, with dbsession.fallback_serializer = pickle until no row needs it",
        )
    if echo:
        yield _found(
            "W007",
            "SQL echo is on (dbsession.engine.echo or sqlalchemy.echo): every session statement is logged",
            "remove the echo setting",
        )
    if logs_sql(logger_levels):
        yield _found(
            "W008",
            "the config file's logging sets the sqlalchemy.engine logger to INFO or DEBUG: every statement is logged",
            "set level = WARN in the logger section whose qualname is sqlalchemy.engine",
        )


def _schema_findings(database: DatabaseState) -> Iterator[Finding]:
    if not database.has_table:
        yield _found(
            "E001",
            f"the table {database.table} does not exist: every request that uses the session fails",
            f"run dbsession-initdb CONFIG_URI, or {_MIGRATIONS_FIX}",
        )
    for column in database.missing_columns:
        yield _found(
            "E002",
            f"{database.table} has no column {column!r}: requests that read or write sessions fail",
            f"run dbsession-initdb CONFIG_URI, which adds the columns a table lacks, or {_MIGRATIONS_FIX}",
        )
    for index in database.missing_indexes:
        yield _found(
            "E003",
            f"{database.table} has no index {index!r}: the statements that need it scan the whole table",
            "run dbsession-initdb CONFIG_URI, which adds the indexes a table lacks",
        )


def _row_findings(database: DatabaseState) -> Iterator[Finding]:
    if database.long_expired:
        yield _found(
            "W009",
            f"{database.long_expired:,} sessions expired more than a day ago are still stored:"
            " the cleanup does not seem to run",
            "run dbsession-cleanup CONFIG_URI every hour, from cron or a systemd timer",
        )
    if database.old_format:
        yield _found(
            "W010",
            f"{database.old_format:,} live sessions still use the format of dbsession.fallback_serializer",
            "keep the fallback until this count is 0: a session moves to dbsession.serializer when its data is next"
            " written",
        )
    elif database.old_format == 0:
        yield _found(
            "W011",
            "no live session uses the format of dbsession.fallback_serializer any more",
            "remove dbsession.fallback_serializer",
        )


def _revision_findings(database: DatabaseState) -> Iterator[Finding]:
    if not database.version_tables:
        return
    branch = database.branch
    if branch is None:
        yield _found(
            "W012",
            "the database records Alembic revisions, but Alembic is not installed: the revision is not checked",
            "pip install 'pyramid_dbsession[alembic]'",
        )
        return
    for table in database.version_tables:
        # A project's table holds its own revisions too: only the branch's are ours.
        ours = [revision for revision in table.revisions if revision in branch.revisions or not table.shared]
        if ours and branch.head not in ours:
            upgrade = "alembic upgrade pyramid_dbsession@head" if table.shared else "alembic -c CONFIG_URI upgrade head"
            yield _found(
                "E004",
                f"{table.name} records {', '.join(ours)}, not the package's head {branch.head}:"
                " the table lacks what this version's requests need",
                f"run {upgrade}",
            )
