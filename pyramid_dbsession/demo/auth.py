"""Logging in and out through Pyramid's ``SessionAuthenticationHelper``.

The helper keeps the user's id in the session as ``auth.userid``, the key
``dbsession.principal_key`` follows by default: writing it at login, or
removing it at logout, rotates the session by itself (a new id, a new CSRF
token, the old row deleted), so these views never call ``regenerate_id()``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from pyramid.authentication import SessionAuthenticationHelper
from pyramid.csrf import check_csrf_token
from pyramid.httpexceptions import HTTPFound
from pyramid.request import Request
from pyramid.view import view_config

from .models import DEMO_PASSWORD, DEMO_USERNAME, User
from .passwords import check_password

#: Keeps the logged-in user's id in ``request.session["auth.userid"]``.
SESSION_AUTH = SessionAuthenticationHelper()
#: How long "remember me" keeps a login: 30 days of inactivity.
REMEMBER_SECONDS = 30 * 24 * 3600
COOKIES_NEEDED = "Please enable cookies and try again."
BAD_CREDENTIALS = "Your username and password didn't match."


def _login_form(request: Request, error: str | None = None) -> dict[str, Any]:
    # The next POST tells whether the browser kept the session cookie.
    request.session.set_test_cookie()
    return {
        "error": error,
        "username": request.POST.get("username", ""),
        "demo_username": DEMO_USERNAME,
        "demo_password": DEMO_PASSWORD,
    }


@view_config(route_name="login", renderer="templates/login.jinja2", request_method="GET")
def login_form(request: Request) -> dict[str, Any]:
    """Show the login form and set the test cookie."""
    return _login_form(request)


# The CSRF check runs in the view, after the test cookie's: a browser that
# refuses cookies has no session to hold a token, and deserves a clear message.
@view_config(route_name="login", renderer="templates/login.jinja2", request_method="POST", require_csrf=False)
def login(request: Request) -> dict[str, Any] | HTTPFound:
    """Log a user in: the session rotates as it gains its user; "remember me" sets its lifetime.

    An unknown username costs a password check too, against a dummy hash,
    so the answer takes as long as for a wrong password.
    """
    session = request.session
    if not session.test_cookie_worked():
        return _login_form(request, COOKIES_NEEDED)
    check_csrf_token(request)
    session.delete_test_cookie()
    username = request.POST.get("username", "")
    user = request.dbsession.scalars(sa.select(User).where(User.username == username)).first()
    password_hash = None if user is None else user.password_hash
    # The password is checked first: an unknown user costs a check too (against a dummy hash).
    if not check_password(request.POST.get("password", ""), password_hash) or user is None:
        return _login_form(request, BAD_CREDENTIALS)
    # A visitor's data comes along; another user's, logged in before, does not.
    SESSION_AUTH.remember(request, user.id)
    # 0 ends the login when the browser closes; "remember me" keeps it 30 idle days.
    remember = bool(request.POST.get("remember"))
    session.set_expiry(REMEMBER_SECONDS if remember else 0)
    session["remember_me"] = remember
    session.flash(f"You're logged in as {user.username}.")
    return HTTPFound(request.route_url("account"))


@view_config(route_name="logout", request_method="POST")
def logout(request: Request) -> HTTPFound:
    """Log out: the session moves to a new id that keeps only the flash set here."""
    SESSION_AUTH.forget(request)
    request.session.flash("You're logged out.")
    return HTTPFound(request.route_url("home"))
