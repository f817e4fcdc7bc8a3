"""The ``core_sessions`` table and :class:`SessionRecord`, at the import path apps and migrations use."""

from __future__ import annotations

from .db.models import SessionRecord, create_table, drop_table, metadata, sessions_table

__all__ = ["SessionRecord", "create_table", "drop_table", "metadata", "sessions_table"]
