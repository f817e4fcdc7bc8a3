"""A WSGI application with no framework, given database sessions by ``SessionMiddleware``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from pyramid_dbsession.wsgi import ENVIRON_KEY, SessionMiddleware


def count_visits(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Add one to this visitor's count, kept in the session, and say it."""
    session = environ[ENVIRON_KEY]
    session["visits"] = session.get("visits", 0) + 1
    body = f"{session['visits']} visits\n".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def make_app(url: str, secret: str) -> SessionMiddleware:
    """Wrap the application in code."""
    return SessionMiddleware(count_visits, url, secret, create_table=True)


def app_factory(global_config: dict[str, Any], **local_conf: Any) -> Callable[..., Iterable[bytes]]:
    """The bare application for PasteDeploy, which wraps it in the filter (see wsgi_counter.ini)."""
    return count_visits
