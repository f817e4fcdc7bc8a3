"""The demo app that ``pserve development.ini`` serves.

Read it as an example: :func:`main` wires the add-on the way an app built
from the Pyramid starter would, and the views in :mod:`.views`,
:mod:`.auth` and :mod:`.account` use ``request.session`` for a visit counter,
comments, logins, flash messages, CSRF tokens and a user's list of sessions.
"""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.router import Router
from sqlalchemy.orm import Session as ORMSession

from pyramid_dbsession import get_store

from .auth import SESSION_AUTH
from .models import User, get_session_factory, get_tm_session, setup_database

_SESSION_FACTORY_KEY = "demo.dbsession_factory"


def _dbsession(request: Request) -> ORMSession:
    return get_tm_session(request.registry[_SESSION_FACTORY_KEY], request.tm)


def _user(request: Request) -> User | None:
    user_id = SESSION_AUTH.authenticated_userid(request)
    return None if user_id is None else request.dbsession.get(User, user_id)


def main(global_config: dict[str, Any], **settings: Any) -> Router:
    """Build the demo WSGI app from the .ini settings."""
    # Session rows go through the app's own dbsession: one connection and one
    # commit for comments, users and sessions (SQLite allows one writer at a time).
    settings.setdefault("dbsession.request_dbsession", "dbsession")
    with Configurator(settings=settings) as config:
        config.include("pyramid_dbsession")
        config.include("pyramid_jinja2")
        config.commit()  # registers the session factory, whose engine the app shares
        engine = get_store(config.registry).engine
        setup_database(engine)
        config.registry[_SESSION_FACTORY_KEY] = get_session_factory(engine)
        config.add_request_method(_dbsession, "dbsession", reify=True)
        config.add_request_method(_user, "user", reify=True)
        config.set_default_csrf_options(require_csrf=True)
        config.add_static_view("static", "pyramid_dbsession.demo:static")
        config.add_route("home", "/")
        config.add_route("counter", "/counter")
        config.add_route("counter_reset", "/counter/reset")
        config.add_route("comments", "/comments")
        config.add_route("login", "/login")
        config.add_route("logout", "/logout")
        config.add_route("account", "/account")
        config.add_route("end_other_sessions", "/account/end-other-sessions")
        config.add_route("change_password", "/account/password")
        config.add_route("session", "/session")
        config.add_route("session_invalidate", "/session/invalidate")
        config.scan(".views")
        config.scan(".auth")
        config.scan(".account")
    return config.make_wsgi_app()
