"""Time the inspector on a table of a million sessions, a user's among them, and measure its peak memory.

    python benchmarks/inspector_million.py                     # a SQLite file in a temporary directory
    python benchmarks/inspector_million.py --rows 10000        # compare the memory with a small table
    python benchmarks/inspector_million.py --url postgresql+psycopg://postgres@127.0.0.1/bench

The database must be a scratch one: the script drops and recreates
``core_sessions``. A child process fills it with ``--rows`` signed sessions
(``--expired`` of them expired) through bulk inserts, so the parent's peak
memory is the inspector's alone: every fourth session has no user, the others
belong to 3/40 of ``rows`` users (75,000 for a million), ten sessions each. The parent then runs
the real app headless (``App.run_test``) and prints the time to the first
screen, to each page down, to open a detail view, to list one user's sessions
with ``@``, to log that user out with ``u``, to purge the expired rows, and the
peak RSS; then, for some users, the time their first page takes alone (without
the table-wide totals every filter change counts again) and the time
``SessionStore.sessions_of`` takes.

Steps are started by the actions their keys run and timed until their result
is on the screen's widgets; a page down's CPU time also covers painting it.
Pilot's own key presses are left out of the timings: each costs some 60 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
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
from textual.widgets import Input

from inspector import InspectorApp, SessionSource
from inspector.rows import Query
from inspector.screens.confirm_delete import ConfirmDeleteScreen
from inspector.screens.detail import DetailScreen
from pyramid_dbsession import DBSessionFactory
from pyramid_dbsession.models import create_table, drop_table, sessions_table

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SECRET = "benchmark-secret-benchmark-secret"
CHUNK = 20_000
PAGES = 20
#: Users whose first page and ``sessions_of`` are timed after the inspector's run.
SAMPLED_USERS = 50


def users_of(rows: int) -> int:
    """A tenth of ``rows``, rounded to a multiple of 4 (see :func:`principal_of`)."""
    return max(rows // 40, 1) * 4


def principal_of(number: int, users: int) -> str | None:
    """The user of session ``number``: none for every fourth, else its number modulo ``users``.

    With ``users`` a multiple of 4, the users numbered ``u % 4 != 0`` (three in
    four) have every session ``u + k * users``: ten each, for a tenth of ``rows``.
    """
    return None if number % 4 == 0 else str(number % users)


def clock() -> datetime:
    return NOW


def generate_rows(factory: DBSessionFactory, rows: int, expired: int) -> Iterator[list[dict[str, object]]]:
    """Yield chunks of signed rows; the first ``expired`` numbers are already expired."""
    codec = factory.store.codec
    users = users_of(rows)
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
                    "principal": principal_of(number, users),
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
    if engine.dialect.name == "sqlite" and engine.url.database:
        # Written with synchronous = OFF: flushed now, or the first timed write would pay for the whole file.
        with open(engine.url.database, "rb") as file:
            os.fsync(file.fileno())
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


def a_user(rows: int) -> tuple[str, int]:
    """A user with sessions, and how many they have."""
    users = users_of(rows)
    user = users // 2 + 3  # odd, so not a multiple of 4: a user with sessions, and none of time_user_reads'
    return str(user), sum(1 for number in range(user, rows, users) if principal_of(number, users) is not None)


async def measure(url: str, rows: int, expired: int, batch: int) -> dict[str, object]:
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

        user, sessions = a_user(rows)
        search = screen.query_one("#search", Input)
        pressed = time.perf_counter()
        search.value = f"@{user}"  # as if pasted: the filter follows every change of the box

        def only_the_user() -> bool:
            shown = screen.table.page.rows if screen.table.page else ()
            return screen.totals.matching == sessions and [row.principal for row in shown] == [user] * sessions

        figures["user filter"] = await wait_until(only_the_user, pilot, pressed)
        figures["user sessions"] = sessions

        pressed = time.perf_counter()
        screen.action_end_user_sessions()  # what the u key runs
        figures["log out question"] = await wait_until(
            lambda: isinstance(app.screen, ConfirmDeleteScreen) and app.screen.is_mounted, pilot, pressed
        )
        pressed = time.perf_counter()
        app.screen.action_confirm()  # what the y key runs
        figures["log out"] = await wait_until(
            lambda: app.screen is screen and screen.totals.all == rows - sessions, pilot, pressed
        )
        screen.action_back()  # what escape runs: the filter is cleared
        await wait_until(lambda: screen.totals.matching == rows - sessions, pilot)

        await pilot.press("x")
        pressed = time.perf_counter()
        await pilot.press("y")
        figures["purge"] = await wait_until(lambda: app.screen is screen and screen.totals.expired == 0, pilot, pressed)
        figures["rows left"] = screen.totals.all
    store.engine.dispose()
    return figures


def time_user_reads(url: str, rows: int) -> dict[str, list[float]]:
    """Seconds that a user's first page in the inspector and ``sessions_of`` take, for :data:`SAMPLED_USERS` users."""
    store = DBSessionFactory(url, SECRET, clock=clock).store
    source = SessionSource(store)
    users = users_of(rows)
    step = max(users // SAMPLED_USERS, 1)
    timings: dict[str, list[float]] = {"@user page": [], "sessions_of": []}
    for user in range(2, users, step)[:SAMPLED_USERS]:
        started = time.perf_counter()
        source.page(Query(principal=str(user)))
        paged = time.perf_counter()
        store.sessions_of(str(user))
        timings["@user page"].append(paged - started)
        timings["sessions_of"].append(time.perf_counter() - paged)
    store.engine.dispose()
    return timings


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

    figures = asyncio.run(measure(arguments.url, arguments.rows, arguments.expired, arguments.batch))
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
    user_filter = f"@user ({figures['user sessions']} sessions):"
    print(f"{user_filter:23}{figures['user filter'] * 1000:8.0f} ms (its page and the totals)")
    print(f"u, to the question:    {figures['log out question'] * 1000:8.0f} ms")
    print(f"y, to the next page:   {figures['log out'] * 1000:8.0f} ms (deleted, page and totals read again)")
    print(f"purge {arguments.expired:,} expired:  {figures['purge']:8.1f} s (batches of {arguments.batch:,})")
    print(f"rows left:             {figures['rows left']:,}")
    # ru_maxrss is in KiB on Linux; the fill ran in a child process, so this is the inspector's own peak.
    print(f"peak RSS:              {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:8.0f} MiB")
    for name, timings in time_user_reads(arguments.url, arguments.rows).items():
        print(
            f"{name} ({len(timings)} users): median {statistics.median(timings) * 1000:.1f} ms, "
            f"max {max(timings) * 1000:.1f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
