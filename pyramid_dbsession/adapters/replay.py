"""Replays by pyramid_retry: a random pause before each, and the database's lost races tagged retryable."""

from __future__ import annotations

from collections.abc import Callable

from pyramid.config import Configurator
from pyramid.registry import Registry
from pyramid.request import Request
from pyramid.response import Response

from ..backoff import RetryPause
from ..db.transient import is_transient

Handler = Callable[[Request], Response]


def configure_replays(config: Configurator, retry_jitter: float) -> None:
    """If pyramid_retry is installed, add the tagging tween and a pause of up to ``retry_jitter`` seconds."""
    try:
        from pyramid_retry import IBeforeRetry
    except ImportError:  # without pyramid_retry nothing is ever replayed
        return
    config.add_tween("pyramid_dbsession.adapters.replay.transient_tween_factory", over="pyramid_tm.tm_tween_factory")
    if retry_jitter > 0:
        config.add_subscriber(RetryPause(retry_jitter), IBeforeRetry)


def transient_tween_factory(handler: Handler, registry: Registry) -> Handler:
    """Tag the database errors a replay can cure retryable, wherever pyramid_tm met them.

    pyramid_tm tags an error when ``transaction`` calls it retryable: a
    ``TransientError``, or what a joined data manager's ``should_retry``
    accepts (zope.sqlalchemy: MariaDB's 1213 and PostgreSQL's SQLSTATE class
    40). It does not ask for an error of the COMMIT that an exception view
    rendered, which is where Galera reports most of its conflicts, and no data
    manager accepts 1020, 1205 or 55P03 from the app's own statements. Sitting
    over pyramid_tm, this tween sees both the raised error and the one an
    exception view rendered (``request.exception``), and tags either.
    """
    from pyramid_retry import mark_error_retryable

    def transient_tween(request: Request) -> Response:
        try:
            response = handler(request)
        except Exception as exc:
            if is_transient(exc):
                mark_error_retryable(exc)
            raise
        rendered = getattr(request, "exception", None)
        if rendered is not None and is_transient(rendered):
            mark_error_retryable(rendered)
        return response

    return transient_tween
