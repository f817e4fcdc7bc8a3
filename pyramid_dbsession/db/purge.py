"""Deleting expired rows in short transactions, one connection or several at a time.

The cleanup walks ix_core_sessions_expire_date in ranges of about
``batch_size`` rows, from just before the oldest expiry: a probe on the
autocommit reader finds where each range ends, and each range is one DELETE
that every backend runs on the index, without LIMIT support. Each range starts
after the previous one's end, so no probe rescans the index entries of rows
already deleted (PostgreSQL keeps them until VACUUM), and ranges never
overlap, so several connections can delete them at once without waiting for
each other's locks.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .models import sessions_table as _t

_OLDEST = sa.select(sa.func.min(_t.c.expire_date))
_BATCH_END = (
    sa.select(_t.c.expire_date)
    .where(_t.c.expire_date > sa.bindparam("after"), _t.c.expire_date <= sa.bindparam("now"))
    .order_by(_t.c.expire_date)
    .offset(sa.bindparam("skip", type_=sa.Integer, literal_execute=True))
    .limit(1)
)
_DELETE_RANGE = _t.delete().where(_t.c.expire_date > sa.bindparam("after"), _t.c.expire_date <= sa.bindparam("end"))
#: Lets PostgreSQL acknowledge a transaction's commit before its WAL reaches the disk;
#: sent as it is (``exec_driver_sql``), which spares SQLAlchemy's statement work.
ASYNC_COMMIT = "SET LOCAL synchronous_commit = off"
#: Less than any stored time's step: the first range starts just before the oldest row.
_TICK = timedelta(microseconds=1)

Range = tuple[datetime, datetime]


def parallel_jobs(engine: Engine, jobs: int) -> int:
    """Return how many connections delete at once: ``jobs`` on PostgreSQL, else 1.

    SQLite has a single writer. On InnoDB a range DELETE also locks the first
    row after its range, where the next batch is deleting, so two connections
    mostly wait for each other.
    """
    return jobs if engine.dialect.name == "postgresql" else 1


class Purge:
    """Delete the rows of ``engine`` that expired by ``now``, batch by batch.

    Iterating yields each committed batch's row count. With ``jobs`` above 1,
    that many connections delete disjoint batches at the same time on
    PostgreSQL (see :func:`parallel_jobs`). Stopping the
    iteration lets the batches already started commit and leaves the other
    expired rows in place.
    """

    def __init__(self, engine: Engine, reader: Engine, batch_size: int, now: datetime, jobs: int = 1) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        if jobs < 1:
            raise ValueError(f"jobs must be at least 1, got {jobs}")
        self.engine = engine
        self.reader = reader
        self._postgresql = engine.dialect.name == "postgresql"
        self.batch_size = batch_size
        self.now = now
        self.jobs = parallel_jobs(engine, jobs)

    def __iter__(self) -> Iterator[int]:
        if self.jobs == 1:
            for bounds in self.ranges():
                if count := self.delete(bounds):
                    yield count
            return
        with ThreadPoolExecutor(self.jobs, thread_name_prefix="dbsession-purge") as pool:
            running: set[Future[int]] = set()
            for bounds in self.ranges():
                running.add(pool.submit(self.delete, bounds))
                if len(running) == self.jobs:
                    done, running = wait(running, return_when=FIRST_COMPLETED)
                    yield from _counts(done)
            yield from _counts(wait(running).done)

    def ranges(self) -> Iterator[Range]:
        """Yield (after, end] ranges of expiry, in order; the last one ends at ``now``."""
        with self.reader.connect() as connection:
            oldest = connection.execute(_OLDEST).scalar()
        if oldest is None or oldest > self.now:
            return
        after = oldest - _TICK
        while True:
            with self.reader.connect() as connection:
                params = {"after": after, "now": self.now, "skip": self.batch_size - 1}
                end = connection.execute(_BATCH_END, params).scalar()
            if end is None:
                yield after, self.now
                return
            yield after, end
            after = end

    def delete(self, bounds: Range) -> int:
        """Delete one range in a transaction of its own; return how many rows went."""
        after, end = bounds
        with self.engine.begin() as connection:
            if self._postgresql:
                # Expired rows are never served: a batch lost in a crash just
                # waits for the next cleanup, so its commit need not wait for the disk.
                connection.exec_driver_sql(ASYNC_COMMIT)
            return int(connection.execute(_DELETE_RANGE, {"after": after, "end": end}).rowcount)


def _counts(done: set[Future[int]]) -> Iterator[int]:
    for future in done:
        if count := future.result():
            yield count
