"""An app that built ``SignedCookieSessionFactory`` in code, moved to ``DBSessionFactory``."""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.router import Router

from pyramid_dbsession import DBSessionFactory


def remember_colour(request: Request) -> dict[str, str]:
    """Keep the colour asked for, or show the one kept."""
    if "colour" in request.params:
        request.session["colour"] = request.params["colour"]
    return {"colour": request.session.get("colour", "red")}


def main(global_config: dict[str, Any], **settings: Any) -> Router:
    """Build the app from its .ini settings: ``sqlalchemy.url`` and the app's own ``session.secret``."""
    with Configurator(settings=settings) as config:
        # Before: config.set_session_factory(SignedCookieSessionFactory(settings["session.secret"], timeout=1200))
        config.include("pyramid_tm")  # the session is written in the request's transaction
        factory = DBSessionFactory(settings["sqlalchemy.url"], settings["session.secret"], timeout=1200)
        config.set_session_factory(factory)
        config.add_route("colour", "/")
        config.add_view(remember_colour, route_name="colour", renderer="json")
    return config.make_wsgi_app()
