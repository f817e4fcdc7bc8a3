"""Alembic migrations of ``core_sessions``, branch label ``pyramid_dbsession``.

Run them on their own with ``script_location = pyramid_dbsession:migrations``,
or add ``pyramid_dbsession:migrations/versions`` to a project's
``version_locations``; see docs/production.md.
"""

from __future__ import annotations

from pathlib import Path

from ..checks import Branch

BRANCH_LABEL = "pyramid_dbsession"
#: Where the standalone environment records applied revisions.
VERSION_TABLE = "alembic_version_dbsession"
#: Where a project's own environment records them, beside its own revisions.
PROJECT_VERSION_TABLE = "alembic_version"


def branch_revisions() -> Branch | None:
    """Return the head of the package's branch and all its revisions, or None when Alembic is not installed."""
    try:
        from alembic.script import ScriptDirectory
    except ImportError:
        return None
    # Walked from the head down: the head comes first.
    revisions = list(ScriptDirectory(str(Path(__file__).parent)).walk_revisions(head=f"{BRANCH_LABEL}@head"))
    return Branch(revisions[0].revision, frozenset(revision.revision for revision in revisions))
