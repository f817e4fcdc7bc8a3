"""The rules that end a request, as a table: loaded row, what the request did, clock -> plan.

No database: each case builds the inputs of :func:`plan_write` by hand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pyramid_dbsession.merge import Access
from pyramid_dbsession.plan import (
    NOTHING,
    CookieAction,
    Delete,
    EndOthers,
    Insert,
    LoadedRow,
    Policy,
    Recorded,
    Touch,
    Update,
    WritePlan,
    expiry,
    plan_write,
)
from pyramid_dbsession.settings import FOLLOW_TIMEOUT

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
POLICY = Policy(timeout=14 * DAY, reissue=DAY, absolute=None, cookie_max_age=FOLLOW_TIMEOUT, detect_changes=True)
CREATED = NOW - 3 * DAY
TWO_WEEKS = int((14 * DAY).total_seconds())
WITH_USERS = replace(POLICY, principal_key="auth.userid")
USER = {"auth.userid": 42, "a": 1}
MERGING = replace(POLICY, merge_conflicts=True)
#: Every write reads the session's own expiry, since the new expiry depends on it.
READS_EXPIRY = frozenset({"_expiry"})


def dumps(data: dict[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True).encode()


def row(data: dict[str, Any], expires_in: timedelta = 14 * DAY - HOUR, own: int | None = None) -> LoadedRow:
    """A row stored an hour ago (by default), holding ``data``."""
    return LoadedRow("id", "key", 7, CREATED, NOW + expires_in, dumps(data), own)


@dataclass(frozen=True)
class Case:
    loaded: LoadedRow | None
    recorded: Recorded
    plan: WritePlan
    policy: Policy = field(default=POLICY)


CASES = {
    "untouched session plans nothing": Case(None, Recorded(None, NOW), NOTHING),
    "new session with data is inserted and its cookie set": Case(
        None,
        Recorded({"a": 1}, NOW, modified=True),
        WritePlan(
            insert=Insert(dumps({"a": 1}), NOW, NOW + 14 * DAY),
            cookie=CookieAction.SET,
            max_age=TWO_WEEKS,
            expire_date=NOW + 14 * DAY,
        ),
    ),
    "new empty session without a cookie plans nothing": Case(None, Recorded({}, NOW), WritePlan()),
    "empty session with a stale cookie deletes the cookie only": Case(
        None, Recorded({}, NOW, cookie_sent=True), WritePlan(cookie=CookieAction.DELETE)
    ),
    "read before the reissue time keeps the row and the cookie": Case(
        row({"a": 1}), Recorded({"a": 1}, CREATED), WritePlan(expire_date=NOW + 14 * DAY - HOUR)
    ),
    "read after the reissue time touches the expiry and sends the cookie": Case(
        row({"a": 1}, expires_in=12 * DAY),
        Recorded({"a": 1}, CREATED),
        WritePlan(
            touch=Touch("key", NOW + 14 * DAY),
            cookie=CookieAction.SET,
            max_age=TWO_WEEKS,
            expire_date=NOW + 14 * DAY,
        ),
    ),
    "change before the reissue time keeps the expiry and the cookie": Case(
        row({"a": 1}),
        Recorded({"a": 2}, CREATED, modified=True),
        WritePlan(
            update=Update("key", 7, dumps({"a": 2}), NOW + 14 * DAY - HOUR),
            expire_date=NOW + 14 * DAY - HOUR,
        ),
    ),
    "change after the reissue time moves the expiry and sends the cookie": Case(
        row({"a": 1}, expires_in=12 * DAY),
        Recorded({"a": 2}, CREATED, modified=True),
        WritePlan(
            update=Update("key", 7, dumps({"a": 2}), NOW + 14 * DAY),
            cookie=CookieAction.SET,
            max_age=TWO_WEEKS,
            expire_date=NOW + 14 * DAY,
        ),
    ),
    "setting a value it already had writes nothing": Case(
        row({"a": 1}),
        Recorded({"a": 1}, CREATED, modified=True),
        WritePlan(expire_date=NOW + 14 * DAY - HOUR),
    ),
    "a handed-out value changed in place is detected": Case(
        row({"cart": []}),
        Recorded({"cart": ["book"]}, CREATED, exposed=True),
        WritePlan(
            update=Update("key", 7, dumps({"cart": ["book"]}), NOW + 14 * DAY - HOUR),
            expire_date=NOW + 14 * DAY - HOUR,
        ),
    ),
    "without detect_changes an in-place change needs changed()": Case(
        row({"cart": []}),
        Recorded({"cart": ["book"]}, CREATED, exposed=True),
        WritePlan(expire_date=NOW + 14 * DAY - HOUR),
        replace(POLICY, detect_changes=False),
    ),
    "an emptied session deletes its row and its cookie": Case(
        row({"a": 1}),
        Recorded({}, CREATED, modified=True, cookie_sent=True),
        WritePlan(delete=Delete("key"), cookie=CookieAction.DELETE),
    ),
    "invalidate deletes the row whatever its version": Case(
        row({"a": 1}),
        Recorded({}, NOW, modified=True, invalidated=True, cookie_sent=True),
        WritePlan(delete=Delete("key"), cookie=CookieAction.DELETE),
    ),
    "data set after invalidate goes to a new session": Case(
        row({"a": 1}),
        Recorded({"b": 2}, NOW, modified=True, invalidated=True, cookie_sent=True),
        WritePlan(
            delete=Delete("key"),
            insert=Insert(dumps({"b": 2}), NOW, NOW + 14 * DAY),
            cookie=CookieAction.SET,
            max_age=TWO_WEEKS,
            expire_date=NOW + 14 * DAY,
        ),
    ),
    "regenerate carries the data only from the row read, at its version": Case(
        row({"a": 1}),
        Recorded({"a": 1}, CREATED, modified=True, regenerated=True, cookie_sent=True),
        WritePlan(
            delete=Delete("key", 7),
            insert=Insert(dumps({"a": 1}), CREATED, NOW + 14 * DAY),
            cookie=CookieAction.SET,
            max_age=TWO_WEEKS,
            expire_date=NOW + 14 * DAY,
        ),
    ),
    "set_expiry(0) makes a browser-session cookie at once": Case(
        row({"a": 1}),
        Recorded({"a": 1, "_expiry": 0}, CREATED, modified=True),
        WritePlan(
            update=Update("key", 7, dumps({"a": 1, "_expiry": 0}), NOW + 14 * DAY),
            cookie=CookieAction.SET,
            max_age=None,
            expire_date=NOW + 14 * DAY,
        ),
    ),
    "a shorter own expiry is written and sent at once": Case(
        row({"a": 1}),
        Recorded({"a": 1, "_expiry": 600}, CREATED, modified=True),
        WritePlan(
            update=Update("key", 7, dumps({"a": 1, "_expiry": 600}), NOW + timedelta(seconds=600)),
            cookie=CookieAction.SET,
            max_age=600,
            expire_date=NOW + timedelta(seconds=600),
        ),
    ),
    "the absolute timeout caps a new expiry, and the cookie follows": Case(
        row({"a": 1}, expires_in=12 * DAY),
        Recorded({"a": 2}, CREATED, modified=True),
        WritePlan(
            update=Update("key", 7, dumps({"a": 2}), CREATED + 5 * DAY),
            cookie=CookieAction.SET,
            max_age=int((2 * DAY).total_seconds()),
            expire_date=CREATED + 5 * DAY,
        ),
        replace(POLICY, absolute=5 * DAY),
    ),
    "a fixed cookie_max_age is sent instead of the expiry": Case(
        None,
        Recorded({"a": 1}, NOW, modified=True),
        WritePlan(
            insert=Insert(dumps({"a": 1}), NOW, NOW + 14 * DAY),
            cookie=CookieAction.SET,
            max_age=3600,
            expire_date=NOW + 14 * DAY,
        ),
        replace(POLICY, cookie_max_age=3600),
    ),
    "a first session is stored unconfirmed, for the unconfirmed timeout": Case(
        None,
        Recorded({"a": 1}, NOW, modified=True),
        WritePlan(
            insert=Insert(dumps({"a": 1}), NOW, NOW + HOUR, confirmed=False),
            cookie=CookieAction.SET,
            max_age=3600,
            expire_date=NOW + HOUR,
        ),
        replace(POLICY, unconfirmed=HOUR),
    ),
    "its cookie coming back confirms it for the full timeout": Case(
        replace(row({"a": 1}, expires_in=HOUR - timedelta(minutes=1)), confirmed=False),
        Recorded({"a": 1}, CREATED),
        WritePlan(
            update=Update("key", 7, dumps({"a": 1}), NOW + 14 * DAY),
            cookie=CookieAction.SET,
            max_age=TWO_WEEKS,
            expire_date=NOW + 14 * DAY,
        ),
        replace(POLICY, unconfirmed=HOUR),
    ),
    "a session regenerated from a live row is stored confirmed": Case(
        replace(row({"a": 1}), confirmed=False),
        Recorded({"a": 1}, CREATED, modified=True, regenerated=True, cookie_sent=True),
        WritePlan(
            delete=Delete("key", 7),
            insert=Insert(dumps({"a": 1}), CREATED, NOW + 14 * DAY),
            cookie=CookieAction.SET,
            max_age=TWO_WEEKS,
            expire_date=NOW + 14 * DAY,
        ),
        replace(POLICY, unconfirmed=HOUR),
    ),
    "a new row records its principal and counts against the limit": Case(
        None,
        Recorded(USER, NOW, modified=True),
        WritePlan(
            insert=Insert(dumps(USER), NOW, NOW + 14 * DAY, principal="42"),
            cookie=CookieAction.SET,
            max_age=TWO_WEEKS,
            expire_date=NOW + 14 * DAY,
            limit_principal="42",
        ),
        WITH_USERS,
    ),
    "a rewrite keeps the principal and does not count again": Case(
        row(USER),
        Recorded({**USER, "a": 2}, CREATED, modified=True, principal_read="42"),
        WritePlan(
            update=Update("key", 7, dumps({**USER, "a": 2}), NOW + 14 * DAY - HOUR, "42"),
            expire_date=NOW + 14 * DAY - HOUR,
        ),
        WITH_USERS,
    ),
    "a rewrite that gains a principal (no rotation) counts against the limit": Case(
        row({"a": 1}),
        Recorded(USER, CREATED, modified=True),
        WritePlan(
            update=Update("key", 7, dumps(USER), NOW + 14 * DAY - HOUR, "42"),
            expire_date=NOW + 14 * DAY - HOUR,
            limit_principal="42",
        ),
        replace(WITH_USERS, rotate_on_principal_change=False),
    ),
    "end_other_sessions keeps the row read": Case(
        row(USER),
        Recorded(USER, CREATED, modified=True, principal_read="42", end_others=True),
        WritePlan(expire_date=NOW + 14 * DAY - HOUR, end_others=EndOthers("42", "key")),
        WITH_USERS,
    ),
    "end_other_sessions after a rotation keeps the new row": Case(
        row({"a": 1}),
        Recorded(USER, CREATED, modified=True, regenerated=True, end_others=True),
        WritePlan(
            delete=Delete("key", 7),
            insert=Insert(dumps(USER), CREATED, NOW + 14 * DAY, principal="42"),
            cookie=CookieAction.SET,
            max_age=TWO_WEEKS,
            expire_date=NOW + 14 * DAY,
            end_others=EndOthers("42"),
            limit_principal="42",
        ),
        WITH_USERS,
    ),
    "end_other_sessions without a principal plans nothing more": Case(
        row({"a": 1}),
        Recorded({"a": 1}, CREATED, modified=True, end_others=True),
        WritePlan(expire_date=NOW + 14 * DAY - HOUR),
        WITH_USERS,
    ),
    "with merge_conflicts, an update carries what the request read and wrote": Case(
        row({"a": 1, "b": 1}),
        Recorded({"a": 2, "b": 1}, CREATED, modified=True, read_keys=frozenset("a"), written_keys=frozenset("a")),
        WritePlan(
            update=Update(
                "key",
                7,
                dumps({"a": 2, "b": 1}),
                NOW + 14 * DAY - HOUR,
                merge=Access(dumps({"a": 1, "b": 1}), frozenset("a") | READS_EXPIRY, frozenset("a")),
            ),
            expire_date=NOW + 14 * DAY - HOUR,
        ),
        MERGING,
    ),
    "with merge_conflicts, a change of principal (no rotation) never merges": Case(
        row({"a": 1}),
        Recorded(USER, CREATED, modified=True, read_keys=frozenset("a"), written_keys=frozenset({"auth.userid"})),
        WritePlan(
            update=Update("key", 7, dumps(USER), NOW + 14 * DAY - HOUR, "42"),
            expire_date=NOW + 14 * DAY - HOUR,
            limit_principal="42",
        ),
        replace(WITH_USERS, rotate_on_principal_change=False, merge_conflicts=True),
    ),
    "with merge_conflicts, an unchanged principal is read by every write": Case(
        row(USER),
        Recorded({**USER, "a": 2}, CREATED, modified=True, principal_read="42", written_keys=frozenset("a")),
        WritePlan(
            update=Update(
                "key",
                7,
                dumps({**USER, "a": 2}),
                NOW + 14 * DAY - HOUR,
                "42",
                merge=Access(dumps(USER), frozenset({"auth.userid"}) | READS_EXPIRY, frozenset("a")),
            ),
            expire_date=NOW + 14 * DAY - HOUR,
        ),
        replace(WITH_USERS, merge_conflicts=True),
    ),
    "with merge_conflicts, a confirming update may merge too": Case(
        replace(row({"a": 1}, expires_in=HOUR - timedelta(minutes=1)), confirmed=False),
        Recorded({"a": 1}, CREATED, read_all=True),
        WritePlan(
            update=Update(
                "key",
                7,
                dumps({"a": 1}),
                NOW + 14 * DAY,
                merge=Access(dumps({"a": 1}), READS_EXPIRY, frozenset(), True),
            ),
            cookie=CookieAction.SET,
            max_age=TWO_WEEKS,
            expire_date=NOW + 14 * DAY,
        ),
        replace(MERGING, unconfirmed=HOUR),
    ),
    "with merge_conflicts, an update after clear() never merges": Case(
        row({"a": 1}),
        Recorded({"b": 2}, CREATED, modified=True, cleared=True, written_keys=frozenset("ab")),
        WritePlan(update=Update("key", 7, dumps({"b": 2}), NOW + 14 * DAY - HOUR), expire_date=NOW + 14 * DAY - HOUR),
        MERGING,
    ),
    "with merge_conflicts, an update of the own expiry never merges": Case(
        row({"a": 1}),
        Recorded({"a": 1, "_expiry": 0}, CREATED, modified=True, written_keys=READS_EXPIRY),
        WritePlan(
            update=Update("key", 7, dumps({"a": 1, "_expiry": 0}), NOW + 14 * DAY),
            cookie=CookieAction.SET,
            max_age=None,
            expire_date=NOW + 14 * DAY,
        ),
        MERGING,
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_plan(case: Case) -> None:
    assert plan_write(case.loaded, case.recorded, NOW, case.policy, dumps) == case.plan


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_expiry_says_what_the_plan_writes(case: Case) -> None:
    planned = plan_write(case.loaded, case.recorded, NOW, case.policy, dumps).expire_date
    if planned is not None:
        assert expiry(case.loaded, case.recorded, NOW, case.policy) == planned


def test_plan_writes_only_when_it_has_statements() -> None:
    assert (NOTHING.writes, WritePlan(cookie=CookieAction.DELETE).writes, WritePlan(touch=Touch("k", NOW)).writes) == (
        False,
        False,
        True,
    )
    assert WritePlan(end_others=EndOthers("42", "key")).writes
