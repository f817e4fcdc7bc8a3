"""What a change of principal does to the session, as a table: data as loaded, the view's steps -> what stays.

No database: the session loads a dict by hand, and the view's steps are
what Pyramid's ``SessionAuthenticationHelper`` and a flash do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest

from pyramid_dbsession.plan import LoadedRow, Policy
from pyramid_dbsession.session import CSRF_KEY, Session
from pyramid_dbsession.settings import FOLLOW_TIMEOUT

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
POLICY = Policy(
    timeout=timedelta(days=14),
    reissue=timedelta(days=1),
    absolute=None,
    cookie_max_age=FOLLOW_TIMEOUT,
    detect_changes=True,
    principal_key="auth.userid",
)
ROW = LoadedRow("id", "key", 3, NOW, NOW + timedelta(days=1), b"", None)
TOKEN = "t" * 64
Step = Callable[[Session], object]


def login(user: str) -> Step:
    return lambda session: session.__setitem__("auth.userid", user)


def logout(session: Session) -> None:
    session.pop("auth.userid", None)


def flash(session: Session) -> None:
    session.flash("logged out")


@dataclass(frozen=True)
class Case:
    loaded: dict[str, object]
    steps: tuple[Step, ...]
    #: The keys the session holds after the steps, and whether the id is regenerated.
    keys: set[str]
    rotated: bool
    policy: Policy = POLICY


CASES = {
    "login keeps the anonymous data": Case({"cart": 1}, (login("42"),), {"cart", "auth.userid"}, True),
    "login of the same user changes nothing": Case(
        {"auth.userid": "42", "cart": 1}, (login("42"),), {"auth.userid", "cart"}, False
    ),
    "another user keeps only what the request wrote": Case(
        {"auth.userid": "42", "cart": 1}, (flash, login("7")), {"auth.userid", "_f_"}, True
    ),
    "logout keeps the flash set after it": Case({"auth.userid": "42", "cart": 1}, (logout, flash), {"_f_"}, True),
    "logout of an anonymous session changes nothing": Case({"cart": 1}, (logout,), {"cart"}, False),
    "a principal equal as text is unchanged": Case({"auth.userid": 42}, (login("42"),), {"auth.userid"}, False),
    "without rotation logout keeps the data": Case(
        {"auth.userid": "42", "cart": 1}, (logout,), {"cart"}, False, replace(POLICY, rotate_on_principal_change=False)
    ),
    "without a principal key nothing rotates": Case(
        {"cart": 1}, (login("42"),), {"cart", "auth.userid"}, False, replace(POLICY, principal_key=None)
    ),
    "login after invalidate starts afresh": Case(
        {"auth.userid": "42", "cart": 1}, (Session.invalidate, login("7")), {"auth.userid"}, True
    ),
}


def session_of(data: dict[str, object], policy: Policy) -> Session:
    return Session(lambda: (ROW, dict(data)), policy, lambda: NOW, cookie_sent=True)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_rotation(case: Case) -> None:
    session = session_of(case.loaded, case.policy)
    for step in case.steps:
        step(session)
    assert (set(session.keys()), session.regenerated) == (case.keys, case.rotated)


@pytest.mark.parametrize("loaded", [{}, {"auth.userid": "42"}], ids=["login", "logout"])
def test_a_held_csrf_token_is_replaced_when_the_principal_changes(loaded: dict[str, object]) -> None:
    session = session_of({**loaded, CSRF_KEY: TOKEN}, POLICY)
    (logout if loaded else login("42"))(session)
    assert session.get_csrf_token() not in {TOKEN, None}


def test_no_csrf_token_is_made_for_a_session_that_held_none() -> None:
    session = session_of({}, POLICY)
    login("42")(session)
    assert CSRF_KEY not in session


def test_the_principal_as_loaded_is_recorded_for_the_plan() -> None:
    session = session_of({"auth.userid": 42}, POLICY)
    session.get("x")
    login("7")(session)
    assert session.recorded().principal_read == "42"
