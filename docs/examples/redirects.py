"""Logging in with a redirect under pyramid_tm: returned, the session is kept; raised, it is not."""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPFound
from pyramid.request import Request
from pyramid.router import Router


def log_in(request: Request) -> HTTPFound:
    """Log the user in and redirect: the transaction commits, and the user is logged in."""
    request.session["auth.userid"] = request.params["user"]
    return HTTPFound(request.route_url("home"))


def log_in_raising(request: Request) -> HTTPFound:
    """The same with a raised redirect: the transaction aborts, and the user is not logged in."""
    request.session["auth.userid"] = request.params["user"]
    raise HTTPFound(request.route_url("home"))


def home(request: Request) -> dict[str, Any]:
    """Say who is logged in."""
    return {"user": request.session.get("auth.userid")}


def main(global_config: dict[str, Any], **settings: Any) -> Router:
    """Build the app from its .ini settings: ``dbsession.url`` and ``dbsession.secret`` at least."""
    with Configurator(settings=settings) as config:
        config.include("pyramid_dbsession")
        config.add_route("home", "/")
        config.add_route("log_in", "/login")
        config.add_route("log_in_raising", "/login-raising")
        config.add_view(home, route_name="home", renderer="json")
        config.add_view(log_in, route_name="log_in")
        config.add_view(log_in_raising, route_name="log_in_raising")
    return config.make_wsgi_app()
