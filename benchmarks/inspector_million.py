"""Time the inspector on a table of a million sessions, and measure its peak memory.

    python benchmarks/inspector_million.py                     # a SQLite file in a temporary directory
    python benchmarks/inspector_million.py --rows 10000        # compare the memory with a small table
    python benchmarks/inspector_million.py --url postgresql+psycopg://postgres@127.0.0.1/bench

The database must be a scratch one: the script drops and recreates
``core_sessions``. A child process fills it with ``--rows`` signed sessions
(``--expired`` of them expired) through bulk inserts, so the parent's peak
memory is the inspector's alone. The parent then runs the real app headless
(``App.run_test``) and prints the time to the first screen, to each page down,
to open a detail view, to purge the expired rows, and the peak RSS.

Steps are started by the actions their keys run and timed until their result
is on the screen's widgets; a page down's CPU time also covers painting it.
Pilot's own key presses are left out of the timings: each costs some 60 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from inspector import InspectorApp, SessionSource
from inspector.screens.detail import DetailScreen
from pyramid_dbsession import DBSessionFactory
from pyramid_dbsession.models import create_table, drop_table, sessions_table

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SECRET = "benchmark-secret-benchmark-secret"
CHUNK = 20_000
PAGES = 20


def clock() -> datetime:
    return NOW


def generate_rows(factory: DBSessionFactory, rows: int, expired: int) -> Iterator[list[dict[str, object]]]:
    """Yield chunks of signed rows; the first ``expired`` numbers are already expired."""
    codec = factory.store.codec
    for offset in range(0, rows, CHUNK):
        chunk = []
        for number in range(offset, min(offset + CHUNK, rows)):
            key = hashlib.sha256(b"bench-%d" % number).hexdigest()
            data = {"user_id": number, "cart": list(range(number % 7)), "locale": "en"}
            text = codec.encode(key, data)
            live = number >= expired
            expire = NOW + timedelta(seconds=(number % 86_400) + 60 if live else -((number % 86_400) + 60))
            chunk.append(
                {
                    "session_key": key,
                    "session_data": text,
                    "data_size": len(text),
                    "created": NOW - timedelta(seconds=number % 1_209_600),
                    "expire_date": expire,
                    "version": 1,
                }
            )
        yield chunk


def fill(url: str, rows: int, expired: int) -> None:
    """Recreate ``core_sessions`` and insert the rows, in chunks of :data:`CHUNK`."""
    factory = DBSessionFactory(url, SECRET, clock=clock)
    engine = factory.store.engine
    drop_table(engine)
    create_table(engine)
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA synchronous = OFF")
        for chunk in generate_rows(factory, rows, expired):
            connection.execute(sessions_table.insert(), chunk)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE core_sessions")
    engine.dispose()


async def wait_until(
    condition: Callable[[], bool], pilot: object, started: float | None = None, timeout: float = 600.0
) -> float:
    """Pause the pilot until ``condition`` holds; return the seconds since ``started`` (default: now)."""
    started = time.perf_counter() if started is None else started
    while not condition():
        if time.perf_counter() - started > timeout:
            raise TimeoutError("the inspector did not get there in time")
        # Not pilot.pause(): it costs some 60 ms of its own, more than the step being timed.
        await asyncio.sleep(0.001)
    return time.perf_counter() - started


async def measure(url: str, expired: int, batch: int) -> dict[str, object]:
    """Drive the inspector headless and time each step."""
    store = DBSessionFactory(url, SECRET, clock=clock).store
    app = InspectorApp(SessionSource(store), refresh_seconds=0, purge_batch=batch)
    figures: dict[str, object] = {}
    started = time.perf_counter()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        await wait_until(lambda: screen.table.row_count > 0 and screen.totals is not None, pilot)
        figures["first screen"] = time.perf_counter() - started

        pages: list[float] = []
        page_cpu: list[float] = []
        for _ in range(PAGES):
            shown = screen.table.page
            screen.table.move_cursor(row=screen.table.row_count - 1)  # on the last row pagedown turns the page
            await pilot.pause()
            pressed, cpu = time.perf_counter(), time.process_time()
            screen.table.action_page_down()  # what the pagedown key runs
            pages.append(await wait_until(lambda shown=shown: screen.table.page is not shown, pilot, pressed))
            await pilot.pause()  # let the new page be painted, and count that in the CPU
            page_cpu.append(time.process_time() - cpu)
        figures["page down"] = pages
        figures["page down cpu"] = page_cpu

        pressed = time.perf_counter()
        screen.action_open_detail()  # what the enter key runs
        figures["open detail"] = await wait_until(
            lambda: isinstance(app.screen, DetailScreen) and app.screen.detail is not None, pilot, pressed
        )
        await pilot.press("escape")

        await pilot.press("x")
        pressed = time.perf_counter()
        await pilot.press("y")
        figures["purge"] = await wait_until(lambda: app.screen is screen and screen.totals.expired == 0, pilot, pressed)
        figures["rows left"] = screen.totals.all
    store.engine.dispose()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a scratch database (default: a SQLite file in a temporary directory)")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--expired", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=5_000, help="rows per purge transaction")
    parser.add_argument("--fill-only", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.url is None:
        directory = tempfile.mkdtemp(prefix="inspector-bench-")
        arguments.url = f"sqlite:///{Path(directory) / 'sessions.sqlite'}"
    if arguments.fill_only:
        fill(arguments.url, arguments.rows, arguments.expired)
        return 0

    started = time.perf_counter()
    command = [sys.executable, __file__, "--fill-only", "--url", arguments.url]
    subprocess.run([*command, "--rows", str(arguments.rows), "--expired", str(arguments.expired)], check=True)
    print(
        f"filled {arguments.rows:,} sessions ({arguments.expired:,} expired) in {time.perf_counter() - started:.1f} s"
    )
    print(f"database: {sa.make_url(arguments.url).render_as_string(hide_password=True)}")

    figures = asyncio.run(measure(arguments.url, arguments.expired, arguments.batch))
    pages: list[float] = figures["page down"]  # type: ignore[assignment]
    print(f"first screen:          {figures['first screen'] * 1000:8.0f} ms")
    print(
        f"page down ({PAGES} pages):  median {statistics.median(pages) * 1000:.0f} ms, max {max(pages) * 1000:.0f} ms"
    )
    cpu: list[float] = figures["page down cpu"]  # type: ignore[assignment]
    print(
        f"  CPU per page down:   median {statistics.median(cpu) * 1000:.0f} ms (all threads; the machine's load aside)"
    )
    print(f"open detail:           {figures['open detail'] * 1000:8.0f} ms")
    print(f"purge {arguments.expired:,} expired:  {figures['purge']:8.1f} s (batches of {arguments.batch:,})")
    print(f"rows left:             {figures['rows left']:,}")
    # ru_maxrss is in KiB on Linux; the fill ran in a child process, so this is the inspector's own peak.
    print(f"peak RSS:              {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:8.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
