"""Which headers a response gets, as a table: the plan, whether it committed -> Set-Cookie and Vary.

No database: the cookie policy and the header helper are pure.
"""

from __future__ import annotations

import pytest

from pyramid_dbsession.cookies import CookiePolicy, add_session_headers
from pyramid_dbsession.plan import CookieAction, WritePlan
from pyramid_dbsession.settings import Settings

POLICY = CookiePolicy(Settings(secrets=("x" * 32,)))
SECURE = CookiePolicy(Settings(secrets=("x" * 32,), cookie_secure=True))
SET = WritePlan(cookie=CookieAction.SET, max_age=None)
DELETE = WritePlan(cookie=CookieAction.DELETE)


@pytest.mark.parametrize(
    ("plan", "committed", "expected"),
    [
        (SET, True, "session=abc; Path=/; HttpOnly; SameSite=Lax"),
        (SET, False, None),
        (DELETE, True, POLICY.delete_header()),
        (DELETE, False, None),
        (WritePlan(), True, None),
    ],
    ids=["set after commit", "no set after abort", "delete after commit", "no delete after abort", "keep"],
)
def test_cookie_follows_the_plan_only_once_committed(plan, committed, expected):
    assert POLICY.header_for(plan, committed, "abc") == expected


@pytest.mark.parametrize(
    ("before", "set_cookie", "accessed", "after"),
    [
        ([], None, False, []),
        ([], None, True, [("Vary", "Cookie")]),
        ([], "c", False, [("Set-Cookie", "c"), ("Cache-Control", "private"), ("Vary", "Cookie")]),
        (
            [("Cache-Control", "public, max-age=60, s-maxage=600")],
            "c",
            False,
            [("Cache-Control", "private, max-age=60"), ("Set-Cookie", "c"), ("Vary", "Cookie")],
        ),
        (
            [("Cache-Control", "no-store")],
            "c",
            False,
            [("Cache-Control", "no-store"), ("Set-Cookie", "c"), ("Vary", "Cookie")],
        ),
        ([("Cache-Control", "public")], None, True, [("Cache-Control", "public"), ("Vary", "Cookie")]),
        ([("Vary", "Accept-Encoding")], None, True, [("Vary", "Accept-Encoding, Cookie")]),
        ([("vary", "cookie")], None, True, [("vary", "cookie")]),
        ([("Vary", "*")], None, True, [("Vary", "*")]),
    ],
    ids=[
        "untouched",
        "read",
        "set: private",
        "set: shared caching dropped",
        "set: no-store kept",
        "read: caching left alone",
        "merged into an existing Vary",
        "already there",
        "vary star",
    ],
)
def test_session_headers(before, set_cookie, accessed, after):
    headers = list(before)
    add_session_headers(headers, set_cookie, accessed)
    assert headers == after


@pytest.mark.parametrize(
    ("policy", "https", "secure"),
    [(POLICY, True, True), (POLICY, False, False), (SECURE, False, True)],
    ids=["auto over https", "auto over http", "true over http"],
)
def test_secure_follows_the_scheme_under_auto(policy, https, secure):
    assert ("; secure" in policy.header_for(SET, True, "abc", https=https).lower()) is secure
