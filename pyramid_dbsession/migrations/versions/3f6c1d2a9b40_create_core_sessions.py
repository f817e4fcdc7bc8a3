"""Create core_sessions and its indexes.

Revision ID: 3f6c1d2a9b40
Revises:
Create Date: 2026-11-25 21:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "3f6c1d2a9b40"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("pyramid_dbsession",)
depends_on: str | Sequence[str] | None = None

# The types as this revision created them, spelled out so later model changes
# never rewrite history: naive UTC datetimes (microseconds on MariaDB) and
# MEDIUMTEXT on MySQL/MariaDB, whose TEXT stops at 64 KiB.
_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
_LONG_TEXT = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "core_sessions",
        sa.Column("session_key", sa.String(64), primary_key=True),
        sa.Column("session_data", _LONG_TEXT, nullable=False),
        sa.Column("expire_date", _DATETIME, nullable=False),
        sa.Column("created", _DATETIME, nullable=False),
        sa.Column("data_size", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("ix_core_sessions_expire_date", "core_sessions", ["expire_date", "session_key"])
    op.create_index("ix_core_sessions_created", "core_sessions", ["created", "session_key"])
    op.create_index("ix_core_sessions_data_size", "core_sessions", ["data_size", "session_key"])


def downgrade() -> None:
    op.drop_index("ix_core_sessions_data_size", table_name="core_sessions")
    op.drop_index("ix_core_sessions_created", table_name="core_sessions")
    op.drop_index("ix_core_sessions_expire_date", table_name="core_sessions")
    op.drop_table("core_sessions")
