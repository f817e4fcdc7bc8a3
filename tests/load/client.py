"""LoadRun: many HTTP clients, each with its own cookie jar, against the load server.

Five kinds of client run at once until the plan's duration is over:

- readers own a session and mostly read it (``/show``), sometimes increment it;
- writers own a session and mostly increment its counter (``/incr``); now and
  then they call ``/fail``, a view that changes the session and raises (a
  provoked 500 that must store nothing);
- pairs own a session and send two increments at the same moment, on two
  connections, so one of them conflicts and pyramid_retry replays it;
- tabs own a session and send increments of two keys at the same moment, one
  key per connection (two tabs, each storing its own draft): the loser of the
  version check merges its write instead of replaying it;
- visitors arrive without a cookie, read, then start a session of their own.

Every client remembers the increments the server acknowledged (a 200), so the
stored counters can be checked against them afterwards. A 5xx or a broken
connection counts as provoked when it is a ``/fail`` or when the request
overlapped an outage the test announced; any other is unexpected.
"""

from __future__ import annotations

import dataclasses
import http.client
import itertools
import json
import random
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode, urlsplit

COOKIE_NAME = "session"
#: The session key ``/incr`` increments unless told another.
COUNTER = "counter"
#: The key the second tab of a session increments.
DRAFT = "draft"
#: How many unexpected responses a report describes in full.
SAMPLES = 10


@dataclass(frozen=True)
class LoadPlan:
    """How long to run and how many clients of each kind."""

    duration: float
    readers: int
    writers: int
    pairs: int
    visitors: int
    #: A writer calls ``/fail`` once in this many requests.
    fail_every: int = 40
    tabs: int = 0

    @property
    def threads(self) -> int:
        """Client threads the plan runs (a pair, and a tab client, are two)."""
        return self.readers + self.writers + 2 * self.pairs + 2 * self.tabs + self.visitors


@dataclass
class TrackedSession:
    """A counter of a session a client created, and what the server acknowledged about it."""

    owner: str
    session_id: str
    #: The session key holding the counter.
    key: str = COUNTER
    #: Increments answered with a 200.
    acknowledged: int = 0
    #: Increments that failed during an outage: the commit may or may not have happened.
    unacknowledged: int = 0


@dataclass(frozen=True)
class Response:
    """What a client saw: ``status`` is None when the connection broke."""

    status: int | None
    body: bytes
    set_cookie: str | None
    #: Whether a failure was provoked: a ``/fail``, or a request during an announced outage.
    provoked: bool = False

    def json(self) -> Any:
        return json.loads(self.body)


class CookieJar:
    """One client's cookies: only the session cookie matters here."""

    def __init__(self) -> None:
        self.session_id: str | None = None

    def headers(self) -> dict[str, str]:
        return {"Cookie": f"{COOKIE_NAME}={self.session_id}"} if self.session_id else {}

    def update(self, set_cookie: str | None) -> bool:
        """Store a Set-Cookie value; return False if it replaced or removed the session id."""
        if set_cookie is None:
            return True
        morsel = SimpleCookie(set_cookie).get(COOKIE_NAME)
        if morsel is None:
            return True
        previous = self.session_id
        self.session_id = None if morsel["max-age"] == "0" else morsel.value
        return previous is None or previous == self.session_id


class LoadRun:
    """Clients of a :class:`LoadPlan` against ``base_url``: :meth:`start`, then :meth:`join`."""

    def __init__(self, base_url: str, plan: LoadPlan, *, seed: int = 0) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.plan = plan
        self.seed = seed
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._threads: list[threading.Thread] = []
        self._names = itertools.count(1)
        self._deadline = 0.0
        self._started = 0.0
        self._outage: list[float] = []  # [down] or [down, up]
        self.latencies: list[float] = []
        self.statuses: Counter[str] = Counter()
        self.provoked: Counter[str] = Counter()
        self.unexpected: list[str] = []
        self.unexpected_count = 0
        self.foreign_data = 0
        self.replaced_ids = 0
        self.outage_failures = 0
        self.sessions: list[TrackedSession] = []
        self.errors: list[BaseException] = []
        self._connections: list[http.client.HTTPConnection] = []

    # -- the test's side --------------------------------------------------------------

    def start(self) -> None:
        """Start every client thread; they stop by themselves when the duration is over."""
        plan = self.plan
        self._started = time.monotonic()
        self._deadline = self._started + plan.duration
        roles: list[Callable[[random.Random], None]] = [
            *[self._reader] * plan.readers,
            *[self._writer] * plan.writers,
            *[self._pair] * plan.pairs,
            *[self._tabs] * plan.tabs,
            *[self._visitor] * plan.visitors,
        ]
        for index, role in enumerate(roles):
            thread = threading.Thread(target=self._guarded, args=(role, random.Random(self.seed * 1000 + index)))
            self._threads.append(thread)
            thread.start()

    def join(self) -> LoadReport:
        """Wait for every client and return what they saw."""
        for thread in self._threads:
            thread.join()
        for connection in self._connections:
            connection.close()
        if self.errors:
            raise self.errors[0]
        return LoadReport.of(self, time.monotonic() - self._started)

    def wait_until(self, predicate: Callable[[LoadRun], bool], timeout: float) -> bool:
        """Block until ``predicate(self)`` holds (checked after every request), or ``timeout`` passes."""
        with self._changed:
            return self._changed.wait_for(lambda: predicate(self), timeout)

    @property
    def requests(self) -> int:
        return len(self.latencies)

    def outage_begins(self) -> None:
        """Announce that the database is going down: failures from now on are provoked."""
        with self._lock:
            self._outage = [time.monotonic()]

    def outage_ends(self) -> None:
        """Announce that the database is back: requests that start from now on must succeed."""
        with self._lock:
            self._outage.append(time.monotonic())

    # -- the clients ------------------------------------------------------------------

    def _guarded(self, role: Callable[[random.Random], None], rng: random.Random) -> None:
        try:
            role(rng)
        except BaseException as exc:  # a broken client must fail the run, not vanish
            with self._changed:
                self.errors.append(exc)
                self._changed.notify_all()

    def _running(self) -> bool:
        return time.monotonic() < self._deadline

    def _owner(self, kind: str) -> str:
        return f"{kind}-{next(self._names)}"

    def _open_session(
        self, connection: http.client.HTTPConnection, jar: CookieJar, owner: str
    ) -> TrackedSession | None:
        """Start a session holding ``owner``; None if the request failed (provoked or not)."""
        response = self._fetch(connection, jar, "/set", {"owner": owner})
        if response.status != 200 or jar.session_id is None:
            return None
        return self._track(owner, jar.session_id, COUNTER)

    def _track(self, owner: str, session_id: str, key: str) -> TrackedSession:
        tracked = TrackedSession(owner, session_id, key)
        with self._lock:
            self.sessions.append(tracked)
        return tracked

    def _own_session(self, kind: str) -> tuple[http.client.HTTPConnection, CookieJar, TrackedSession] | None:
        connection, jar = self._connection(), CookieJar()
        owner = self._owner(kind)
        while self._running():
            tracked = self._open_session(connection, jar, owner)
            if tracked is not None:
                return connection, jar, tracked
        return None

    def _reader(self, rng: random.Random) -> None:
        owned = self._own_session("reader")
        while owned and self._running():
            connection, jar, tracked = owned
            if rng.random() < 0.9:
                self._read(connection, jar, tracked)
            else:
                self._increment(connection, jar, tracked)

    def _writer(self, rng: random.Random) -> None:
        owned = self._own_session("writer")
        while owned and self._running():
            connection, jar, tracked = owned
            draw = rng.random()
            if draw < 1 / self.plan.fail_every:
                self._fail(connection, jar, tracked)
            elif draw < 0.8:
                self._increment(connection, jar, tracked)
            else:
                self._read(connection, jar, tracked)

    def _pair(self, rng: random.Random) -> None:
        owned = self._own_session("pair")
        if owned is None:
            return
        _, jar, tracked = owned
        halves = [self._connection(), self._connection()]
        with ThreadPoolExecutor(max_workers=2) as pool:
            while self._running():
                both = [pool.submit(self._increment, connection, jar, tracked) for connection in halves]
                for half in both:
                    half.result()

    def _tabs(self, rng: random.Random) -> None:
        owned = self._own_session("tabs")
        if owned is None:
            return
        _, jar, counter = owned
        draft = self._track(counter.owner, counter.session_id, DRAFT)
        tabs = [(self._connection(), counter), (self._connection(), draft)]
        with ThreadPoolExecutor(max_workers=2) as pool:
            while self._running():
                both = [pool.submit(self._increment, connection, jar, tracked) for connection, tracked in tabs]
                for tab in both:
                    tab.result()

    def _visitor(self, rng: random.Random) -> None:
        connection = self._connection()
        while self._running():
            jar = CookieJar()
            first = self._fetch(connection, jar, "/show")
            if first.status == 200 and (first.json() != {} or first.set_cookie is not None):
                self._unexpected(f"a new visitor got {first.body!r} and Set-Cookie {first.set_cookie!r}")
            tracked = self._open_session(connection, jar, self._owner("visitor"))
            if tracked is not None:
                self._read(connection, jar, tracked)

    # -- requests -----------------------------------------------------------------------

    def _read(self, connection: http.client.HTTPConnection, jar: CookieJar, tracked: TrackedSession) -> None:
        with self._lock:
            floor = tracked.acknowledged
        response = self._fetch(connection, jar, "/show", tracked=tracked)
        if response.status != 200:
            return
        data = response.json()
        if data.get("owner") != tracked.owner:
            with self._lock:
                self.foreign_data += 1
            self._unexpected(f"{tracked.owner} read a session holding {data!r}")
        elif data.get(tracked.key, 0) < floor:
            self._unexpected(f"{tracked.owner} read {tracked.key} {data.get(tracked.key)} after {floor} acknowledged")

    def _increment(self, connection: http.client.HTTPConnection, jar: CookieJar, tracked: TrackedSession) -> None:
        params = None if tracked.key == COUNTER else {"key": tracked.key}
        response = self._fetch(connection, jar, "/incr", params, tracked=tracked)
        with self._lock:
            if response.status == 200:
                tracked.acknowledged += 1
            elif response.provoked:
                tracked.unacknowledged += 1

    def _fail(self, connection: http.client.HTTPConnection, jar: CookieJar, tracked: TrackedSession) -> None:
        self._fetch(connection, jar, "/fail", tracked=tracked)

    def _connection(self) -> http.client.HTTPConnection:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        with self._lock:
            self._connections.append(connection)
        return connection

    def _fetch(
        self,
        connection: http.client.HTTPConnection,
        jar: CookieJar,
        path: str,
        params: dict[str, str] | None = None,
        *,
        tracked: TrackedSession | None = None,
    ) -> Response:
        target = f"{path}?{urlencode(params)}" if params else path
        started = time.monotonic()
        try:
            connection.request("GET", target, headers=jar.headers())
            raw = connection.getresponse()
            response = Response(raw.status, raw.read(), raw.getheader("Set-Cookie"))
        except (OSError, http.client.HTTPException):
            connection.close()  # the next request reconnects
            response = Response(None, b"", None)
        ended = time.monotonic()
        kept = jar.update(response.set_cookie) if response.status is not None and response.status < 500 else True
        provoked = self._record(path, response, started, ended, replaced=tracked is not None and not kept)
        return dataclasses.replace(response, provoked=provoked)

    def _record(self, path: str, response: Response, started: float, ended: float, *, replaced: bool) -> bool:
        """Count one response; return whether it was a provoked failure."""
        status = response.status
        with self._changed:
            self.latencies.append(ended - started)
            self.statuses["broken" if status is None else str(status)] += 1
            provoked = False
            if status is None or status >= 500:
                if path == "/fail" and status == 500:
                    provoked = True
                    self.provoked["view raised"] += 1
                elif self._overlaps_outage(started, ended):
                    provoked = True
                    self.provoked["database down"] += 1
                    self.outage_failures += 1
                else:
                    self._note_unexpected(f"{path} answered {status or 'nothing'}: {response.body[:200]!r}")
            elif path == "/fail":
                self._note_unexpected(f"/fail answered {status}")
            if replaced:
                self.replaced_ids += 1
                self._note_unexpected(f"{path} replaced or removed the session cookie: {response.set_cookie!r}")
            self._changed.notify_all()
        return provoked

    def _overlaps_outage(self, started: float, ended: float) -> bool:
        if not self._outage:
            return False
        down = self._outage[0]
        up = self._outage[1] if len(self._outage) > 1 else float("inf")
        return started <= up and ended >= down

    def _unexpected(self, description: str) -> None:
        with self._lock:
            self._note_unexpected(description)

    def _note_unexpected(self, description: str) -> None:
        self.unexpected_count += 1
        if len(self.unexpected) < SAMPLES:
            self.unexpected.append(description)


@dataclass
class LoadReport:
    """The figures of a finished :class:`LoadRun`."""

    plan: LoadPlan
    elapsed: float
    requests: int
    latency_ms: dict[str, float]
    statuses: dict[str, int]
    provoked: dict[str, int]
    unexpected_count: int
    unexpected: list[str]
    foreign_data: int
    replaced_ids: int
    sessions: list[TrackedSession] = field(repr=False)

    @classmethod
    def of(cls, run: LoadRun, elapsed: float) -> LoadReport:
        latencies = sorted(run.latencies)
        cuts = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else latencies * 99
        return cls(
            plan=run.plan,
            elapsed=elapsed,
            requests=len(latencies),
            latency_ms={
                "p50": cuts[49] * 1000,
                "p90": cuts[89] * 1000,
                "p99": cuts[98] * 1000,
                "max": (latencies[-1] if latencies else 0.0) * 1000,
            },
            statuses=dict(run.statuses),
            provoked=dict(run.provoked),
            unexpected_count=run.unexpected_count,
            unexpected=list(run.unexpected),
            foreign_data=run.foreign_data,
            replaced_ids=run.replaced_ids,
            sessions=list(run.sessions),
        )

    @property
    def server_errors(self) -> int:
        """Responses with a 5xx status, provoked or not."""
        return sum(count for status, count in self.statuses.items() if status.startswith("5"))

    def lines(self) -> list[str]:
        """The figures, one line each, for the terminal."""
        plan = self.plan
        latency = " ".join(f"{name} {value:.1f}" for name, value in self.latency_ms.items())
        return [
            f"clients: {plan.threads} threads ({plan.readers} readers, {plan.writers} writers, {plan.pairs} pairs "
            f"of 2, {plan.tabs} sessions in 2 tabs, {plan.visitors} visitors) for {self.elapsed:.1f} s",
            f"requests: {self.requests} ({self.requests / self.elapsed:.0f}/s); latency ms: {latency}",
            f"responses: {dict(sorted(self.statuses.items()))}; 5xx: {self.server_errors}, "
            f"provoked: {self.provoked or 0}, unexpected: {self.unexpected_count}",
            f"someone else's data seen: {self.foreign_data}; session ids replaced: {self.replaced_ids}",
        ]
