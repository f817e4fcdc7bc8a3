"""Pyramid includes for the topology runs: how each attempt ended, and an app that reads before it writes.

``tests.topologies.app`` counts, by kind, the exceptions pyramid_retry replayed
and those that ended a request as a 500, and serves them at ``GET /kinds``.
``tests.topologies.app.read_first`` gives the app a ``request.dbsession`` (set
``dbsession.request_dbsession = dbsession`` to write sessions through it) whose
first query, before the view, takes the transaction's snapshot, as an app
that loads its user does.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

import sqlalchemy as sa
import zope.sqlalchemy
from pyramid.config import Configurator
from pyramid.registry import Registry
from pyramid.request import Request
from pyramid.response import Response
from pyramid.tweens import INGRESS
from pyramid_retry import IBeforeRetry, is_error_retryable
from sqlalchemy.orm import Session as ORMSession

Handler = Callable[[Request], Response]


def describe(exc: BaseException) -> str:
    """A failure's kind: its class, the driver's code (or first words) and the statement it came from."""
    if hasattr(exc, "code") and not isinstance(exc, sa.exc.DBAPIError):
        return f"{type(exc).__name__} {exc.code}"  # pyramid_tm re-raises ``from None``: the cause is gone
    cause = exc if isinstance(exc, sa.exc.DBAPIError) else exc.__cause__
    if not isinstance(cause, sa.exc.DBAPIError):
        return type(exc).__name__
    orig = cause.orig
    args = getattr(orig, "args", ())
    code = args[0] if args and type(args[0]) is int else getattr(orig, "sqlstate", None)
    detail = code if code is not None else str(orig).strip().splitlines()[0][:140]
    where = cause.statement.split()[0] if cause.statement else "COMMIT or connect"
    return f"{type(exc).__name__} {detail} in {where}"


class Outcomes:
    """The kinds of exception replayed and of those that failed a request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.retried: Counter[str] = Counter()
        self.failed: Counter[str] = Counter()

    def count(self, counter: Counter[str], exc: BaseException) -> None:
        with self._lock:
            counter[describe(exc)] += 1

    def snapshot(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {"retried": dict(self.retried), "failed": dict(self.failed)}


def outcome_tween_factory(handler: Handler, registry: Registry) -> Handler:
    """Outermost: count the exceptions that end a request, after every tween had its say on retrying."""
    outcomes: Outcomes = registry.topology_outcomes

    def outcome_tween(request: Request) -> Response:
        try:
            return handler(request)
        except Exception as exc:
            if not is_error_retryable(request, exc):
                outcomes.count(outcomes.failed, exc)
            raise

    return outcome_tween


def includeme(config: Configurator) -> None:
    outcomes = config.registry.topology_outcomes = Outcomes()
    config.add_subscriber(lambda event: outcomes.count(outcomes.retried, event.exception), IBeforeRetry)
    config.add_tween("tests.topologies.app.outcome_tween_factory", under=INGRESS)
    config.add_route("kinds", "/kinds")
    config.add_view(lambda request: outcomes.snapshot(), route_name="kinds", renderer="json")


_FIRST_READ = sa.text("SELECT COUNT(*) FROM core_sessions WHERE session_key = ''")


def read_first_tween_factory(handler: Handler, registry: Registry) -> Handler:
    """Inside pyramid_tm: run the app's first query before the view."""

    def read_first_tween(request: Request) -> Response:
        request.dbsession.execute(_FIRST_READ)
        return handler(request)

    return read_first_tween


def read_first(config: Configurator) -> None:
    settings = config.get_settings()
    engine = sa.create_engine(
        settings["dbsession.url"], pool_size=int(settings["dbsession.engine.pool_size"]), max_overflow=0
    )

    def dbsession(request: Request) -> ORMSession:
        session = ORMSession(engine)
        zope.sqlalchemy.register(session, transaction_manager=request.tm)
        return session

    config.add_request_method(dbsession, "dbsession", reify=True)
    config.add_tween("tests.topologies.app.read_first_tween_factory", under="pyramid_tm.tm_tween_factory")


def kinds_line(title: str, kinds: dict[str, int]) -> str:
    """One line of counted kinds, most frequent first."""
    parts = [f"{count} x {kind}" for kind, count in sorted(kinds.items(), key=lambda item: -item[1])]
    return f"{title}: {sum(kinds.values())}" + (f" ({'; '.join(parts)})" if parts else "")
