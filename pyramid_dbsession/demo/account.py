"""The account page: the user's sessions, "log out everywhere else" and a password change.

Both actions end the user's other sessions with
``request.session.end_other_sessions()``, in the request's transaction: a
password change that fails, or whose commit fails, ends nothing.
"""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPFound
from pyramid.request import Request
from pyramid.view import view_config

from pyramid_dbsession import get_store

from .passwords import check_password, hash_password

#: The shortest new password accepted, in characters.
MIN_PASSWORD_LENGTH = 8


def _to_login(request: Request) -> HTTPFound:
    request.session.flash("Log in to see your account.", "error")
    return HTTPFound(request.route_url("login"))


@view_config(route_name="account", renderer="templates/account.jinja2", request_method="GET")
def account(request: Request) -> dict[str, Any] | HTTPFound:
    """Show the user's live sessions, newest first, this one marked; others are sent to the login form."""
    if request.user is None:
        return _to_login(request)
    this_row = request.session.loaded
    return {
        "remember_me": request.session.get("remember_me", False),
        "expire_date": request.session.expire_date,
        "sessions": get_store(request.registry).sessions_of(request.user.id),
        "this_session_key": None if this_row is None else this_row.session_key,
        "min_password_length": MIN_PASSWORD_LENGTH,
    }


@view_config(route_name="end_other_sessions", request_method="POST")
def end_other_sessions(request: Request) -> HTTPFound:
    """Log the user out of every other browser; this one stays logged in."""
    if request.user is None:
        return _to_login(request)
    request.session.end_other_sessions()
    request.session.flash("Your other sessions are logged out.")
    return HTTPFound(request.route_url("account"))


@view_config(route_name="change_password", request_method="POST")
def change_password(request: Request) -> HTTPFound:
    """Change the password, end the other sessions and give this one a new id, in one transaction."""
    user = request.user
    if user is None:
        return _to_login(request)
    back = HTTPFound(request.route_url("account"))
    if not check_password(request.POST.get("current_password", ""), user.password_hash):
        request.session.flash("Your current password didn't match.", "error")
        return back
    new_password = request.POST.get("new_password", "")
    if len(new_password) < MIN_PASSWORD_LENGTH:
        request.session.flash(f"A new password has at least {MIN_PASSWORD_LENGTH} characters.", "error")
        return back
    user.password_hash = hash_password(new_password)
    request.session.end_other_sessions()
    # Whoever copied this very cookie is shut out too.
    request.session.regenerate_id()
    request.session.flash("Your password is changed, and your other sessions are logged out.")
    return back
