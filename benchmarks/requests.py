"""Requests per second and SQL statements per request of pyramid_dbsession and its references.

Run from the repository root, with the ``bench`` extra installed (PostgreSQL
at the tests' URL, SQLite in a temporary file, Redis at 127.0.0.1:6379):

    .venv/bin/python benchmarks/requests.py --db sqlite --db postgresql

Four request kinds go through one tiny Pyramid app, called straight through
WSGI with prepared environs: ``untouched`` (the view ignores the session),
``new`` (a first request sets one key), ``read`` (a returning client reads a
key) and ``write`` (a returning client increments a counter), spread over 100
returning clients. Each case is warmed up, then timed in interleaved repeats;
the figure is the median, and min-max shows the machine's noise.

The same run measures the references: the app with pyramid_tm and no session
factory, Pyramid's ``SignedCookieSessionFactory``, pyramid_session_redis with
its defaults (skipped, with a note, when Redis is not reachable), and the
hand-written floor of ``floor.py``, in the request's transaction (the
transactional floor) or on autocommit connections (the autocommit floor).
Commits go to the disk as the library makes them; the floors commit the way
its fastest setting does (WAL on SQLite, ``synchronous_commit = off`` on
PostgreSQL). Statements are counted through SQLAlchemy engine events, BEGIN,
COMMIT and ROLLBACK included, except those SQLAlchemy reports on autocommit
connections, where the driver sends nothing.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import redis
import sqlalchemy as sa
from floor import AUTOCOMMIT, FloorSessionFactory
from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response
from pyramid.router import Router
from pyramid.session import SignedCookieSessionFactory
from pyramid_session_redis import RedisSessionFactory
from sqlalchemy.engine import Engine
from statements import statement_log

from pyramid_dbsession import get_store
from pyramid_dbsession.db.engines import use_sqlite_wal
from pyramid_dbsession.models import create_table, drop_table, sessions_table
from pyramid_dbsession.settings import DEFAULT_TIMEOUT

SECRET = "benchmark-secret-that-is-long-enough-to-be-real"
CLIENTS = 100
KINDS = ("untouched", "new", "read", "write")
SERVER_URLS = {
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "mariadb": "mysql+pymysql://root@127.0.0.1:3306/test",
}
#: Where the table with ``--rows`` filler rows lives, next to the empty one.
FILLED_SCHEMA = "dbsession_bench_filled"
#: A Redis database number of the benchmark's own: it is emptied at the start of each run.
REDIS_URL = "redis://127.0.0.1:6379/13"
#: How the floors' PostgreSQL connections commit: as pyramid_dbsession with ``synchronous_commit = off``.
ASYNC_COMMIT_OPTION = "-csynchronous_commit=off"

#: About 10 KB once pickled: what a shop keeps in a session with a long cart.
CART = [{"sku": f"SKU-{i:06d}", "quantity": i % 5 + 1, "title": f"Product number {i} in the cart"} for i in range(150)]


# -- the app -----------------------------------------------------------------------


def untouched(request: Request) -> Response:
    return Response(b"ok")


def new(request: Request) -> Response:
    request.session["user"] = "alice"
    return Response(b"ok")


def new_10k(request: Request) -> Response:
    request.session["user"] = "alice"
    request.session["cart"] = CART
    return Response(b"ok")


def read(request: Request) -> Response:
    return Response(request.session.get("user", "").encode())


def write(request: Request) -> Response:
    session = request.session
    session["counter"] = session.get("counter", 0) + 1
    return Response(b"ok")


VIEWS: dict[str, Callable[[Request], Response]] = {
    "untouched": untouched,
    "new": new,
    "new_10k": new_10k,
    "read": read,
    "write": write,
}


def build_app(subject: str, url: str | None = None, **options: Any) -> tuple[Router, Engine | None]:
    """Build the app for one subject (``dbsession``, ``cookie``, ``redis``, ``floor`` or ``none``).

    Return it with the engine its sessions use.
    """
    settings: dict[str, Any] = {}
    if subject == "dbsession":
        settings = {"dbsession.url": url, "dbsession.secret": SECRET}
        settings.update({f"dbsession.{key}": value for key, value in options.items()})
    engine = None
    with Configurator(settings=settings) as config:
        if subject == "dbsession":
            config.include("pyramid_dbsession")
        else:
            config.include("pyramid_tm")
        if subject == "cookie":
            # The same idle lifetime and reissue period as pyramid_dbsession's defaults.
            factory = SignedCookieSessionFactory(SECRET, timeout=DEFAULT_TIMEOUT, reissue_time=DEFAULT_TIMEOUT // 10)
            config.set_session_factory(factory)
        elif subject == "redis":
            config.set_session_factory(RedisSessionFactory(SECRET, redis_url=url))
        elif subject == "floor":
            engine = sa.create_engine(url, **(AUTOCOMMIT if options.get("autocommit") else {}))  # type: ignore[arg-type]
            use_sqlite_wal(engine)  # commits as pyramid_dbsession's on the same SQLite file
            config.set_session_factory(FloorSessionFactory(engine, **options))
        for name, view in VIEWS.items():
            config.add_route(name, f"/{name}")
            config.add_view(view, route_name=name)
    app = config.make_wsgi_app()
    if subject == "dbsession":
        engine = get_store(app.registry).engine
    return app, engine


# -- driving it through WSGI ---------------------------------------------------------


def environ_for(path: str) -> dict[str, Any]:
    """A GET request's environ, copied before each call."""
    return {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "localhost",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }


def call(app: Router, path: str, cookie: str | None) -> tuple[str, str | None]:
    """Run one request; return its status and the ``name=value`` of its Set-Cookie, if any."""
    environ = environ_for(path)
    if cookie:
        environ["HTTP_COOKIE"] = cookie
    answer: list[Any] = []
    body = app(environ, lambda status, headers, exc_info=None: answer.extend((status, headers)))
    b"".join(body)
    getattr(body, "close", lambda: None)()
    set_cookie = next((value for name, value in answer[1] if name == "Set-Cookie"), None)
    return answer[0], None if set_cookie is None else set_cookie.split(";", 1)[0]


@dataclass
class Case:
    """One subject answering one request kind on one database."""

    database: str
    subject: str
    kind: str
    app: Router
    path: str
    cookies: list[str | None]
    engine: Engine | None
    rates: list[float] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    statements: list[str] = field(default_factory=list)
    per_request: float = 0.0

    @property
    def rate(self) -> float:
        """One over the median time of all timed requests (with ``--wall-clock``: the median repeat)."""
        return 1 / statistics.median(self.times) if self.times else statistics.median(self.rates)

    def drive(self, count: int, *, wall_clock: bool = False) -> float:
        """Send ``count`` requests; return the requests per second of this batch.

        The rate is one over the median time of a request, which a busy
        machine's preemptions barely move, or with ``wall_clock`` the count
        over the time of the whole batch. Request times are kept in ``times``.
        """
        app, cookies, keep_cookie = self.app, self.cookies, self.kind == "write"
        base = environ_for(self.path)
        answer: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            answer[:] = (status, headers)

        clock = time.perf_counter
        times = [0.0] * count
        started = clock()
        for i in range(count):
            j = i % len(cookies)
            environ = base.copy()
            cookie = cookies[j]
            if cookie is not None:
                environ["HTTP_COOKIE"] = cookie
            request_started = clock()
            body = app(environ, start_response)
            b"".join(body)
            if hasattr(body, "close"):
                body.close()
            times[i] = clock() - request_started
            if keep_cookie:
                for name, value in answer[1]:
                    if name == "Set-Cookie":
                        cookies[j] = value.split(";", 1)[0]
        if wall_clock:
            return count / (clock() - started)
        self.times += times
        return 1 / statistics.median(times)


def returning_clients(app: Router, path: str = "/new") -> list[str | None]:
    """Create sessions for ``CLIENTS`` clients, each back once since; return their Cookie headers.

    The second request confirms pyramid_dbsession's row (its first write), as
    a returning browser's does, so that the timed reads do not.
    """
    cookies: list[str | None] = []
    for _ in range(CLIENTS):
        status, cookie = call(app, path, None)
        if not status.startswith("200") or cookie is None:
            raise SystemExit(f"{path} answered {status} without a session cookie")
        call(app, "/read", cookie)
        cookies.append(cookie)
    return cookies


# -- counting statements ------------------------------------------------------------------


def count_statements(case: Case, count: int = 20) -> None:
    """Run ``count`` checked requests with statements counted; fail loudly on a bad answer."""
    with statement_log() as words:
        status, cookie = call(case.app, case.path, case.cookies[0])
        first = list(words)
        for i in range(1, count):
            status, cookie = call(case.app, case.path, case.cookies[i % len(case.cookies)])
            if case.kind == "write" and cookie is not None:
                case.cookies[i % len(case.cookies)] = cookie
    if not status.startswith("200"):
        raise SystemExit(f"{case.subject} {case.kind} on {case.database} answered {status}")
    case.statements = first
    case.per_request = len(words) / count


# -- databases ------------------------------------------------------------------------


def database_urls(names: list[str], filled_rows: int) -> dict[str, str]:
    """Map each database label (``sqlite``, ``postgresql 1000000 rows``, ...) to its URL.

    SQLite files live in the temporary directory, on the disk: how a commit
    waits for it is what ``dbsession.sqlite_wal`` changes.
    """
    folder = os.path.join(tempfile.gettempdir(), "pyramid_dbsession_bench")
    os.makedirs(folder, exist_ok=True)
    urls = {}
    for name in names:
        if name == "sqlite":
            urls[name] = f"sqlite:///{folder}/empty.sqlite"
            if filled_rows:
                urls[f"{name} {filled_rows} rows"] = f"sqlite:///{folder}/filled.sqlite"
            continue
        url = sa.make_url(os.environ.get(f"DBSESSION_TEST_{name.upper()}_URL") or SERVER_URLS[name])
        urls[name] = _with_options(url, [])
        if filled_rows and name == "postgresql":
            urls[f"{name} {filled_rows} rows"] = _with_options(url, [f"-csearch_path={FILLED_SCHEMA}"])
    return urls


def floor_url(url: str) -> str:
    """The URL of the floors: on PostgreSQL, every commit of theirs is asynchronous."""
    parsed = sa.make_url(url)
    return _with_options(parsed, [ASYNC_COMMIT_OPTION]) if parsed.get_backend_name() == "postgresql" else url


def journal_url(url: str) -> str:
    """A SQLite file of its own beside ``url``'s, for the rollback journal (a file keeps WAL mode once set)."""
    return url.replace(".sqlite", "-journal-mode.sqlite")


def _with_options(url: sa.URL, options: list[str]) -> str:
    if options:
        url = url.update_query_dict({"options": " ".join(options)})
    return url.render_as_string(hide_password=False)


def prepare_empty(url: str) -> None:
    """Give ``url`` an empty ``core_sessions``; a SQLite file starts anew, in its default journal mode."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        for suffix in ("", "-wal", "-shm", "-journal"):
            if os.path.exists(parsed.database + suffix):
                os.remove(parsed.database + suffix)
    engine = sa.create_engine(url)
    drop_table(engine)
    create_table(engine)
    engine.dispose()


def prepare_filled(url: str, rows: int) -> None:
    """Make sure the table at ``url`` holds ``rows`` live filler rows besides the benchmark's."""
    engine = sa.create_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {FILLED_SCHEMA}"))
    create_table(engine)
    with engine.begin() as connection:
        filler = sessions_table.c.session_key.like("z%")
        present = connection.execute(sa.select(sa.func.count()).where(filler)).scalar_one()
        connection.execute(sessions_table.delete().where(sa.not_(filler)))
        if present == rows:
            engine.dispose()
            return
        connection.execute(sessions_table.delete())
        started = time.perf_counter()
        print(f"filling {engine.url.render_as_string()} with {rows} rows ...", flush=True)
        connection.execute(sa.text(_FILL_SQL[engine.dialect.name]), {"rows": rows})
    print(f"  filled in {time.perf_counter() - started:.0f} s", flush=True)
    engine.dispose()


# Filler keys start with "z", which no hex digest does, so the benchmark's own
# rows can be told apart and removed before each run.
_FILL_SQL = {
    "postgresql": """
        INSERT INTO core_sessions (session_key, session_data, expire_date, created, data_size, version)
        SELECT 'z' || substr(md5(i::text) || md5((i + 1)::text), 2), repeat('x', 300),
               (now() AT TIME ZONE 'utc') + (i % 1209600) * interval '1 second',
               (now() AT TIME ZONE 'utc'), 300, 1
        FROM generate_series(1, :rows) AS i
    """,
    "sqlite": """
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :rows)
        INSERT INTO core_sessions (session_key, session_data, expire_date, created, data_size, version)
        SELECT 'z' || substr(lower(hex(randomblob(32))), 2), hex(zeroblob(150)),
               datetime('now', '+' || (i % 1209600) || ' seconds'), datetime('now'), 300, 1
        FROM n
    """,
}


# -- the cases and the run ---------------------------------------------------------------

SUBJECTS = {
    "none": "pyramid_tm, no session factory",
    "cookie": "SignedCookieSessionFactory",
    "redis": "pyramid_session_redis",
    "floor": "floor, transactional",
    "floor_ac": "floor, autocommit",
    "dbsession": "pyramid_dbsession",
    "dbsession_journal": "pyramid_dbsession, sqlite_wal off",
    "dbsession_async": "pyramid_dbsession, synchronous_commit off",
    "dbsession_nodetect": "pyramid_dbsession, detect_changes off",
}
#: The subject that commits as the floors do, on each database: the one compared with them and with Redis.
FASTEST = {"postgresql": "dbsession_async"}


def cases_for(database: str, subject: str, app: Router, engine: Engine | None, kinds: tuple[str, ...]) -> list[Case]:
    """The cases of one app; returning clients are created here."""
    clients = returning_clients(app) if {"untouched", "read", "write"} & set(kinds) else []
    cases = []
    for kind in kinds:
        if kind == "new":
            cookies: list[str | None] = [None]
        elif kind == "read_10k":
            cookies = returning_clients(app, "/new_10k")
        else:
            cookies = list(clients)
        path = "/read" if kind == "read_10k" else f"/{kind}"
        cases.append(Case(database, subject, kind, app, path, cookies, engine))
    return cases


def redis_cases(url: str) -> list[Case]:
    """pyramid_session_redis's cases, on an emptied Redis database; none, with a note, if Redis is not there."""
    try:
        redis.Redis.from_url(url).flushdb()
    except redis.exceptions.ConnectionError as exc:
        print(f"note: Redis at {url} is not reachable ({exc}): pyramid_session_redis is not measured", flush=True)
        return []
    return cases_for("redis", "redis", *build_app("redis", url), KINDS)


def build_cases(urls: dict[str, str], filled_rows: int, redis_url: str) -> list[Case]:
    """Every case of the run: the references without SQL, then each database's."""
    app, _ = build_app("none")
    cases = [Case("no database", "none", "untouched", app, "/untouched", [None], None)]
    app, _ = build_app("cookie")
    cases += cases_for("no database", "cookie", app, None, KINDS)
    cases += redis_cases(redis_url)
    changing = ("new", "read", "write")
    for database, url in urls.items():
        if database.endswith(" rows"):
            prepare_filled(url, filled_rows)
            cases += cases_for(database, "dbsession", *build_app("dbsession", url), changing)
            continue
        prepare_empty(url)
        floors = floor_url(url)
        cases += cases_for(database, "floor", *build_app("floor", floors), (*KINDS, "read_10k"))
        cases += cases_for(database, "floor_ac", *build_app("floor", floors, autocommit=True), KINDS)
        cases += cases_for(database, "dbsession", *build_app("dbsession", url), (*KINDS, "read_10k"))
        if database == "sqlite":
            prepare_empty(journal_url(url))
            app, engine = build_app("dbsession", journal_url(url), sqlite_wal="false")
            cases += cases_for(database, "dbsession_journal", app, engine, changing)
        if database == "postgresql":
            app, engine = build_app("dbsession", url, synchronous_commit="off")
            cases += cases_for(database, "dbsession_async", app, engine, changing)
        app, engine = build_app("dbsession", url, detect_changes="false")
        cases += cases_for(database, "dbsession_nodetect", app, engine, ("read_10k",))
    return cases


def measure(cases: list[Case], count: int, repeats: int, seed: int, wall_clock: bool) -> None:
    """Count statements, warm up, then time every case in ``repeats`` shuffled rounds."""
    for case in cases:
        count_statements(case)
        case.drive(max(count // 4, 100))
        case.times.clear()
    order = list(cases)
    rng = random.Random(seed)
    started = time.perf_counter()
    for repeat in range(repeats):
        rng.shuffle(order)
        for case in order:
            case.rates.append(case.drive(count, wall_clock=wall_clock))
        if (repeat + 1) % max(repeats // 10, 1) == 0 or repeat + 1 == repeats:
            elapsed = time.perf_counter() - started
            print(f"  repeat {repeat + 1}/{repeats}: {elapsed:.0f} s", file=sys.stderr, flush=True)


# -- the report ------------------------------------------------------------------------------


def spread(case: Case) -> float:
    """The noise of a case: (max - min) / median of its repeats."""
    return (max(case.rates) - min(case.rates)) / statistics.median(case.rates)


def print_cases(cases: list[Case]) -> None:
    print(f"  {'kind':<10} {'subject':<38} {'req/s':>7} {'min-max':>13} {'noise':>6} {'stmts':>5}  statements")
    for case in cases:
        low, high = min(case.rates), max(case.rates)
        words = " ".join(case.statements) or "-"
        print(
            f"  {case.kind:<10} {SUBJECTS[case.subject]:<38} {case.rate:7.0f} {low:6.0f}-{high:<6.0f} "
            f"{spread(case):5.1%} {case.per_request:5.2f}  {words}"
        )


def verdict(value: float, target: float, *, at_most: bool = False) -> str:
    met = value <= target if at_most else value >= target
    return "met" if met else "MISSED"


def ratio_line(case: Case, find: Callable[[str, str, str], Case | None]) -> str:
    """A case's ratio to each reference measured for its kind."""
    references = [("none", "no database"), ("cookie", "no database"), ("redis", "redis")]
    references += [("floor", case.database), ("floor_ac", case.database)]
    ratios = []
    for subject, where in references:
        reference = find(where, subject, case.kind)
        if reference is not None:
            ratios.append(f"{case.rate / reference.rate:.2f}x {SUBJECTS[subject]}")
    return "; ".join(ratios)


def print_targets(database: str, find: Callable[[str, str, str], Case | None]) -> None:
    """Ratios of pyramid_dbsession to each reference, against the targets of the issues."""
    fastest = FASTEST.get(database, "dbsession")
    ours = {kind: find(database, "dbsession", kind) for kind in (*KINDS, "read_10k")}
    print(f"  ratios of pyramid_dbsession on {database}:")
    for subject in dict.fromkeys(("dbsession", fastest)):
        for kind in KINDS:
            case = find(database, subject, kind)
            if case is not None:
                print(f"    {kind:<10} {SUBJECTS[subject]}: {ratio_line(case, find)}")
    goals = [
        ("untouched", "dbsession", "none", "no database", 0.90),
        ("new", fastest, "floor", database, 0.85),
        ("write", fastest, "floor", database, 0.85),
        ("read", "dbsession", "floor", database, 1.80),
        ("new", "dbsession", "dbsession_journal", database, 2.00),
        ("write", "dbsession", "dbsession_journal", database, 2.00),
        ("read", "dbsession", "dbsession_journal", database, 1.00),
        ("write", "dbsession_async", "dbsession", database, 1.50),
    ]
    print("  targets:")
    for kind, subject, reference_subject, where, target in goals:
        case, reference = find(database, subject, kind), find(where, reference_subject, kind)
        if case is not None and reference is not None:
            ratio = case.rate / reference.rate
            versus = f"{SUBJECTS[subject]} / {SUBJECTS[reference_subject]}"
            print(f"    {kind:<10} {versus:<70} ≥ {target:.2f}x {ratio:5.2f}x  {verdict(ratio, target)}")
    off = find(database, "dbsession_nodetect", "read_10k")
    if ours["read_10k"] is not None and off is not None:
        cost = off.rate / ours["read_10k"].rate - 1
        print(f"    detect_changes on a 10 KB read ≤ 10 % of its time {cost:6.1%}  {verdict(cost, 0.10, at_most=True)}")
    limits = {"untouched": (0, True), "read": (1, True), "new": (3, False), "write": (4, False)}
    counts = []
    for kind, (limit, exact) in limits.items():
        case = ours[kind]
        if case is not None:
            met = case.per_request == limit if exact else case.per_request <= limit
            counts.append(
                f"{kind} {case.per_request:g} ({'=' if exact else '≤'} {limit}: {'met' if met else 'MISSED'})"
            )
    print("    statements per request: " + ", ".join(counts))


def print_filled(database: str, find: Callable[[str, str, str], Case | None]) -> None:
    empty = database.rsplit(" ", 2)[0]
    print(f"  {database} against the empty table of {empty}:")
    for kind in ("new", "read", "write"):
        filled, bare = find(database, "dbsession", kind), find(empty, "dbsession", kind)
        if filled is None or bare is None:
            continue
        ratio = filled.rate / bare.rate
        noise = max(spread(filled), spread(bare))
        within = "within noise" if abs(ratio - 1) <= noise else "BEYOND noise"
        print(f"    {kind:<10} {ratio:5.2f}x (noise of the two ±{noise:.1%}: {within})")


def report(cases: list[Case], count: int, repeats: int, wall_clock: bool) -> None:
    index = {(case.database, case.subject, case.kind): case for case in cases}

    def find(database: str, subject: str, kind: str) -> Case | None:
        return index.get((database, subject, kind))

    rate = "the median whole batch" if wall_clock else "the median of all timed requests"
    print(
        f"\nrequests per second (of {rate}): {repeats} interleaved repeats of {count} requests "
        f"({CLIENTS} returning clients); min-max of the repeats; noise = (max - min) / median"
    )
    print(
        f"python {platform.python_version()}, SQLAlchemy {sa.__version__}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    databases = list(dict.fromkeys(case.database for case in cases))
    for database in databases:
        print(f"\n{database}")
        print_cases([case for case in cases if case.database == database])
        if database.endswith(" rows"):
            print_filled(database, find)
        elif database not in {"no database", "redis"}:
            print_targets(database, find)
    noises = sorted(spread(case) for case in cases)
    print(
        f"\nmachine noise over all cases: {noises[0]:.1%} to {noises[-1]:.1%}, median {statistics.median(noises):.1%}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", action="append", choices=["sqlite", "postgresql", "mariadb"], help="repeatable")
    parser.add_argument("--requests", type=int, default=50, help="requests per case and repeat (50)")
    parser.add_argument("--repeats", type=int, default=60, help="interleaved repeats, at least 5 (60)")
    parser.add_argument("--rows", type=int, default=0, help="also measure a table holding this many rows")
    parser.add_argument("--wall-clock", action="store_true", help="rate of whole batches, not of the median request")
    parser.add_argument("--redis-url", default=REDIS_URL, help=f"pyramid_session_redis's database ({REDIS_URL})")
    parser.add_argument("--seed", type=int, default=7, help="seed of the order of the cases in each repeat")
    args = parser.parse_args(argv)
    urls = database_urls(args.db or ["sqlite"], args.rows)
    cases = build_cases(urls, args.rows, args.redis_url)
    measure(cases, args.requests, args.repeats, args.seed, args.wall_clock)
    report(cases, args.requests, args.repeats, args.wall_clock)
    for case in cases:
        if case.engine is not None:
            case.engine.dispose()


if __name__ == "__main__":
    main()
