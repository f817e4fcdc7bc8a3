"""Which headers a response gets, as a table: the plan, whether it committed -> Set-Cookie and Vary.

No database: the cookie policy and the header helper are pure.
"""

from __future__ import annotations

import pytest

from pyramid_dbsession.cookies import CookiePolicy, add_session_headers
from pyramid_dbsession.plan import CookieAction, WritePlan
from pyramid_dbsession.settings import Settings

POLICY = CookiePolicy(Settings(secrets=("x" * 32,)))
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
        ([], "c", False, [("Set-Cookie", "c"), ("Vary", "Cookie")]),
        ([("Vary", "Accept-Encoding")], None, True, [("Vary", "Accept-Encoding, Cookie")]),
        ([("vary", "cookie")], None, True, [("vary", "cookie")]),
        ([("Vary", "*")], None, True, [("Vary", "*")]),
    ],
    ids=["untouched", "read", "set", "merged into an existing Vary", "already there", "vary star"],
)
def test_session_headers(before, set_cookie, accessed, after):
    headers = list(before)
    add_session_headers(headers, set_cookie, accessed)
    assert headers == after
