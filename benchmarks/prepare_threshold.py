"""What turning off psycopg's server-side prepared statements costs on a direct PostgreSQL connection.

Run from the repository root, against a PostgreSQL server (not through pgbouncer):

    .venv/bin/python benchmarks/prepare_threshold.py [--url URL] [--repeats 40] [--batch 100]

psycopg prepares a statement on the server once it has run it five times on a
connection (``prepare_threshold = 5``); ``prepare_threshold = None`` never
does, so that each statement is parsed and planned again, which pgbouncer's
transaction pooling needs. Both settings are measured side by side, through the
library's own engines (``dbsession.engine.connect_args``): the store's SELECT
by key on its autocommit reader, its version-guarded UPDATE in a transaction of
its own, and whole requests that read or increment a session, called straight
through WSGI. Every case runs in short batches, interleaved in a shuffled order
on each repeat; the figures are medians of all the timed calls.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response
from pyramid.router import Router
from requests import environ_for as request_environ  # benchmarks/requests.py, beside this file

from pyramid_dbsession import SessionStore, get_store
from pyramid_dbsession.ids import new_session_id, session_key_for
from pyramid_dbsession.models import create_table, sessions_table

SECRET = "benchmark-secret-that-is-long-enough-to-be-real"
DEFAULT_URL = os.environ.get("DBSESSION_TEST_POSTGRESQL_URL") or "postgresql+psycopg://postgres@127.0.0.1:5432/test"
#: psycopg's default, and off.
THRESHOLDS: dict[str, int | None] = {"prepared (5)": 5, "unprepared (None)": None}
CLIENTS = 50
#: What is timed: the name printed, and the :class:`Subject` method that does it once.
OPERATIONS = {
    "SELECT by key (autocommit read)": "load",
    "UPDATE in its own transaction": "update",
    "request reading a session": "read_request",
    "request writing a session": "write_request",
}


def read(request: Request) -> Response:
    return Response(str(request.session.get("counter", 0)))


def write(request: Request) -> Response:
    request.session["counter"] = request.session.get("counter", 0) + 1
    return Response(str(request.session["counter"]))


def build_app(url: str, threshold: int | None) -> Router:
    """A two-view app whose session engines use ``threshold``; commits do not wait for the disk."""
    connect_args = {"prepare_threshold": threshold, "options": "-c synchronous_commit=off"}
    settings = {
        "dbsession.url": url,
        "dbsession.secret": SECRET,
        "dbsession.serializer": "json",
        "dbsession.engine.connect_args": connect_args,
    }
    with Configurator(settings=settings) as config:
        config.include("pyramid_dbsession")
        for view in (read, write):
            config.add_route(view.__name__, f"/{view.__name__}")
            config.add_view(view, route_name=view.__name__)
    return config.make_wsgi_app()


def environ_for(path: str, cookie: str | None) -> dict[str, Any]:
    """The request benchmark's GET environ, with the session cookie if given."""
    environ = request_environ(path)
    if cookie is not None:
        environ["HTTP_COOKIE"] = cookie
    return environ


def call(app: Router, path: str, cookie: str | None) -> str | None:
    """Run one request; return the ``name=value`` of its Set-Cookie, if any."""
    answer: list[Any] = []
    body = app(environ_for(path, cookie), lambda status, headers, exc_info=None: answer.extend((status, headers)))
    b"".join(body)
    getattr(body, "close", lambda: None)()
    if not answer[0].startswith("200"):
        raise RuntimeError(f"{path} answered {answer[0]}")
    return next((value.split(";", 1)[0] for name, value in answer[1] if name == "Set-Cookie"), None)


@dataclass
class Case:
    """One operation under one threshold, and every call's time in seconds."""

    operation: str
    setting: str
    run: Callable[[], None]
    times: list[float] = field(default_factory=list)
    batches: list[float] = field(default_factory=list)

    def drive(self, count: int) -> None:
        clock = time.perf_counter
        times = [0.0] * count
        for i in range(count):
            started = clock()
            self.run()
            times[i] = clock() - started
        self.times += times
        self.batches.append(statistics.median(times))

    def median_us(self) -> float:
        return statistics.median(self.times) * 1e6

    def quartiles_us(self) -> str:
        """The middle half of the batches' medians: how much the machine moved the figure."""
        low, _, high = statistics.quantiles(self.batches, n=4)
        return f"{low * 1e6:.0f}-{high * 1e6:.0f}"


class Subject:
    """The store and the app of one threshold, with sessions to work on."""

    def __init__(self, url: str, threshold: int | None) -> None:
        self.app = build_app(url, threshold)
        self.store: SessionStore = get_store(self.app.registry)
        self.cookies = [call(self.app, "/write", None) for _ in range(CLIENTS)]
        self.turn = 0
        session_id = new_session_id()
        self.key = session_key_for(session_id)
        now = self.store.now()
        self.text = self.store.codec.encode(self.key, {"counter": 0})
        self.expire = now.replace(year=now.year + 1)
        with self.store.engine.begin() as connection:
            self.store.insert(connection, self.key, self.text, now, self.expire)
        self.version = 1

    def next_cookie(self) -> str | None:
        self.turn = (self.turn + 1) % CLIENTS
        return self.cookies[self.turn]

    def load(self) -> None:
        self.store.load(self.key)

    def update(self) -> None:
        with self.store.engine.begin() as connection:
            if not self.store.update(connection, self.key, self.version, self.text, self.expire):
                raise RuntimeError("the benchmark's UPDATE found another version")
        self.version += 1

    def read_request(self) -> None:
        call(self.app, "/read", self.next_cookie())

    def write_request(self) -> None:
        call(self.app, "/write", self.next_cookie())

    def prepared_statements(self) -> int:
        """How many statements psycopg prepared on one of the writer's connections."""
        with self.store.engine.connect() as connection:
            return int(connection.execute(sa.text("SELECT count(*) FROM pg_prepared_statements")).scalar_one())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL, help="a PostgreSQL URL (psycopg), reached directly")
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    engine = sa.create_engine(args.url)
    create_table(engine)
    with engine.begin() as connection:
        connection.execute(sessions_table.delete())
        server = connection.execute(sa.text("SHOW server_version")).scalar_one()
    engine.dispose()

    subjects = {setting: Subject(args.url, threshold) for setting, threshold in THRESHOLDS.items()}
    cases = [
        Case(operation, setting, getattr(subject, method))
        for setting, subject in subjects.items()
        for operation, method in OPERATIONS.items()
    ]
    for case in cases:  # warm up: past the threshold, and every pooled connection made
        case.drive(20)
        case.times.clear()
        case.batches.clear()
    rng = random.Random(args.seed)
    for _ in range(args.repeats):
        rng.shuffle(cases)
        for case in cases:
            case.drive(args.batch)

    print(f"PostgreSQL {server} at {sa.make_url(args.url).render_as_string(hide_password=True)}, direct")
    print(f"Python {platform.python_version()}, {os.cpu_count()} CPUs; {args.repeats} repeats of {args.batch} calls")
    for setting, subject in subjects.items():
        print(f"  {setting}: {subject.prepared_statements()} statements prepared on a writer connection")
    print("median us per call (middle half of the batch medians)")
    print(f"{'operation':34} {'prepared':>18} {'unprepared':>18} {'costs':>18}")
    for operation in OPERATIONS:
        prepared, unprepared = (
            next(c for c in cases if c.operation == operation and c.setting == setting) for setting in THRESHOLDS
        )
        p, u = prepared.median_us(), unprepared.median_us()
        print(
            f"{operation:34} {p:6.0f} ({prepared.quartiles_us():>9}) {u:6.0f} ({unprepared.quartiles_us():>9}) "
            f"{u - p:+6.0f} us ({(u / p - 1) * 100:+5.1f} %)"
        )
    for subject in subjects.values():
        subject.store.dispose()


if __name__ == "__main__":
    main()
