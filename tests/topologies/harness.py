"""The topology runs' harness: the switch, the set-up scripts, and a load spread over several servers.

The topologies are started by ``.ci/topologies/*.sh up`` (``.ci/run`` does it);
the tests run only when ``DBSESSION_TOPOLOGIES=1`` says they are up, and then
fail, never skip, when one is not.
"""

from __future__ import annotations

import contextlib
import http.client
import itertools
import json
import os
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pyramid_dbsession.models import create_table, sessions_table

from ..load.client import LoadPlan, LoadRun
from ..load.server import running_server
from .app import kinds_line

REPOSITORY = Path(__file__).resolve().parents[2]
SCRIPTS = REPOSITORY / ".ci" / "topologies"
SECRET = "topology-test-secret-that-is-long-enough-to-be-real"
SERVER_THREADS = 8

needs_topologies = pytest.mark.skipif(
    os.environ.get("DBSESSION_TOPOLOGIES") != "1",
    reason="start them with .ci/topologies/NAME.sh up, then set DBSESSION_TOPOLOGIES=1 (.ci/run does both)",
)


def topology(script: str, *args: str) -> str:
    """Run ``.ci/topologies/SCRIPT.sh ARGS``; return what it printed."""
    result = subprocess.run([str(SCRIPTS / f"{script}.sh"), *args], capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"{script}.sh {' '.join(args)} failed: {result.stderr.strip() or result.stdout}")
    return result.stdout.strip()


@contextmanager
def empty_table(url: str) -> Iterator[Engine]:
    """An engine on ``url`` with ``core_sessions`` created and emptied, for checking the rows afterwards."""
    engine = sa.create_engine(url, pool_pre_ping=True)
    create_table(engine)
    with engine.begin() as connection:
        connection.execute(sessions_table.delete())
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def servers(
    urls: list[str], log_dir: Path, extra: dict[str, Any], includes: tuple[str, ...] = ()
) -> Iterator[list[str]]:
    """One load server per database URL, counting outcomes by kind; yield their base URLs."""
    with contextlib.ExitStack() as stack:
        yield [
            stack.enter_context(
                running_server(
                    url,
                    SECRET,
                    SERVER_THREADS,
                    log_dir / f"server-{index}.log",
                    extra,
                    ("tests.topologies.app", *includes),
                )
            )
            for index, url in enumerate(urls)
        ]


def kinds(base_url: str) -> dict[str, dict[str, int]]:
    """The exceptions a server replayed and those that failed its requests, by kind."""
    with urllib.request.urlopen(f"{base_url}/kinds", timeout=30) as response:
        return dict(json.load(response))


def kind_lines(base_urls: list[str]) -> tuple[list[str], dict[str, int], dict[str, int]]:
    """The servers' kinds summed: their lines, and the retried and failed counts."""
    retried: dict[str, int] = {}
    failed: dict[str, int] = {}
    for base_url in base_urls:
        counted = kinds(base_url)
        for total, part in ((retried, counted["retried"]), (failed, counted["failed"])):
            for kind, count in part.items():
                total[kind] = total.get(kind, 0) + count
    return [kinds_line("replays", retried), kinds_line("failed requests (5xx)", failed)], retried, failed


@dataclass(frozen=True)
class Answer:
    """When a server answered one request, and with what (None: the connection broke)."""

    port: int
    path: str
    ended: float
    status: int | None

    @property
    def failed(self) -> bool:
        """A 5xx or a broken connection that the view did not provoke on purpose."""
        return (self.status is None or self.status >= 500) and self.path != "/fail"


class TopologyRun(LoadRun):
    """A :class:`LoadRun` over several servers that remembers when each answer came.

    Each client thread takes its first connection to the next server in turn,
    then alternates: the two halves of a pair always go to different servers.
    """

    def __init__(self, base_urls: list[str], plan: LoadPlan, *, seed: int = 0) -> None:
        super().__init__(base_urls[0], plan, seed=seed)
        self.ports = [urlsplit(url).port or 80 for url in base_urls]
        self._turns = itertools.count()
        self._local = threading.local()
        self.answers: list[Answer] = []

    def _connection(self) -> http.client.HTTPConnection:
        if not hasattr(self._local, "turn"):
            with self._lock:
                self._local.turn = next(self._turns)
        port = self.ports[self._local.turn % len(self.ports)]
        self._local.turn += 1
        connection = http.client.HTTPConnection(self.host, port, timeout=60)
        with self._lock:
            self._connections.append(connection)
        return connection

    def _fetch(self, connection: http.client.HTTPConnection, jar: Any, path: str, *args: Any, **kwargs: Any) -> Any:
        response = super()._fetch(connection, jar, path, *args, **kwargs)
        with self._lock:
            self.answers.append(Answer(connection.port, path, time.monotonic(), response.status))
        return response

    def answered(self, *, port: int | None = None, since: float = 0.0, until: float = float("inf")) -> list[Answer]:
        """The answers (of one server) that came between ``since`` and ``until``."""
        with self._lock:
            answers = list(self.answers)
        return [a for a in answers if (port is None or a.port == port) and since <= a.ended <= until]

    def first_success(self, *, port: int | None = None, since: float, path: str | None = None) -> float | None:
        """When the first 200 (of one server, to one path) came after ``since``, or None."""
        answers = self.answered(port=port, since=since)
        return next((a.ended for a in answers if a.status == 200 and path in {None, a.path}), None)

    def at(self, moment: float) -> float:
        """``moment`` (a ``time.monotonic()``) in seconds since the run started."""
        return moment - self._started

    def longest_silence(self, port: int, since: float, until: float) -> float:
        """The longest time between ``since`` and ``until`` in which no request of one server succeeded."""
        moments = [since, *(a.ended for a in self.answered(port=port, since=since, until=until) if a.status == 200)]
        moments.append(until)
        return max(later - earlier for earlier, later in itertools.pairwise(moments))

    def failure_count(self, *, port: int | None = None, since: float = 0.0, until: float = float("inf")) -> int:
        return sum(a.failed for a in self.answered(port=port, since=since, until=until))


def wait_for(predicate: Any, timeout: float, what: str) -> None:
    """Poll ``predicate`` every 50 ms until it holds; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        time.sleep(0.05)
