"""Time the batched cleanup against one bulk DELETE on a million sessions.

    python benchmarks/cleanup_million.py                       # a SQLite file
    python benchmarks/cleanup_million.py --url postgresql+psycopg://postgres@127.0.0.1/bench
    python benchmarks/cleanup_million.py --url mysql+pymysql://root@127.0.0.1/bench

The database must be a scratch one: the script creates ``core_sessions``,
refuses to run if it already holds rows, and drops it at the end. It fills
``--rows`` rows, half of them expired, into a staging table once. Before each
run it copies them into ``core_sessions``: with ``--order written`` (the
default) in the order of their expiry, as a live table has them (a row is
written last when its expiry is set), with ``--order random`` shuffled, the
worst case for any index-driven delete. It then times the bulk DELETE and the
cleanup for each ``--batch-size`` and number of ``--jobs`` deleting at once,
``--repeat`` times, printing the total and the longest single transaction. On
MariaDB it also prints when InnoDB had purged the deleted rows (see
``InnoDBPurge``).
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pyramid_dbsession.codec import Codec, resolve_serializer
from pyramid_dbsession.db.store import SessionStore
from pyramid_dbsession.models import create_table, drop_table, sessions_table

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
FORTNIGHT = 14 * 24 * 3600
SECRET = "benchmark-secret-that-is-long-enough-to-be-real"
CHUNK = 20_000
STAGING = sa.Table(
    "core_sessions_benchmark_rows", sa.MetaData(), *(sa.Column(column.name, column.type) for column in sessions_table.c)
)


@dataclass
class TransactionTimer:
    """Times every transaction an engine runs, from BEGIN until its COMMIT or ROLLBACK returned.

    SQLAlchemy's ``commit`` event fires before the driver commits, and the
    commit is where SQLite writes its journal and InnoDB flushes its log, so
    the timer wraps the dialect's own commit and rollback instead.
    """

    longest: float = 0.0
    count: int = 0
    _started: dict[object, float] = field(default_factory=dict)

    def attach(self, engine: Engine) -> None:
        sa.event.listen(engine, "begin", self._begin)
        dialect = engine.dialect
        commit, rollback = dialect.do_commit, dialect.do_rollback
        dialect.do_commit = lambda pooled: self._end(commit, pooled)  # type: ignore[method-assign]
        dialect.do_rollback = lambda pooled: self._end(rollback, pooled)  # type: ignore[method-assign]

    def detach(self, engine: Engine) -> None:
        sa.event.remove(engine, "begin", self._begin)
        del engine.dialect.do_commit, engine.dialect.do_rollback

    def _begin(self, connection: sa.Connection) -> None:
        # The probes run in autocommit mode: they hold no transaction, and
        # SQLAlchemy does not always report an end for them.
        if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            self._started[connection.connection] = time.perf_counter()

    def _end(self, finish: Callable[[object], None], pooled: object) -> None:
        finish(pooled)
        started = self._started.pop(pooled, None)
        if started is not None:
            self.longest = max(self.longest, time.perf_counter() - started)
            self.count += 1


def generate_rows(count: int) -> Iterator[list[dict[str, object]]]:
    """Yield chunks of rows: even numbers expired, odd ones live, shuffled."""
    rng = random.Random(5)
    numbers = list(range(count))
    rng.shuffle(numbers)
    data = "x" * 120
    for offset in range(0, count, CHUNK):
        chunk = []
        for number in numbers[offset : offset + CHUNK]:
            age = rng.randrange(1, FORTNIGHT)
            expire = NOW - timedelta(seconds=age) if number % 2 == 0 else NOW + timedelta(seconds=age)
            chunk.append(
                {
                    "session_key": hashlib.sha256(str(number).encode()).hexdigest(),
                    "session_data": data,
                    "expire_date": expire,
                    "created": expire - timedelta(seconds=FORTNIGHT),
                    "data_size": len(data),
                    "version": 1,
                }
            )
        yield chunk


def fill_staging(engine: Engine, rows: int) -> None:
    STAGING.drop(engine, checkfirst=True)
    STAGING.create(engine)
    for chunk in generate_rows(rows):
        with engine.begin() as connection:
            connection.execute(STAGING.insert(), chunk)


def reset_table(engine: Engine, order: str) -> None:
    """Copy the staging rows into an emptied ``core_sessions`` and refresh statistics."""
    columns = list(sessions_table.c.keys())
    rows = sa.select(*STAGING.c).order_by(STAGING.c.expire_date if order == "written" else STAGING.c.session_key)
    with engine.begin() as connection:
        connection.execute(sessions_table.delete())
        connection.execute(sessions_table.insert().from_select(columns, rows))
    name = engine.dialect.name
    if name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(f"VACUUM ANALYZE {sessions_table.name}")
            # Start every run on an empty WAL, so no run pays for the previous one's checkpoint.
            connection.exec_driver_sql("CHECKPOINT")
    elif name in {"mysql", "mariadb"}:
        with engine.connect() as connection:
            connection.exec_driver_sql(f"ANALYZE TABLE {sessions_table.name}").all()
    else:
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")


class InnoDBPurge:
    """Waits until InnoDB has purged the rows a run delete-marked.

    A DELETE on InnoDB only marks rows; background purge threads remove them
    after the commit. A bulk DELETE returns long before that work is done,
    while batches pay for the purge of earlier batches as they go, so on
    MariaDB each run is also timed until its rows are purged.
    """

    METRIC = "purge_del_mark_records"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        with engine.connect() as connection:
            connection.exec_driver_sql(f"SET GLOBAL innodb_monitor_enable = '{self.METRIC}'")

    def purged(self) -> int:
        with self.engine.connect() as connection:
            query = "SELECT count FROM information_schema.INNODB_METRICS WHERE name = %s"
            return int(connection.exec_driver_sql(query, (self.METRIC,)).scalar_one())

    def settle(self) -> int:
        """Wait until purging has stopped (the table's reset leaves work too); return the count."""
        last = -1
        while (count := self.purged()) != last:
            last = count
            time.sleep(3)
        return count

    def wait(self, since: int, rows: int) -> None:
        while self.purged() - since < rows:
            time.sleep(0.1)


def timed(
    engine: Engine, run: Callable[[], int], purge: InnoDBPurge | None
) -> tuple[int, float, float, TransactionTimer]:
    """Run ``run``; return rows deleted, seconds until it returned and until its rows were purged."""
    since = purge.settle() if purge is not None else 0
    timer = TransactionTimer()
    timer.attach(engine)
    started = time.perf_counter()
    deleted = run()
    elapsed = time.perf_counter() - started
    timer.detach(engine)
    if purge is None:
        return deleted, elapsed, elapsed, timer
    purge.wait(since, deleted)
    return deleted, elapsed, time.perf_counter() - started, timer


def bulk_delete(engine: Engine) -> int:
    with engine.begin() as connection:
        return int(connection.execute(sessions_table.delete().where(sessions_table.c.expire_date < NOW)).rowcount)


def report(label: str, deleted: int, elapsed: float, purged: float, timer: TransactionTimer) -> None:
    purge = f", purged by {purged:6.2f} s" if purged > elapsed else ""
    print(
        f"{label:<38} {deleted:>9,} rows in {elapsed:7.2f} s{purge}"
        f"  {timer.count:>5} transactions, longest {timer.longest * 1000:8.1f} ms",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a scratch database (default: a SQLite file in a temporary folder)")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, nargs="+", default=[5000])
    parser.add_argument("--jobs", type=int, nargs="+", default=[1], help="connections deleting at once")
    parser.add_argument("--order", choices=["written", "random"], default="written")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        url = args.url or f"sqlite:///{Path(folder) / 'bench.sqlite'}"
        engine = sa.create_engine(url)
        if sa.inspect(engine).has_table(sessions_table.name):
            with engine.connect() as connection:
                if connection.execute(sa.select(sa.func.count()).select_from(sessions_table)).scalar():
                    print(f"{sessions_table.name} holds rows: give a scratch database", file=sys.stderr)
                    return 2
        create_table(engine)
        purge = InnoDBPurge(engine) if engine.dialect.name in {"mysql", "mariadb"} else None
        store = SessionStore(engine, Codec((SECRET,), resolve_serializer("json")), clock=lambda: NOW)
        try:
            print(f"{engine.dialect.name}: filling {args.rows:,} rows, half expired, in {args.order} order", flush=True)
            started = time.perf_counter()
            fill_staging(engine, args.rows)
            print(f"filled in {time.perf_counter() - started:.1f} s", flush=True)
            for _ in range(args.repeat):
                reset_table(engine, args.order)
                report("bulk DELETE", *timed(engine, partial(bulk_delete, engine), purge))
                for batch_size in args.batch_size:
                    for jobs in args.jobs:
                        reset_table(engine, args.order)
                        run = partial(store.clear_expired, batch_size, jobs=jobs)
                        report(f"batched, {batch_size:,} a batch, {jobs} at a time", *timed(engine, run, purge))
        finally:
            STAGING.drop(engine, checkfirst=True)
            drop_table(engine)
            engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
