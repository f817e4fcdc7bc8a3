"""The quick start's application: one view that counts its visitor's visits in ``request.session``."""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.router import Router


def count_visits(request: Request) -> dict[str, int]:
    """Add one to this visitor's count, kept in the session, and show it."""
    visits = request.session.get("visits", 0) + 1
    request.session["visits"] = visits
    return {"visits": visits}


def main(global_config: dict[str, Any], **settings: Any) -> Router:
    """Build the app from its .ini settings: ``dbsession.url`` and ``dbsession.secret`` at least."""
    with Configurator(settings=settings) as config:
        config.include("pyramid_dbsession")  # includes pyramid_tm too
        config.add_route("visits", "/")
        config.add_view(count_visits, route_name="visits", renderer="json")
    return config.make_wsgi_app()
