"""Add the principal, last_seen and client columns, and the principal index.

Revision ID: 8b2e5d7c1a93
Revises: 3f6c1d2a9b40
Create Date: 2026-12-02 05:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "8b2e5d7c1a93"
down_revision: str | Sequence[str] | None = "3f6c1d2a9b40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def _principal_type() -> sa.types.TypeEngine[str]:
    """Text compared byte for byte: MySQL and MariaDB get a binary collation that keeps trailing spaces."""
    dialect = op.get_context().dialect
    if dialect.name not in {"mysql", "mariadb"}:
        return sa.String(255)
    return mysql.VARCHAR(
        255, collation="utf8mb4_nopad_bin" if getattr(dialect, "is_mariadb", False) else "utf8mb4_0900_bin"
    )


def upgrade() -> None:
    op.add_column("core_sessions", sa.Column("principal", _principal_type(), nullable=True))
    op.add_column("core_sessions", sa.Column("last_seen", _DATETIME, nullable=True))
    op.add_column("core_sessions", sa.Column("user_agent", sa.String(255), nullable=True))
    op.add_column("core_sessions", sa.Column("ip_address", sa.String(45), nullable=True))
    op.create_index("ix_core_sessions_principal", "core_sessions", ["principal", "expire_date", "session_key"])


def downgrade() -> None:
    op.drop_index("ix_core_sessions_principal", table_name="core_sessions")
    with op.batch_alter_table("core_sessions") as batch:
        batch.drop_column("ip_address")
        batch.drop_column("user_agent")
        batch.drop_column("last_seen")
        batch.drop_column("principal")
