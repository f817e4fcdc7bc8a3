"""The load test's server: the test views, pyramid_retry and waitress, in a process of their own.

    python -m tests.load.server --url URL --secret SECRET [--threads 8] [--settings JSON] [--include NAME]

prints ``serving on http://127.0.0.1:PORT`` once it listens, then serves until
terminated. Errors go to stderr through :mod:`logging`, as waitress logs them.
``GET /stats`` returns the retries pyramid_retry made, by exception class, and
the merges the store made instead of a retry.
``--settings`` adds app settings (a JSON object), ``--include`` Pyramid includes.
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import waitress
from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.router import Router
from pyramid_retry import IBeforeRetry

from tests.sessionapp import make_app

#: Attempts per request: a pair of concurrent writes needs two, leave room for more.
RETRY_ATTEMPTS = 5


class RetryCounter:
    """Counts pyramid_retry's retries by the class of the exception that caused them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def record(self, event: Any) -> None:
        with self._lock:
            self._counts[type(event.exception).__name__] += 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)


class MergeCounter(logging.Handler):
    """Counts the merges the store logs, on ``pyramid_dbsession.merge`` at DEBUG."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1  # under the handler's lock

    def attach(self) -> None:
        merge_log = logging.getLogger("pyramid_dbsession.merge")
        merge_log.setLevel(logging.DEBUG)
        merge_log.propagate = False  # counted, not written to the server's log
        merge_log.addHandler(self)


def make_load_app(
    url: str, secret: str, threads: int, extra: dict[str, Any] | None = None, includes: Sequence[str] = ()
) -> Router:
    """The test views under pyramid_tm and pyramid_retry, with ``/stats``, ``extra`` settings and ``includes``."""
    retries = RetryCounter()
    merges = MergeCounter()
    merges.attach()

    def stats(request: Request) -> dict[str, Any]:
        return {"retries": retries.snapshot(), "merges": merges.count}

    def configure(config: Configurator) -> None:
        config.add_settings({"retry.attempts": RETRY_ATTEMPTS})
        config.include("pyramid_retry")
        config.add_subscriber(retries.record, IBeforeRetry)
        config.add_route("stats", "/stats")
        config.add_view(stats, route_name="stats", renderer="json")
        for name in includes:
            config.include(name)

    settings = {
        "dbsession.url": url,
        "dbsession.secret": secret,
        "dbsession.serializer": "json",
        "dbsession.create_table": "true",
        # One connection per waitress thread; no pool_pre_ping: the store heals its pools itself.
        "dbsession.engine.pool_size": str(threads),
        "dbsession.engine.max_overflow": "0",
        **(extra or {}),
    }
    return make_app(settings, configure)


REPOSITORY = Path(__file__).resolve().parents[2]


@contextmanager
def running_server(
    url: str,
    secret: str,
    threads: int,
    log_path: Path,
    extra: dict[str, Any] | None = None,
    includes: Sequence[str] = (),
) -> Iterator[str]:
    """Run the load server in a child process; yield its base URL; its log goes to ``log_path``."""
    command = [sys.executable, "-m", "tests.load.server", "--url", url, "--secret", secret, "--threads", str(threads)]
    command += ["--settings", json.dumps(extra or {}), *(f"--include={name}" for name in includes)]
    with log_path.open("w") as log:
        process = subprocess.Popen(command, cwd=REPOSITORY, stdout=subprocess.PIPE, stderr=log, text=True)
        try:
            assert process.stdout is not None
            first_line = process.stdout.readline()
            if not first_line.startswith("serving on "):
                raise RuntimeError(f"the load server did not start: {log_path.read_text()[-2000:]}")
            yield first_line.removeprefix("serving on ").strip()
        finally:
            process.terminate()
            process.wait(30)
            assert process.stdout is not None
            process.stdout.close()


def main(argv: list[str] | None = None) -> None:
    """Serve the load app on a free port of 127.0.0.1 until terminated."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--settings", type=json.loads, default={})
    parser.add_argument("--include", action="append", default=[])
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    server = waitress.create_server(
        make_load_app(args.url, args.secret, args.threads, args.settings, args.include),
        host="127.0.0.1",
        port=0,
        threads=args.threads,
        connection_limit=1000,
    )
    print(f"serving on http://127.0.0.1:{server.effective_port}", flush=True)
    server.run()


if __name__ == "__main__":
    main()
