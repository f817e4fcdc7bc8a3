"""What a sessions database holds against the models, for ``dbsession-check``.

The expected columns and indexes are read from :data:`sessions_table`, so a
column or an index added to the models is checked with no change here.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..checks import Branch, DatabaseState, VersionTable
from .models import sessions_table as _t
from .schema import missing_columns
from .store import SessionStore

#: Rows read per statement when counting the old format.
OLD_FORMAT_BATCH = 1000

_LIVE_ROWS = (
    sa.select(_t.c.session_key, _t.c.session_data)
    .where(_t.c.session_key > sa.bindparam("after"), _t.c.expire_date > sa.bindparam("now"))
    .order_by(_t.c.session_key)
    .limit(sa.bindparam("size", type_=sa.Integer, literal_execute=True))
)


def survey(
    store: SessionStore,
    *,
    expired_before: datetime,
    version_tables: dict[str, bool],
    branch: Branch | None,
    count_old_format: bool,
) -> DatabaseState:
    """Gather the facts the findings are decided on.

    ``version_tables`` names the Alembic version tables to read, each with
    whether it is shared with a project's own revisions.
    """
    inspector = sa.inspect(store.engine)
    recorded = tuple(
        VersionTable(name, _recorded_revisions(store.engine, name), shared)
        for name, shared in version_tables.items()
        if inspector.has_table(name)
    )
    with store.engine.connect() as connection:
        missing = missing_columns(connection)
    if missing is None:
        return DatabaseState(_t.name, has_table=False, version_tables=recorded, branch=branch)
    indexes = {index["name"] for index in inspector.get_indexes(_t.name)}
    return DatabaseState(
        _t.name,
        has_table=True,
        missing_columns=tuple(missing),
        missing_indexes=tuple(sorted(str(index.name) for index in _t.indexes if index.name not in indexes)),
        # Counting needs the columns the statements name.
        long_expired=0 if missing else store.count_expired(expired_before),
        old_format=old_format_rows(store) if count_old_format and not missing else None,
        version_tables=recorded,
        branch=branch,
    )


def old_format_rows(store: SessionStore, batch_size: int = OLD_FORMAT_BATCH) -> int:
    """Count the live rows that the store's current serializer cannot read, ``batch_size`` rows a statement.

    Each batch is a short statement of its own, keyed on ``session_key``, so
    the scan of a large table holds no long transaction.
    """
    count, after, now = 0, "", store.now()
    while True:
        with store.engine.connect() as connection:
            rows = connection.execute(_LIVE_ROWS, {"after": after, "now": now, "size": batch_size}).all()
        count += sum(store.codec.is_old_format(key, data) for key, data in rows)
        if len(rows) < batch_size:
            return count
        after = rows[-1].session_key


def _recorded_revisions(engine: Engine, name: str) -> tuple[str, ...]:
    version_table = sa.table(name, sa.column("version_num", sa.String))
    with engine.connect() as connection:
        return tuple(connection.execute(sa.select(version_table.c.version_num)).scalars())
