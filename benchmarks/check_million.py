"""Time ``dbsession-check`` on a million sessions, half of them still pickled.

    python benchmarks/check_million.py                       # a SQLite file
    python benchmarks/check_million.py --url postgresql+psycopg://postgres@127.0.0.1/bench
    python benchmarks/check_million.py --url mysql+pymysql://root@127.0.0.1/bench --rows 200000

The database must be a scratch one: the script creates ``core_sessions``,
refuses to run if it already holds rows, and drops it at the end. It fills
``--rows`` live sessions of about 200 bytes, every other one pickled and the
others JSON, then times the whole check (``serializer = json``,
``fallback_serializer = pickle``) and the count of old-format rows alone for
each ``--batch-size``, ``--repeat`` times.
"""

from __future__ import annotations

import argparse
import io
import secrets
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from pyramid_dbsession.codec import Codec, JSONSerializer, PickleSerializer
from pyramid_dbsession.db.store import SessionStore, utcnow
from pyramid_dbsession.db.survey import old_format_rows
from pyramid_dbsession.models import create_table, drop_table, sessions_table
from pyramid_dbsession.scripts.check import main as check

SECRET = "benchmark-secret-that-is-long-enough-to-be-real"
CHUNK = 20_000
SESSION = {"user_id": 421337, "csrf_token": "x" * 40, "cart": [{"sku": f"sku-{n}", "qty": 1} for n in range(3)]}


def fill(engine: sa.Engine, rows: int) -> None:
    pickled = Codec((SECRET,), PickleSerializer())
    in_json = Codec((SECRET,), JSONSerializer())
    expire_date = utcnow() + timedelta(days=1)
    for start in range(0, rows, CHUNK):
        chunk = []
        for number in range(start, min(start + CHUNK, rows)):
            key = secrets.token_hex(32)
            data = (pickled if number % 2 else in_json).encode(key, SESSION)
            chunk.append(
                {
                    "session_key": key,
                    "session_data": data,
                    "expire_date": expire_date,
                    "created": expire_date - timedelta(days=1),
                    "data_size": len(data),
                    "version": 1,
                }
            )
        with engine.begin() as connection:
            connection.execute(sessions_table.insert(), chunk)


def time_check(url: str, directory: Path) -> tuple[float, str]:
    ini = directory / "bench.ini"
    ini.write_text(
        "[app:main]\nuse = egg:pyramid_dbsession\n"
        f"dbsession.url = {url.replace('%', '%%')}\ndbsession.secret = {SECRET}\n"
        "dbsession.serializer = json\ndbsession.fallback_serializer = pickle\n"
    )
    out = io.StringIO()
    started = time.perf_counter()
    check([str(ini)], stdout=out, stderr=sys.stderr)
    elapsed = time.perf_counter() - started
    return elapsed, next(line for line in out.getvalue().splitlines() if line.startswith("dbsession.W010"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a scratch database (default: a SQLite file in a temporary folder)")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, nargs="+", default=[200, 1000, 5000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as directory:
        url = args.url or f"sqlite:///{Path(directory) / 'bench.sqlite'}"
        engine = sa.create_engine(url)
        create_table(engine)
        with engine.connect() as connection:
            if connection.execute(sa.select(sa.func.count()).select_from(sessions_table)).scalar_one():
                sys.exit(f"{sessions_table.name} on {engine.url!r} holds rows: give a scratch database")
        try:
            started = time.perf_counter()
            fill(engine, args.rows)
            print(f"{args.rows:,} rows filled in {time.perf_counter() - started:.0f} s on {engine.dialect.name}")
            store = SessionStore(engine, Codec((SECRET,), JSONSerializer(), PickleSerializer()))
            for repeat in range(args.repeat):
                elapsed, counted = time_check(url, Path(directory))
                print(f"whole check, run {repeat + 1}: {elapsed:.2f} s ({counted.split(': ', 1)[1].split(';')[0]})")
                for batch_size in args.batch_size:
                    started = time.perf_counter()
                    old_format_rows(store, batch_size)
                    print(f"  old-format count, batches of {batch_size:,}: {time.perf_counter() - started:.2f} s")
        finally:
            drop_table(engine)
            engine.dispose()


if __name__ == "__main__":
    main()
