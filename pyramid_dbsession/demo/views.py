"""The demo's pages: home, visit counter, comments and this session's own data."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from pyramid.exceptions import BadCSRFToken
from pyramid.httpexceptions import HTTPFound
from pyramid.request import Request
from pyramid.view import view_config

from .models import Comment

#: The longest comment accepted, in characters.
MAX_COMMENT_LENGTH = 500


@view_config(route_name="home", renderer="templates/home.jinja2")
def home(request: Request) -> dict[str, Any]:
    """Link every page."""
    return {}


@view_config(route_name="counter", renderer="templates/counter.jinja2", request_method="GET")
def visit_counter(request: Request) -> dict[str, Any]:
    """Count this session's visits to the page."""
    visits = request.session.get("visits", 0) + 1
    request.session["visits"] = visits
    return {"visits": visits}


@view_config(route_name="counter_reset", request_method="POST")
def reset_counter(request: Request) -> HTTPFound:
    """Forget the visit count."""
    request.session.pop("visits", None)
    request.session.flash("The counter starts again.")
    return HTTPFound(request.route_url("counter"))


@view_config(route_name="comments", renderer="templates/comments.jinja2", request_method="GET")
def list_comments(request: Request) -> dict[str, Any]:
    """Show the comments, newest first, and the form unless this session has commented."""
    comments = request.dbsession.scalars(sa.select(Comment).order_by(Comment.id.desc())).all()
    return {
        "comments": comments,
        "has_commented": request.session.get("has_commented", False),
        "max_length": MAX_COMMENT_LENGTH,
    }


@view_config(route_name="comments", request_method="POST")
def post_comment(request: Request) -> HTTPFound:
    """Store a comment, once per session.

    The comment row and the session's ``has_commented`` are written in the
    same transaction: both are kept or neither is.
    """
    back = HTTPFound(request.route_url("comments"))
    if request.session.get("has_commented", False):
        request.session.flash("You've already commented.", "error")
        return back
    body = request.POST.get("comment", "").strip()
    if not body or len(body) > MAX_COMMENT_LENGTH:
        request.session.flash(f"A comment has 1 to {MAX_COMMENT_LENGTH} characters.", "error")
        return back
    author = request.user.username if request.user is not None else None
    request.dbsession.add(Comment(body=body, author=author))
    request.session["has_commented"] = True
    request.session.flash("Thanks for your comment!")
    return back


@view_config(route_name="session", renderer="templates/session.jinja2", request_method="GET")
def show_session(request: Request) -> dict[str, Any]:
    """Show this session's data, creation time and expiry."""
    session = request.session
    return {
        "data": sorted(session.items()),
        "new": session.new,
        "created": datetime.fromtimestamp(session.created, UTC),
        "expire_date": session.expire_date,
    }


@view_config(route_name="session_invalidate", request_method="POST")
def invalidate_session(request: Request) -> HTTPFound:
    """End this session: its row is deleted and a new, empty one begins."""
    request.session.invalidate()
    request.session.flash("Your session was invalidated: this is a new one.")
    return HTTPFound(request.route_url("session"))


@view_config(context=BadCSRFToken, renderer="templates/csrf.jinja2")
def bad_csrf_token(exc: BadCSRFToken, request: Request) -> dict[str, Any]:
    """Refuse a form that lacks this session's CSRF token, with a page saying why."""
    request.response.status_int = 400
    return {}
