"""The demo app that ``pserve development.ini`` serves."""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response
from pyramid.router import Router


def visit_counter(request: Request) -> Response:
    """Count this session's visits."""
    visits = request.session.get("visits", 0) + 1
    request.session["visits"] = visits
    return Response(f"You have visited this page {visits} time{'s' if visits != 1 else ''} in this session.\n")


def main(global_config: dict[str, Any], **settings: Any) -> Router:
    """Build the demo WSGI app from the .ini settings."""
    with Configurator(settings=settings) as config:
        config.include("pyramid_dbsession")
        config.add_route("home", "/")
        config.add_view(visit_counter, route_name="home")
    return config.make_wsgi_app()
